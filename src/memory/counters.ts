// Models: what a machine's life adds up to, as a subscriber of its events (events.ts): page faults
// handled (CPU and remote), notifier callbacks delivered, pages migrated, bytes moved between
// memories ("ram" or a device id), peer mappings made and dropped (on request or by invalidation),
// and the violations the safety checker found. Leaves out: time (the cost layer's) and links.
import type { Mm } from "./address-space.js";
import type { CopyCause, MachineListener, Violation } from "./events.js";
import type { NotifierRange } from "./mmu-notifier.js";

/** What both a machine's counters and one step's effects tally: notifier callbacks delivered, pages
 *  migrated, peer mappings made and dropped, violations found. */
export abstract class EventTally implements MachineListener {
  /** Interval-notifier invalidate callbacks delivered. */
  invalidations = 0;
  /** Pages whose CPU mapping moved to a new page in migrate_vma_finalize. */
  migrations = 0;
  /** Peer mappings made: entries a client driver set in its device table where it held none (a
   *  `peerMap` step, or a driver's own re-mapping inside `dma`); an entry kept as it was is not counted. */
  peerMaps = 0;
  /** Peer mappings dropped, whatever the reason; `peerUnmapsByInvalidation` of them in notifier callbacks. */
  peerUnmaps = 0;
  /** Peer mappings dropped inside interval-notifier invalidate callbacks. */
  peerUnmapsByInvalidation = 0;
  violations: Violation[] = [];

  invalidate(_mm: Mm, _range: NotifierRange, callbacks: number): void {
    this.invalidations += callbacks;
  }

  migrated(_mm: Mm, pages: number): void {
    this.migrations += pages;
  }

  peerMap(_device: string, pages: number): void {
    this.peerMaps += pages;
  }

  peerUnmap(_device: string, pages: number, byInvalidation: boolean): void {
    this.peerUnmaps += pages;
    if (byInvalidation) this.peerUnmapsByInvalidation += pages;
  }

  violation(v: Violation): void {
    this.violations.push(v);
  }
}

export class Counters extends EventTally {
  /** handle_mm_fault calls (CPU and remote faults). */
  faults = 0;
  /** Bytes per "from->to" pair of memories. */
  private readonly moved = new Map<string, number>();

  fault(_mm: Mm, _vpn: number, _remote: boolean): void {
    this.faults++;
  }

  faultRun(_mm: Mm, _vpn: number, n: number, _remote: boolean): void {
    this.faults += n;
  }

  copy(from: string, to: string, bytes: number, _cause: CopyCause): void {
    const key = `${from}->${to}`;
    this.moved.set(key, (this.moved.get(key) ?? 0) + bytes);
  }

  /** Bytes per "from->to" pair of memories (not per PCIe link: the cost layer has links). */
  bytesMoved(): Record<string, number> {
    return Object.fromEntries(this.moved);
  }
}
