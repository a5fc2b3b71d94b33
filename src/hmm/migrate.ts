// Models: migrate_vma (mm/migrate_device.c): setup collects the pages of one VMA range selected by
// flags and owner after a MIGRATE notifier, replacing their PTEs by migration entries and
// skipping pinned ones; the driver fills dst; pages installs new pages for holes and drops what
// cannot move; finalize points the PTEs at the new pages (or back at the old) and frees the old.
// Simplifications: no rmap, so only this mm's mapping of a page moves (a page other processes
// also map stays theirs, as if COW had split it); a huge block's 512 entries each carry their
// own frame, the first also MIGRATE_PFN_COMPOUND.
import { Mm, rangeEmpty } from "../memory/address-space.js";
import { EINVAL } from "../memory/errno.js";
import { CHUNK_SHIFT, freeLink, Pool, POOL_COHERENT, POOL_P2PDMA, POOL_PRIVATE, POOL_RAM, ZERO_PFN } from "../memory/frames.js";
import { MMU_NOTIFY_MIGRATE } from "../memory/mmu-notifier.js";
import {
  KIND_DEVICE_PRIVATE, KIND_MIGRATION, KIND_NONE, KIND_PRESENT, PTE_KIND_SHIFT, PTE_PFN_MASK, PTE_WRITE, makePte,
} from "../memory/pte.js";
import { PROT_WRITE, Vma, vmaIsAnonymous } from "../memory/vma.js";

/** MIGRATE_PFN_* (include/linux/migrate.h). */
export const MIGRATE_PFN_VALID = 1 << 0;
export const MIGRATE_PFN_MIGRATE = 1 << 1;
export const MIGRATE_PFN_WRITE = 1 << 3;
export const MIGRATE_PFN_COMPOUND = 1 << 4;
export const MIGRATE_PFN_SHIFT = 6;

/** enum migrate_vma_direction. */
export const MIGRATE_VMA_SELECT_SYSTEM = 1 << 0;
export const MIGRATE_VMA_SELECT_DEVICE_PRIVATE = 1 << 1;
export const MIGRATE_VMA_SELECT_DEVICE_COHERENT = 1 << 2;
export const MIGRATE_VMA_SELECT_COMPOUND = 1 << 3;

// Module-local copies of the constants that the hot loops use: V8 keeps an imported or exported
// binding in a cell that optimized code reloads and re-checks at each use, but folds a
// module-local const into the code (about 2x on the collect loop).
const VALID = MIGRATE_PFN_VALID;
const MIGRATE = MIGRATE_PFN_MIGRATE;
const COMPOUND = MIGRATE_PFN_COMPOUND;
const SHIFT = MIGRATE_PFN_SHIFT;
const SELECT_SYSTEM = MIGRATE_VMA_SELECT_SYSTEM;
const PFN_MASK = PTE_PFN_MASK;
const KIND_SHIFT = PTE_KIND_SHIFT;
const WRITE_BIT = PTE_WRITE;
const CHUNK = CHUNK_SHIFT;
const NONE = KIND_NONE;
const PRESENT = KIND_PRESENT;
const MIGRATION = KIND_MIGRATION;
const DEVICE_PRIVATE = KIND_DEVICE_PRIVATE;
const RAM = POOL_RAM;
const PRIVATE_POOL = POOL_PRIVATE;
const P2PDMA_POOL = POOL_P2PDMA;
const ZERO = ZERO_PFN;
const LINK = freeLink;
/**
 * Entries per call of a hot loop: a function called once per block is compiled whole after a
 * few blocks, where one call over a whole large range would run until V8 enters it mid-loop.
 */
const BLOCK = 4096;

/** migrate_pfn(pfn). */
export function migratePfn(frame: number): number {
  return ((frame << MIGRATE_PFN_SHIFT) | MIGRATE_PFN_VALID) >>> 0;
}

export function migratePfnToFrame(mpfn: number): number {
  return mpfn & MIGRATE_PFN_VALID ? mpfn >>> MIGRATE_PFN_SHIFT : -1;
}

/** struct migrate_vma (page numbers). */
export interface MigrateVma {
  mm: Mm;
  start: number;
  end: number;
  src: Uint32Array;
  dst: Uint32Array;
  npages: number;
  cpages: number;
  pgmapOwner: unknown;
  flags: number;
  /** vmf->page when called from migrate_to_ram, else -1. */
  faultPage: number;
  /** Set by setup: the VMA the range lies in. */
  vma?: Vma;
}

export function newMigrateVma(mm: Mm, start: number, end: number, flags: number, pgmapOwner: unknown, faultPage = -1): MigrateVma {
  const n = Math.max(0, end - start);
  return { mm, start, end, src: new Uint32Array(n), dst: new Uint32Array(n), npages: 0, cpages: 0, pgmapOwner, flags, faultPage };
}

/** migrate_vma_setup: 0 or -EINVAL. */
export function migrateVmaSetup(args: MigrateVma): number {
  const { mm, start, end } = args;
  const vma = mm.find(start);
  // migrate_vma_setup's checks: one VMA holding the whole range, not hugetlb.
  if (!vma || end <= start || end > vma.end || vma.hugetlb) return -EINVAL;
  const n = end - start;
  if (args.src.length < n || args.dst.length < n) return -EINVAL;
  args.vma = vma;
  args.npages = n; // every src entry of [0, n) is written below (0 when not collected)
  args.cpages = 0;
  mm.invalidate(start, end, MMU_NOTIFY_MIGRATE, args.pgmapOwner);
  const { huge, order } = vma.region;
  const i0 = Mm.index(vma, start);
  let o = 0;
  while (o < n) {
    if (huge !== null) {
      const bsize = 1 << order;
      const idx = i0 + o;
      if ((idx & (bsize - 1)) === 0 && o + bsize <= n && args.flags & MIGRATE_VMA_SELECT_COMPOUND && collectHuge(args, vma, o, idx, bsize)) {
        o += bsize;
        continue;
      }
      if (huge[idx >> order]) huge[idx >> order] = 0; // split_huge_pmd / split_folio before collecting pages
    }
    const next = huge === null ? Math.min(n, o + BLOCK) : o + 1;
    const collected = collectRun(args, vma, o, next); // before reading cpages: collectPage adds to it
    args.cpages += collected;
    o = next;
  }
  return 0;
}

/**
 * Collects entries [o, oEnd): plain RAM pages inline, anything else by collectPage; writes every
 * src entry and returns the pages it collected inline. (Hot loop: every iteration does the same
 * loads, and nothing follows the loop, so that a compiled loop does not fall back on a branch it
 * has not seen yet.)
 */
function collectRun(args: MigrateVma, vma: Vma, o: number, oEnd: number): number {
  const pte = vma.region.pte;
  const { refcount, mapcount, chunkKind } = args.mm.mem.frames;
  const src = args.src;
  const faultPage = args.faultPage;
  const fast = (args.flags & SELECT_SYSTEM) !== 0 && vma.file === null;
  let idx = Mm.index(vma, args.start + o);
  let cpages = 0;
  for (; o < oEnd; o++, idx++) {
    const p = pte[idx];
    const f = p & PFN_MASK;
    if (fast && p >>> KIND_SHIFT === PRESENT && chunkKind[f >>> CHUNK] === RAM && f !== ZERO && f !== faultPage) {
      // migrate_vma_check_page: pinned when references exceed the collect reference plus mappings.
      const m = mapcount[f];
      if (refcount[f] > m) {
        src[o] = 0;
        continue;
      }
      mapcount[f] = m - 1;
      pte[idx] = ((MIGRATION << KIND_SHIFT) | (p & WRITE_BIT) | f) >>> 0;
      // migrate_pfn(f) | MIGRATE_PFN_MIGRATE, plus MIGRATE_PFN_WRITE (bit 3) from PTE_WRITE (bit 27).
      src[o] = (f << SHIFT) | VALID | MIGRATE | ((p & WRITE_BIT) >>> 24);
      cpages++;
    } else {
      src[o] = 0;
      collectPage(args, vma, o, idx);
    }
  }
  return cpages;
}

/** migrate_vma_collect_huge_pmd: a whole aligned block as one COMPOUND entry (hole, huge zero page, or huge folio). */
function collectHuge(args: MigrateVma, vma: Vma, o: number, idx: number, n: number): boolean {
  const { pte, huge, order } = vma.region;
  const frames = args.mm.mem.frames;
  const isHuge = huge![idx >> order] !== 0;
  const first = pte[idx];
  if (!isHuge) {
    if (!vmaIsAnonymous(vma) || !rangeEmpty(vma, args.start + o, args.start + o + n)) return false;
    args.src.fill(MIGRATE_PFN_MIGRATE, o, o + n);
    args.src[o] |= MIGRATE_PFN_COMPOUND;
    args.cpages += n;
    return true;
  }
  const kind = first >>> PTE_KIND_SHIFT;
  if (kind === KIND_PRESENT && (first & PTE_PFN_MASK) === ZERO_PFN) {
    if (!(args.flags & MIGRATE_VMA_SELECT_SYSTEM)) return false;
    args.src.fill(MIGRATE_PFN_MIGRATE, o, o + n);
    args.src[o] |= MIGRATE_PFN_COMPOUND;
    args.cpages += n;
    return true;
  }
  const f0 = first & PTE_PFN_MASK;
  if (!selected(args, kind, f0)) return false;
  for (let k = 0; k < n; k++) {
    const f = pte[idx + k] & PTE_PFN_MASK;
    if (frames.refcount[f] - 1 - (f === args.faultPage ? 1 : 0) > frames.mapcount[f] - 1) return false; // pinned
  }
  const w = first & PTE_WRITE ? MIGRATE_PFN_WRITE : 0;
  for (let k = 0; k < n; k++) {
    const p = pte[idx + k];
    const f = p & PTE_PFN_MASK;
    frames.mapcount[f]--;
    pte[idx + k] = makePte(KIND_MIGRATION, f, (p & PTE_WRITE) !== 0);
    args.src[o + k] = migratePfn(f) | MIGRATE_PFN_MIGRATE | w;
  }
  args.src[o] |= MIGRATE_PFN_COMPOUND;
  args.cpages += n;
  return true;
}

/** Whether a page of this kind and frame is selected by the flags and owner (migrate_vma_collect_pmd). */
function selected(args: MigrateVma, kind: number, f: number): boolean {
  const frames = args.mm.mem.frames;
  const pool = frames.pools[frames.chunkPool[f >>> CHUNK_SHIFT]];
  if (kind === KIND_DEVICE_PRIVATE) {
    return (args.flags & MIGRATE_VMA_SELECT_DEVICE_PRIVATE) !== 0 && pool.pagemap!.owner === args.pgmapOwner;
  }
  if (kind !== KIND_PRESENT) return false;
  if (pool.kind === POOL_RAM) return (args.flags & MIGRATE_VMA_SELECT_SYSTEM) !== 0;
  if (pool.kind === POOL_COHERENT) {
    return (args.flags & MIGRATE_VMA_SELECT_DEVICE_COHERENT) !== 0 && pool.pagemap!.owner === args.pgmapOwner;
  }
  return false;
}

function collectPage(args: MigrateVma, vma: Vma, o: number, idx: number): void {
  const pte = vma.region.pte;
  const p = pte[idx];
  const kind = p >>> PTE_KIND_SHIFT;
  if (kind === KIND_NONE) {
    // migrate_vma_collect_hole: an anonymous hole is collected empty (to be populated).
    if (vmaIsAnonymous(vma)) {
      args.src[o] = MIGRATE_PFN_MIGRATE;
      args.cpages++;
    }
    return;
  }
  const f = p & PTE_PFN_MASK;
  if (kind === KIND_PRESENT && f === ZERO_PFN) {
    if (args.flags & MIGRATE_VMA_SELECT_SYSTEM) {
      args.src[o] = MIGRATE_PFN_MIGRATE;
      args.cpages++;
    }
    return;
  }
  if (!selected(args, kind, f)) return;
  const frames = args.mm.mem.frames;
  // migrate_vma_check_page: references beyond the collect reference, the page cache's and the
  // fault path's, and the remaining mappings, mean the page is pinned: leave it in place.
  const file = vma.file;
  const inCache = file !== null && file.lookup(vma.fileOff + (idx - vma.regionOff)) === f ? 1 : 0;
  const extra = 1 + inCache + (f === args.faultPage ? 1 : 0);
  if (frames.refcount[f] - extra > frames.mapcount[f] - 1) return;
  frames.mapcount[f]--;
  pte[idx] = makePte(KIND_MIGRATION, f, (p & PTE_WRITE) !== 0);
  args.src[o] = migratePfn(f) | MIGRATE_PFN_MIGRATE | (p & PTE_WRITE ? MIGRATE_PFN_WRITE : 0);
  args.cpages++;
}

/** migrate_vma_pages: drops entries without dst or that cannot move; installs pages for holes. */
export function migrateVmaPages(args: MigrateVma): void {
  let notified = false;
  for (let o = 0; o < args.npages; o += BLOCK) notified = pagesBlock(args, o, Math.min(args.npages, o + BLOCK), notified);
}

/** migrate_vma_pages for entries [o, end); `notified` once the insert notifier has run, returned updated. */
function pagesBlock(args: MigrateVma, o: number, end: number, notified: boolean): boolean {
  const { mm, src, dst } = args;
  const vma = args.vma!;
  const frames = mm.mem.frames;
  const chunkKind = frames.chunkKind;
  const { pte, huge, order } = vma.region;
  const file = vma.file;
  const i0 = Mm.index(vma, args.start);
  const writable = (vma.prot & PROT_WRITE) !== 0;
  for (; o < end; o++) {
    const s = src[o];
    if (!(s & MIGRATE)) continue;
    const d = dst[o];
    if (huge !== null && s & COMPOUND && !(s & VALID)) {
      // A huge hole (or huge zero page) becomes one huge device mapping only with a compound dst.
      huge[(i0 + o) >> order] = d & COMPOUND ? 1 : 0;
    }
    if (!(d & VALID)) {
      src[o] = s & ~MIGRATE;
      continue;
    }
    const df = d >>> SHIFT;
    const dkind = chunkKind[df >>> CHUNK];
    if (!(s & VALID)) {
      // migrate_vma_insert_page: anonymous VMA, PTE still none or the zero page.
      const cur = pte[i0 + o];
      const curKind = cur >>> KIND_SHIFT;
      const ok = vmaIsAnonymous(vma) && dkind !== P2PDMA_POOL &&
        (curKind === NONE || (curKind === PRESENT && (cur & PFN_MASK) === ZERO));
      if (!ok) {
        src[o] = s & ~MIGRATE;
        continue;
      }
      if (!notified) {
        mm.invalidate(args.start + o, args.end, MMU_NOTIFY_MIGRATE, args.pgmapOwner);
        notified = true;
      }
      pte[i0 + o] = makePte(dkind === PRIVATE_POOL ? DEVICE_PRIVATE : PRESENT, df, writable);
      frames.mapcount[df]++;
      continue;
    }
    // Device destinations take only anonymous sources (page cache and shmem pages stay); a P2PDMA
    // page is never a migration destination.
    if (dkind === P2PDMA_POOL ||
        (dkind !== RAM && file !== null && file.lookup(vma.fileOff + (i0 + o - vma.regionOff)) === s >>> SHIFT)) {
      src[o] = s & ~MIGRATE;
    }
  }
  return notified;
}

/** migrate_vma_finalize: PTEs point at dst where migrated, back at src otherwise; old pages are put. */
export function migrateVmaFinalize(args: MigrateVma): void {
  let migrated = 0;
  for (let o = 0; o < args.npages; o += BLOCK) migrated += finalizeEntries(args, args.vma!, o, Math.min(args.npages, o + BLOCK));
  args.mm.mem.events.migrated(args.mm, migrated);
}

/**
 * migrate_vma_finalize for entries [o, end); returns the pages whose mapping moved (hot loop, see
 * collectRun). A source page's last reference goes straight onto the free list of its pool when
 * that is the last pool seen without a page map (RAM), whose head and in-use count the loop holds
 * in locals and writes back before any put() and at the end; anything else goes through put().
 * The same frees in the same order as one put() per page.
 */
function finalizeEntries(args: MigrateVma, vma: Vma, o: number, end: number): number {
  const { src, dst } = args;
  const frames = args.mm.mem.frames;
  const { chunkKind, chunkPool } = frames;
  const { pte, huge, order } = vma.region;
  const i0 = Mm.index(vma, args.start);
  // Reloaded after each put(): a driver's pageFree may allocate and so grow the frame table.
  let { refcount, mapcount, generation } = frames;
  let ram: Pool | null = null;
  let ramId = -1;
  let head = -1;
  let freed = 0;
  let migrated = 0;
  for (; o < end; o++) {
    const s = src[o];
    const d = dst[o];
    if (!(s & VALID)) {
      if (s & MIGRATE && d & VALID) migrated++;
      else if (d & VALID) {
        if (ram !== null) writeBack(ram, head, freed);
        freed = 0;
        frames.put(d >>> SHIFT);
        if (ram !== null) head = ram.freeHead;
        ({ refcount, mapcount, generation } = frames);
      }
      continue;
    }
    const sf = s >>> SHIFT;
    const idx = i0 + o;
    const w = pte[idx] & WRITE_BIT;
    if (s & MIGRATE && d & VALID) {
      const df = d >>> SHIFT;
      const kind = chunkKind[df >>> CHUNK] === PRIVATE_POOL ? DEVICE_PRIVATE : PRESENT;
      pte[idx] = ((kind << KIND_SHIFT) | w | df) >>> 0;
      mapcount[df]++;
      const r = refcount[sf] - 1;
      if (r > 0) {
        refcount[sf] = r;
      } else if (chunkPool[sf >>> CHUNK] === ramId) {
        if (generation !== null) generation[sf]++;
        refcount[sf] = LINK(head);
        mapcount[sf] = 0;
        head = sf;
        freed++;
      } else {
        if (ram !== null) writeBack(ram, head, freed);
        freed = 0;
        frames.put(sf);
        ({ refcount, mapcount, generation } = frames);
        const pool = frames.poolOf(sf);
        if (pool.pagemap === null) {
          ram = pool;
          ramId = pool.id;
        }
        if (ram !== null) head = ram.freeHead;
      }
      migrated++;
      if (huge !== null && s & COMPOUND) huge[idx >> order] = d & COMPOUND ? 1 : 0;
    } else {
      const skind = chunkKind[sf >>> CHUNK];
      pte[idx] = makePte(skind === PRIVATE_POOL ? DEVICE_PRIVATE : PRESENT, sf, w !== 0);
      mapcount[sf]++;
      if (d & VALID) {
        if (ram !== null) writeBack(ram, head, freed);
        freed = 0;
        frames.put(d >>> SHIFT);
        if (ram !== null) head = ram.freeHead;
        ({ refcount, mapcount, generation } = frames);
      }
      if (huge !== null && s & COMPOUND) huge[idx >> order] = 1;
    }
  }
  if (ram !== null) writeBack(ram, head, freed);
  return migrated;
}

/** Stores a free-list head and the frames freed onto it since the last write-back into the pool. */
function writeBack(pool: Pool, head: number, freed: number): void {
  pool.freeHead = head;
  pool.inUse -= freed;
}
