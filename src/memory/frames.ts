// Models: physical page frames (struct page essentials) as dense typed arrays: refcount, mapcount
// and contents (one number per page, DESIGN §4), carved in 256 MiB chunks into pools: system RAM
// per NUMA node and ZONE_DEVICE page maps. Frame 0 is the shared zero page. A device page whose
// last reference goes is handed to its driver (page_free) and published as a page-free event.
// On request (the DMA safety checker), a generation number per frame counts its frees, so a
// mapping made before a free can tell the frame was reused since.
// Leaves out: physical addresses of RAM frames, zones, LRU lists, and folio metadata beyond
// contiguous allocation (a large folio is 512 adjacent frames, each with its own counts).
import { MachineEvents } from "./events.js";
import type { DevPagemap } from "./pagemap.js";
import { MEMORY_DEVICE_COHERENT, MEMORY_DEVICE_PCI_P2PDMA, MEMORY_DEVICE_PRIVATE } from "./pagemap.js";

/** Frames per chunk (DEVMEM_CHUNK_SIZE of lib/test_hmm.c: 256 MiB). */
export const CHUNK_SHIFT = 16;
export const CHUNK_PAGES = 1 << CHUNK_SHIFT;
/** Frame numbers fit 26 bits (PTE and hmm_pfn encodings): 256 GiB of modelled memory in use. */
export const FRAME_BITS = 26;
export const MAX_FRAMES = 1 << FRAME_BITS;
/** Frames one reservation makes room for at most (16 GiB of pages). */
const RESERVE_PAGES = 1 << 22;
/** The shared zero page (mm/memory.c ZERO_PAGE, is_zero_pfn). */
export const ZERO_PFN = 0;

/** Arrays of recycled tables, all zero, for the next tables made in this thread. */
const spare: { refcount: Int32Array; mapcount: Int32Array; content: Float64Array; generation: Uint32Array | null }[] = [];
const MAX_SPARE = 2;

// Module-local copies for put(): V8 keeps an exported binding in a cell that optimized code
// reloads at each use, but folds a module-local const.
const SHIFT = CHUNK_SHIFT;
const ZERO = ZERO_PFN;
const LINK = freeLink;

/** Pool kinds, numeric for hot loops. */
export const POOL_RAM = 0;
export const POOL_PRIVATE = MEMORY_DEVICE_PRIVATE;
export const POOL_COHERENT = MEMORY_DEVICE_COHERENT;
export const POOL_P2PDMA = MEMORY_DEVICE_PCI_P2PDMA;

/** What a free frame's refcount holds: the next frame on its pool's free list (-1 ends it), encoded below zero. */
export function freeLink(next: number): number {
  return -(next + 2);
}

export interface Pool {
  id: number;
  kind: number;
  /** Memory name for transfers: "ram" or the device id. */
  label: string;
  numaNode: number;
  capacityPages: number;
  inUse: number;
  carved: number;
  pagemap: DevPagemap | null;
  /** Free list head (frames linked through refcount, see FrameTable.free). */
  freeHead: number;
  bump: number;
  bumpEnd: number;
}

export class FrameTable {
  refcount: Int32Array;
  mapcount: Int32Array;
  content: Float64Array;
  /** Pool id of each chunk. */
  readonly chunkPool = new Int16Array(MAX_FRAMES >>> CHUNK_SHIFT).fill(-1);
  /** Pool kind of each chunk (POOL_*, -1 when not carved): one load per page in hot loops. */
  readonly chunkKind = new Int8Array(MAX_FRAMES >>> CHUNK_SHIFT).fill(-1);
  /** Offset of each chunk inside its pool, in pages (a device page's offset in device memory). */
  readonly chunkOffset = new Int32Array(MAX_FRAMES >>> CHUNK_SHIFT);
  readonly pools: Pool[] = [];
  /** Frees of each frame since generations were enabled (null until then: no cost per page). */
  generation: Uint32Array | null = null;
  /** A recycled generation array, zeroed, taken when generations are enabled. */
  private spareGeneration: Uint32Array | null = null;
  private carvedFrames = 0;

  constructor(private readonly events = new MachineEvents([])) {
    const s = spare.pop();
    this.refcount = s?.refcount ?? new Int32Array(CHUNK_PAGES);
    this.mapcount = s?.mapcount ?? new Int32Array(CHUNK_PAGES);
    this.content = s?.content ?? new Float64Array(CHUNK_PAGES);
    this.spareGeneration = s?.generation ?? null;
  }

  /** Starts counting frees per frame (idempotent). */
  enableGenerations(): void {
    const g = this.spareGeneration;
    if (this.generation === null) this.generation = g !== null && g.length === this.refcount.length ? g : new Uint32Array(this.refcount.length);
    this.spareGeneration = null;
  }

  /**
   * The table is no longer used (its run is over): the frames it wrote are zeroed and its arrays
   * kept for the next table made in this thread, so that machines made one after another (a
   * sweep's points, an explorer's runs) neither allocate nor grow their tables again.
   */
  recycle(): void {
    const { refcount, mapcount, content } = this;
    const generation = this.generation ?? this.spareGeneration;
    for (let c = 0; c < this.carvedFrames >>> SHIFT; c++) {
      const pool = this.pools[this.chunkPool[c]];
      const start = c << SHIFT;
      // Frames below the pool's bump pointer may have been written; those past it never were.
      let end = pool.bump >= start && pool.bump < start + CHUNK_PAGES ? pool.bump : start + CHUNK_PAGES;
      end = Math.min(end, refcount.length);
      if (end <= start) continue;
      refcount.fill(0, start, end);
      mapcount.fill(0, start, end);
      content.fill(0, start, end);
      generation?.fill(0, start, end);
    }
    if (spare.length < MAX_SPARE) spare.push({ refcount, mapcount, content, generation: generation !== null && generation.length === refcount.length ? generation : null });
    this.pools.length = 0;
    this.carvedFrames = 0;
  }

  /** Frees of `frame` since generations were enabled (0 when they are not). */
  generationOf(frame: number): number {
    const g = this.generation;
    return g !== null && frame >= 0 && frame < g.length ? g[frame] : 0;
  }

  addPool(kind: number, label: string, capacityPages: number, numaNode: number, pagemap: DevPagemap | null): Pool {
    const pool: Pool = {
      id: this.pools.length, kind, label, numaNode, capacityPages, inUse: 0, carved: 0, pagemap,
      freeHead: -1, bump: 0, bumpEnd: 0,
    };
    this.pools.push(pool);
    // memremap_pages creates a device's struct pages at probe time: room for the metadata of up to
    // 4 GiB of it is made now, so that filling the device does not pay for growing the tables.
    if (pagemap !== null) this.grow(Math.min(MAX_FRAMES, this.carvedFrames + Math.min(capacityPages, 1 << 20) + CHUNK_PAGES));
    return pool;
  }

  poolOf(frame: number): Pool {
    return this.pools[this.chunkPool[frame >>> SHIFT]];
  }

  kindOf(frame: number): number {
    return this.pools[this.chunkPool[frame >>> CHUNK_SHIFT]].kind;
  }

  /** Allocates one frame (refcount 1, mapcount 0, content 0), or -1 when the pool is full. */
  alloc(pool: Pool): number {
    if (pool.inUse >= pool.capacityPages) return -1;
    const f = pool.freeHead;
    if (f < 0) {
      if (pool.bump >= pool.bumpEnd && !this.carve(pool)) return -1;
      pool.inUse++;
      // A frame past the bump pointer was never handed out: its mapcount and content are still 0.
      this.refcount[pool.bump] = 1;
      return pool.bump++;
    }
    pool.freeHead = -this.refcount[f] - 2; // the inverse of freeLink
    pool.inUse++;
    this.refcount[f] = 1;
    this.mapcount[f] = 0;
    this.content[f] = 0;
    return f;
  }

  /**
   * Allocates up to `n` frames into `out` (from index 0), one alloc() each, in one call: returns
   * how many it got (fewer when the pool is full).
   */
  allocMany(pool: Pool, n: number, out: Int32Array): number {
    const { refcount, mapcount, content } = this;
    let k = 0;
    for (; k < n; k++) {
      if (pool.inUse >= pool.capacityPages) break;
      const f = pool.freeHead;
      if (f < 0) {
        if (pool.bump >= pool.bumpEnd) {
          k += this.allocManyAfterCarve(pool, n - k, out, k);
          break;
        }
        pool.inUse++;
        refcount[pool.bump] = 1;
        out[k] = pool.bump++;
        continue;
      }
      pool.freeHead = -refcount[f] - 2; // the inverse of freeLink
      pool.inUse++;
      refcount[f] = 1;
      mapcount[f] = 0;
      content[f] = 0;
      out[k] = f;
    }
    return k;
  }

  /** The rest of allocMany once the pool needs a new chunk (which may grow the tables). */
  private allocManyAfterCarve(pool: Pool, n: number, out: Int32Array, at: number): number {
    let k = 0;
    for (; k < n; k++) {
      const f = this.alloc(pool);
      if (f < 0) break;
      out[at + k] = f;
    }
    return k;
  }

  /**
   * Allocates `n` (a power of two) adjacent frames, as a large folio, or -1: naturally aligned
   * inside a chunk, or (a folio larger than a chunk: a 1 GiB hugetlb page) in fresh chunks carved
   * back to back.
   */
  allocContig(pool: Pool, n: number): number {
    if (pool.inUse + n > pool.capacityPages) return -1;
    if (n > CHUNK_PAGES) return this.allocChunks(pool, n);
    let start = (pool.bump + n - 1) & ~(n - 1);
    if (start + n > pool.bumpEnd) {
      this.releaseBump(pool, pool.bumpEnd);
      if (!this.carve(pool)) return -1;
      start = pool.bump;
    }
    this.releaseBump(pool, start);
    pool.bump = start + n;
    pool.inUse += n;
    this.refcount.fill(1, start, start + n);
    this.mapcount.fill(0, start, start + n);
    this.content.fill(0, start, start + n);
    return start;
  }

  get(frame: number): void {
    this.refcount[frame]++;
  }

  /** put_page: drops a reference; at zero a device page goes to its driver's pageFree, then back to the pool. */
  put(frame: number): void {
    if (frame === ZERO) return;
    const r = --this.refcount[frame];
    if (r > 0) return;
    const pool = this.pools[this.chunkPool[frame >>> SHIFT]];
    if (pool.pagemap !== null) {
      pool.pagemap.ops.pageFree(frame);
      this.events.pageFree(frame, pool);
    }
    this.free(pool, frame);
  }

  isFree(frame: number): boolean {
    return frame !== ZERO_PFN && this.refcount[frame] <= 0;
  }

  private free(pool: Pool, frame: number): void {
    if (this.generation !== null) this.generation[frame]++;
    this.refcount[frame] = LINK(pool.freeHead);
    this.mapcount[frame] = 0;
    pool.freeHead = frame;
    pool.inUse--;
  }

  /** Frames skipped by an aligned allocation go to the free list. */
  private releaseBump(pool: Pool, upTo: number): void {
    for (let f = pool.bump; f < upTo; f++) {
      pool.inUse++;
      this.free(pool, f);
    }
    pool.bump = upTo;
  }

  /** `n` frames (a multiple of the chunk size) in chunks carved back to back for `pool`, or -1. */
  private allocChunks(pool: Pool, n: number): number {
    const k = Math.ceil(n / CHUNK_PAGES);
    if (pool.carved + k * CHUNK_PAGES > pool.capacityPages || this.carvedFrames + k * CHUNK_PAGES > MAX_FRAMES) return -1;
    this.releaseBump(pool, pool.bumpEnd);
    const first = this.carvedFrames;
    this.carvedFrames += k * CHUNK_PAGES;
    this.grow(this.carvedFrames);
    for (let c = 0; c < k; c++) {
      const chunk = (first >>> CHUNK_SHIFT) + c;
      this.chunkPool[chunk] = pool.id;
      this.chunkKind[chunk] = pool.kind;
      this.chunkOffset[chunk] = pool.carved;
      pool.carved += CHUNK_PAGES;
    }
    pool.bump = first + n;
    pool.bumpEnd = first + k * CHUNK_PAGES;
    pool.inUse += n;
    this.refcount.fill(1, first, first + n);
    return first;
  }

  private carve(pool: Pool): boolean {
    if (pool.carved >= pool.capacityPages || this.carvedFrames + CHUNK_PAGES > MAX_FRAMES) return false;
    const first = this.carvedFrames;
    this.carvedFrames += CHUNK_PAGES;
    this.grow(this.carvedFrames);
    this.chunkPool[first >>> CHUNK_SHIFT] = pool.id;
    this.chunkKind[first >>> CHUNK_SHIFT] = pool.kind;
    this.chunkOffset[first >>> CHUNK_SHIFT] = pool.carved;
    pool.carved += CHUNK_PAGES;
    pool.bump = first;
    pool.bumpEnd = first + CHUNK_PAGES;
    return true;
  }

  /**
   * Makes room for `pages` more frames than are carved now (up to RESERVE_PAGES of them): for a
   * mapping about to be populated, so that the tables grow while they are nearly empty.
   */
  reserve(pages: number): void {
    this.grow(Math.min(MAX_FRAMES, this.carvedFrames + Math.min(pages, RESERVE_PAGES) + CHUNK_PAGES));
  }

  /**
   * Makes room for `frames` frames: the tables grow fourfold (the OS commits only what is used), so
   * that few copies are made; only carved frames are copied (nothing past them was ever written).
   */
  private grow(frames: number): void {
    if (frames <= this.refcount.length) return;
    let cap = this.refcount.length;
    while (cap < frames) cap *= 4;
    cap = Math.min(cap, MAX_FRAMES);
    const used = Math.min(this.carvedFrames, this.refcount.length);
    const r = new Int32Array(cap);
    r.set(this.refcount.subarray(0, used));
    const m = new Int32Array(cap);
    m.set(this.mapcount.subarray(0, used));
    const c = new Float64Array(cap);
    c.set(this.content.subarray(0, used));
    this.refcount = r;
    this.mapcount = m;
    this.content = c;
    this.spareGeneration = null;
    if (this.generation !== null) {
      const g = new Uint32Array(cap);
      g.set(this.generation.subarray(0, used));
      this.generation = g;
    }
  }
}
