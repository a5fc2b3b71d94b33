// Models: page tables as the kernel allocates them: entries live in tables of PTRS_PER_PTE (512)
// entries, allocated on first touch (pte_alloc) under a sparse directory with one slot per PUD
// (1 GiB of pages), so untouched memory costs nothing and every walk skips what was never
// touched (walk_page_range does not descend into empty PMDs). `BlockDirectory` is that sparse
// array of fixed-size blocks, reused by the device page tables of the drivers; `Region` is a
// mapping's CPU page table: 32-bit PTEs (pte.ts) plus which huge blocks are mapped by one PMD or
// PUD leaf. Leaves out: freeing empty tables before the mapping goes (free_pgtables frees them at
// munmap; here a table stays until its mapping is dropped).

/** log2 of the entries per table block (PTRS_PER_PTE on x86-64). */
export const PT_SHIFT = 9;
export const PTRS_PER_PTE = 1 << PT_SHIFT;
// Module-local copies for the code below: V8 reloads an exported binding from its cell at each
// use in optimized code, but folds a module-local const.
const SHIFT = PT_SHIFT;
const ENTRIES = PTRS_PER_PTE;
/** Pages under one directory slot (a PUD: 2^18 pages, 1 GiB). */
const DIR_PAGES = 1 << 18;
const BLOCKS_PER_DIR = DIR_PAGES / ENTRIES;
const LOW = ENTRIES - 1;

/** Entries below this index take 32-bit integer shifts; entries go up to 2^35. */
const INT_LIMIT = 2 ** 31;

/** Index of the directory slot holding entry `i`. */
function dirOf(i: number): number {
  return i < INT_LIMIT ? i >>> 18 : Math.floor(i / DIR_PAGES);
}

/** Index of entry `i`'s block inside its directory slot. */
function slotOf(i: number): number {
  return (i < INT_LIMIT ? i >>> SHIFT : Math.floor(i / ENTRIES)) & (BLOCKS_PER_DIR - 1);
}

/** First entry of the block after the one holding `i`. */
export function nextBlockStart(i: number): number {
  return i < INT_LIMIT - ENTRIES ? ((i >>> SHIFT) + 1) << SHIFT : (Math.floor(i / ENTRIES) + 1) * ENTRIES;
}

/** Offset of entry `i` inside its block. */
export function inBlock(i: number): number {
  return i & LOW;
}

/** A sparse array of blocks, each covering PTRS_PER_PTE consecutive entries, made on first touch. */
export class BlockDirectory<B> {
  private readonly dirs: Array<Array<B | undefined> | undefined> = [];
  /** Blocks allocated. */
  count = 0;

  constructor(private readonly make: () => B) {}

  /** The block holding entry `i`, or undefined when it was never touched. */
  get(i: number): B | undefined {
    const d = this.dirs[dirOf(i)];
    return d === undefined ? undefined : d[slotOf(i)];
  }

  /** The block holding entry `i`, made (zeroed) when missing. */
  ensure(i: number): B {
    const di = dirOf(i);
    let d = this.dirs[di];
    if (d === undefined) {
      d = new Array<B | undefined>(BLOCKS_PER_DIR).fill(undefined);
      this.dirs[di] = d;
    }
    const s = slotOf(i);
    let b = d[s];
    if (b === undefined) {
      b = this.make();
      d[s] = b;
      this.count++;
    }
    return b;
  }

  /** Sets the block holding entry `i` (a copy made elsewhere). */
  put(i: number, b: B): void {
    const di = dirOf(i);
    let d = this.dirs[di];
    if (d === undefined) {
      d = new Array<B | undefined>(BLOCKS_PER_DIR).fill(undefined);
      this.dirs[di] = d;
    }
    if (d[slotOf(i)] === undefined) this.count++;
    d[slotOf(i)] = b;
  }

  /** The first entry >= `i` and < `end` whose block exists, or `end` when none: walks skip the rest. */
  next(i: number, end: number): number {
    while (i < end) {
      const di = dirOf(i);
      const d = this.dirs[di];
      if (d === undefined) {
        i = (di + 1) * DIR_PAGES;
        continue;
      }
      for (let s = slotOf(i); s < BLOCKS_PER_DIR; s++) {
        if (d[s] !== undefined) return Math.min(end, Math.max(i, di * DIR_PAGES + s * ENTRIES));
      }
      i = (di + 1) * DIR_PAGES;
    }
    return end;
  }

  /** Drops the block holding entry `i` (its entries read as never touched again). */
  delete(i: number): void {
    const d = this.dirs[dirOf(i)];
    if (d === undefined || d[slotOf(i)] === undefined) return;
    d[slotOf(i)] = undefined;
    this.count--;
  }

  /** Calls `visit(block, first entry index of the block)` for every block, in entry order. */
  forEach(visit: (block: B, first: number) => void): void {
    for (let di = 0; di < this.dirs.length; di++) {
      const d = this.dirs[di];
      if (d === undefined) continue;
      for (let s = 0; s < BLOCKS_PER_DIR; s++) {
        const b = d[s];
        if (b !== undefined) visit(b, di * DIR_PAGES + s * ENTRIES);
      }
    }
  }
}

/** Tables per slab at most: a slab is one allocation (64 tables: 128 KiB) shared by the tables cut from it. */
const SLAB_TABLES = 64;

/**
 * A maker of zeroed 32-bit tables of PTRS_PER_PTE entries for a BlockDirectory, cut from slabs (one
 * allocation per slab instead of one per table); slabs double from one table to SLAB_TABLES, so a
 * small directory holds little more than its tables. A slab stays while any table cut from it does.
 */
export function uint32Tables(): () => Uint32Array {
  let slab = new ArrayBuffer(0);
  let cut = 0;
  let tables = 0;
  return () => {
    if (cut === tables) {
      tables = Math.min(SLAB_TABLES, Math.max(1, tables * 2));
      slab = new ArrayBuffer(tables * ENTRIES * Uint32Array.BYTES_PER_ELEMENT);
      cut = 0;
    }
    return new Uint32Array(slab, cut++ * ENTRIES * Uint32Array.BYTES_PER_ELEMENT, ENTRIES);
  };
}

/**
 * One mapping's CPU page table: a PTE per page (0 = none) in blocks made on first touch, and the
 * huge blocks (of `order`) mapped by a single PMD or PUD leaf. VMAs split from one mmap share it.
 */
export class Region {
  readonly blocks = new BlockDirectory<Uint32Array>(uint32Tables());
  /** Huge block numbers (entry index / 2^order) mapped by one huge leaf entry. */
  private readonly hugeBlocks = new Set<number>();

  /** `pages` entries; huge blocks of `order` (0 when the mapping never maps huge blocks). */
  constructor(readonly pages: number, readonly order: number) {}

  /** The PTE of entry `i` (0 when its table was never made). */
  get(i: number): number {
    const b = this.blocks.get(i);
    return b === undefined ? 0 : b[i & LOW];
  }

  /** Stores the PTE of entry `i`, making its table if needed (pte_alloc). */
  set(i: number, pte: number): void {
    this.blocks.ensure(i)[i & LOW] = pte;
  }

  /** The table holding entry `i`, or undefined. */
  block(i: number): Uint32Array | undefined {
    return this.blocks.get(i);
  }

  /** The table holding entry `i`, made when missing. */
  table(i: number): Uint32Array {
    return this.blocks.ensure(i);
  }

  /** The first entry >= `i` (< `end`) whose table exists, or `end`. */
  next(i: number, end: number): number {
    return this.blocks.next(i, end);
  }

  /** Whether entry `i`'s huge block is mapped by one huge leaf (PMD/PUD). */
  isHuge(i: number): boolean {
    return this.order > 0 && this.hugeBlocks.size > 0 && this.hugeBlocks.has(Math.floor(i / (1 << this.order)));
  }

  /** Marks entry `i`'s huge block as mapped by one leaf (true) or by PTEs (false: split). */
  setHuge(i: number, huge: boolean): void {
    if (this.order === 0) return;
    const b = Math.floor(i / (1 << this.order));
    if (huge) this.hugeBlocks.add(b);
    else this.hugeBlocks.delete(b);
  }

  /** Entries [i0, i1) are no longer mapped by huge leaves (every huge block they touch is split). */
  clearHuge(i0: number, i1: number): void {
    const size = 1 << this.order;
    for (const h of this.hugeBlocks) if ((h + 1) * size > i0 && h * size < i1) this.hugeBlocks.delete(h);
  }

  /** Frees the table holding entry `i` (free_pgtables). */
  dropBlock(i: number): void {
    this.blocks.delete(i);
  }

  /** Whether any huge block is mapped by one leaf. */
  get anyHuge(): boolean {
    return this.hugeBlocks.size > 0;
  }

  /** Entries [i0, i1) hold no PTE. */
  empty(i0: number, i1: number): boolean {
    for (let i = this.blocks.next(i0, i1); i < i1; ) {
      const b = this.blocks.get(i)!;
      const stop = Math.min(i1, nextBlockStart(i));
      for (let j = i & LOW, n = j + (stop - i); j < n; j++) if (b[j] !== 0) return false;
      i = this.blocks.next(stop, i1);
    }
    return true;
  }

  /** Bytes of page-table state held (tables made). */
  bytes(): number {
    return this.blocks.count * ENTRIES * Uint32Array.BYTES_PER_ELEMENT;
  }

  /**
   * Copies entries [i0, i1) of `from` (a mapping of the same layout) into this table, with the
   * huge blocks among them: fork's copy_page_range, which copies only the tables that exist.
   */
  copyFrom(from: Region, i0: number, i1: number): void {
    for (let i = from.blocks.next(i0, i1); i < i1; ) {
      const b = from.blocks.get(i)!;
      const stop = Math.min(i1, nextBlockStart(i));
      if ((i & LOW) === 0 && stop - i === ENTRIES) this.blocks.put(i, b.slice());
      else this.blocks.ensure(i).set(b.subarray(i & LOW, (i & LOW) + (stop - i)), i & LOW);
      i = from.blocks.next(stop, i1);
    }
    if (this.order === 0) return;
    const size = 1 << this.order;
    for (const h of from.hugeBlocks) if (h * size >= i0 && (h + 1) * size <= i1) this.hugeBlocks.add(h);
  }
}
