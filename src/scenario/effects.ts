// Models: what one step made the machine do, gathered by subscribing to the machine's events
// while the step runs: CPU and remote faults, notifier callbacks, migrated pages, the copies in
// the order they happened (a repeat of the same pair and cause extends the last one), peer
// mappings made and dropped, and violations. The cost layer prices a step from its effects; the
// run's counters are their sums. Leaves out: anything between steps (nothing happens there).
import type { Mm } from "../memory/address-space.js";
import { EventTally } from "../memory/counters.js";
import type { CopyCause } from "../memory/events.js";
import type { StepCounters } from "./results.js";

export interface CopyEffect {
  from: string;
  to: string;
  bytes: number;
  cause: CopyCause;
  /** Size of the pages that moved: 4 KiB, or 2 MiB for a THP migrated whole (what a migration's
   *  per-page costs count). */
  pageBytes: number;
}

export class StepEffects extends EventTally {
  cpuFaults = 0;
  remoteFaults = 0;
  copies: CopyEffect[] = [];
  /** Time drivers' callbacks waited for DMA in flight, ns. */
  fenceWaitNs = 0;
  /** Copies already priced (an async DMA's later copies are priced when the run ends). */
  charged = 0;

  /** Starts a new step. */
  reset(): void {
    this.cpuFaults = this.remoteFaults = this.invalidations = this.migrations = 0;
    this.peerMaps = this.peerUnmaps = this.peerUnmapsByInvalidation = 0;
    this.fenceWaitNs = 0;
    this.copies = [];
    this.violations = [];
  }

  fault(_mm: Mm, _vpn: number, remote: boolean): void {
    if (remote) this.remoteFaults++;
    else this.cpuFaults++;
  }

  faultRun(_mm: Mm, _vpn: number, n: number, remote: boolean): void {
    if (remote) this.remoteFaults += n;
    else this.cpuFaults += n;
  }

  fenceWait(_device: string, ns: number): void {
    this.fenceWaitNs += ns;
  }

  copy(from: string, to: string, bytes: number, cause: CopyCause, pageBytes: number): void {
    const last = this.copies[this.copies.length - 1];
    if (last && last.from === from && last.to === to && last.cause === cause && last.pageBytes === pageBytes) last.bytes += bytes;
    else this.copies.push({ from, to, bytes, cause, pageBytes });
  }

  counters(): StepCounters {
    return {
      faults: this.cpuFaults + this.remoteFaults, invalidations: this.invalidations, migrations: this.migrations,
      peerMaps: this.peerMaps, peerUnmaps: this.peerUnmaps, peerUnmapsByInvalidation: this.peerUnmapsByInvalidation,
    };
  }
}
