// Models: a device's page table for one process (an ODP MR's MTT, a GPU VM's page table), the one
// its DMA engine translates through: per virtual page a DMA address and DPTE_* flags, in blocks of
// 512 entries made on first mapping (memory/page-table.ts), which outlive the CPU's VMAs as a real
// device's table does. Beside what the driver programs it keeps the safety checker's stamp of each
// entry: the frame backing the address when it was programmed (for a pinned page, the page pinned) and that frame's generation, how the
// page is held (mirrored, pinned, or a dma-buf's), and the invalidation epochs that tell whether an
// invalidation of the page returned after the entry was made.
// Leaves out: huge device mappings (one entry per 4 KiB page) and the device's TLB (translations
// are taken from the table when a DMA starts).
import { BlockDirectory, inBlock, nextBlockStart, PTRS_PER_PTE } from "../memory/page-table.js";

/** How the page behind an entry is held, which decides what the checker may ask of it. */
export const HELD_MIRROR = 0;
/** Pinned by this device's driver (pin_user_pages / peer-memory get_pages): it cannot move. */
export const HELD_PINNED = 1;
/** Part of a dma-buf this device imported: its exporter notifies moves (move_notify). */
export const HELD_BUFFER = 2;

export interface TableBlock {
  dma: Float64Array;
  flags: Uint8Array;
  /** Checker's stamp: the frame backing the address when the entry was set (-1: none), its generation. */
  mapped: Int32Array;
  gen: Uint32Array;
  held: Uint8Array;
  /** Invalidation epoch when the entry was set, and of the last invalidation of the page that returned. */
  setEpoch: Uint32Array;
  invEpoch: Uint32Array;
}

function newBlock(): TableBlock {
  const n = PTRS_PER_PTE;
  return {
    dma: new Float64Array(n), flags: new Uint8Array(n), mapped: new Int32Array(n), gen: new Uint32Array(n), held: new Uint8Array(n),
    setEpoch: new Uint32Array(n), invEpoch: new Uint32Array(n),
  };
}

/** What the table asks of the machine when an entry is set or dropped. */
export interface TableStamps {
  /** The frame an entry for `vpn` to `dmaAddr` stands for (-1: none): the process's page now, or the page the driver pinned. */
  backing(vpn: number, dmaAddr: number, flags: number): number;
  generation(frame: number): number;
  /** How this device holds `vpn`'s page (HELD_*). */
  held(vpn: number, frame: number): number;
  /** `n` entries were dropped (on request, or inside an invalidation callback). */
  dropped(n: number): void;
}

export class DeviceTable {
  private readonly blocks = new BlockDirectory<TableBlock>(newBlock);
  private epoch = 0;
  /** Entries made where there was none, since the owner last took the count (peer mappings made). */
  made = 0;

  constructor(private readonly stamps: TableStamps) {}

  /** Programs page `vpn`: DMA goes to `dmaAddr` with `flags` (DPTE_*, non-zero). */
  set(vpn: number, dmaAddr: number, flags: number): void {
    const b = this.blocks.ensure(vpn);
    const j = inBlock(vpn);
    const frame = this.stamps.backing(vpn, dmaAddr, flags);
    if (b.flags[j] === 0) this.made++;
    b.dma[j] = dmaAddr;
    b.flags[j] = flags;
    b.mapped[j] = frame;
    b.gen[j] = this.stamps.generation(frame);
    b.held[j] = this.stamps.held(vpn, frame);
    b.setEpoch[j] = this.epoch;
  }

  flags(vpn: number): number {
    const b = this.blocks.get(vpn);
    return b ? b.flags[inBlock(vpn)] : 0;
  }

  address(vpn: number): number {
    const b = this.blocks.get(vpn);
    return b ? b.dma[inBlock(vpn)] : 0;
  }

  /** The block and index holding `vpn`'s entry, or null (for the DMA engine). */
  slot(vpn: number): TableBlock | undefined {
    return this.blocks.get(vpn);
  }

  /** Drops the entries of [start, end), calling `dropped` for each; returns how many. */
  clear(start: number, end: number, dropped?: (vpn: number, dmaAddr: number, flags: number) => void): number {
    let n = 0;
    this.visit(start, end, (b, j, vpn) => {
      if (b.flags[j] === 0) return;
      const flags = b.flags[j];
      b.flags[j] = 0;
      n++;
      dropped?.(vpn, b.dma[j], flags);
    });
    this.stamps.dropped(n);
    return n;
  }

  /** Calls `visit` for each entry of [start, end). */
  forEach(start: number, end: number, visit: (vpn: number, dmaAddr: number, flags: number) => void): void {
    this.visit(start, end, (b, j, vpn) => {
      if (b.flags[j] !== 0) visit(vpn, b.dma[j], b.flags[j]);
    });
  }

  /** An invalidation of [start, end) returned to the core: entries made before it may no longer be used. */
  invalidated(start: number, end: number): void {
    const e = ++this.epoch;
    this.visit(start, end, (b, j) => {
      b.invEpoch[j] = e;
    });
  }

  /** Entries set in [start, end). */
  count(start: number, end: number): number {
    let n = 0;
    this.visit(start, end, (b, j) => {
      if (b.flags[j] !== 0) n++;
    });
    return n;
  }

  /** Calls `f(block, index, vpn)` for every entry slot of [start, end) in blocks that exist. */
  private visit(start: number, end: number, f: (b: TableBlock, j: number, vpn: number) => void): void {
    const dir = this.blocks;
    for (let v = dir.next(start, end); v < end; ) {
      const b = dir.get(v)!;
      const stop = Math.min(end, nextBlockStart(v));
      for (let j = inBlock(v), vpn = v; vpn < stop; j++, vpn++) f(b, j, vpn);
      v = dir.next(stop, end);
    }
  }
}
