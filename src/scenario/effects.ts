// Models: what one step made the machine do, gathered by subscribing to the machine's events
// while the step runs: CPU and remote faults, notifier callbacks, migrated pages, the copies in
// the order they happened (a repeat of the same pair and cause extends the last one), peer
// mappings made and dropped, and violations. The cost layer prices a step from its effects; the
// run's counters are their sums. Leaves out: anything between steps (nothing happens there).
import type { Mm } from "../memory/address-space.js";
import type { CopyCause, MachineListener, Violation } from "../memory/events.js";
import type { NotifierRange } from "../memory/mmu-notifier.js";
import type { StepCounters } from "./results.js";

export interface CopyEffect {
  from: string;
  to: string;
  bytes: number;
  cause: CopyCause;
}

export class StepEffects implements MachineListener {
  cpuFaults = 0;
  remoteFaults = 0;
  invalidations = 0;
  migrations = 0;
  peerMaps = 0;
  peerUnmaps = 0;
  peerUnmapsByInvalidation = 0;
  copies: CopyEffect[] = [];
  /** Copies already priced (an async DMA's later copies are priced when the run ends). */
  charged = 0;
  violations: Violation[] = [];

  /** Starts a new step. */
  reset(): void {
    this.cpuFaults = this.remoteFaults = this.invalidations = this.migrations = 0;
    this.peerMaps = this.peerUnmaps = this.peerUnmapsByInvalidation = 0;
    this.copies = [];
    this.violations = [];
  }

  fault(_mm: Mm, _vpn: number, remote: boolean): void {
    if (remote) this.remoteFaults++;
    else this.cpuFaults++;
  }

  invalidate(_mm: Mm, _range: NotifierRange, callbacks: number): void {
    this.invalidations += callbacks;
  }

  migrated(_mm: Mm, pages: number): void {
    this.migrations += pages;
  }

  copy(from: string, to: string, bytes: number, cause: CopyCause): void {
    const last = this.copies[this.copies.length - 1];
    if (last && last.from === from && last.to === to && last.cause === cause) last.bytes += bytes;
    else this.copies.push({ from, to, bytes, cause });
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

  counters(): StepCounters {
    return {
      faults: this.cpuFaults + this.remoteFaults, invalidations: this.invalidations, migrations: this.migrations,
      peerMaps: this.peerMaps, peerUnmaps: this.peerUnmaps, peerUnmapsByInvalidation: this.peerUnmapsByInvalidation,
    };
  }
}
