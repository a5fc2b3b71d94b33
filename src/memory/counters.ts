// Models: what a run observes of the memory system: page faults handled, notifier callbacks
// delivered, pages migrated, and the bytes each DMA engine copy moved (recorded as transfers
// for a later cost layer). Leaves out: time; a transfer has no duration until the sim layer.

/** One copy by a device DMA engine: `from` and `to` name memory ("ram" or a device id). */
export interface Transfer {
  bytes: number;
  from: string;
  to: string;
}

/** A device access that reached a page after it was given back (freed). */
export interface Violation {
  device: string;
  /** Virtual address of the page the device used. */
  address: string;
  reason: string;
}

export class Counters {
  /** handle_mm_fault calls (CPU and remote faults). */
  faults = 0;
  /** Interval-notifier invalidate callbacks delivered. */
  invalidations = 0;
  /** Pages whose CPU mapping moved to a new page in migrate_vma_finalize. */
  migrations = 0;
  readonly transfers: Transfer[] = [];
  readonly violations: Violation[] = [];

  /** Records one DMA engine copy (callers batch pages: one record per operation and direction). */
  transfer(from: string, to: string, bytes: number): void {
    if (bytes <= 0) return;
    const last = this.transfers[this.transfers.length - 1];
    if (last && last.from === from && last.to === to) last.bytes += bytes;
    else this.transfers.push({ bytes, from, to });
  }

  /** Bytes per "from->to" pseudo-link (keyed by memory, not by PCIe link, until the cost layer). */
  bytesMoved(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const t of this.transfers) {
      const key = `${t.from}->${t.to}`;
      out[key] = (out[key] ?? 0) + t.bytes;
    }
    return out;
  }
}
