// Models: migrate_vma (mm/migrate_device.c): setup collects the pages of one VMA range selected by
// flags and owner after a MIGRATE notifier, replacing their PTEs by migration entries and
// skipping pinned ones; the driver fills dst; pages installs new pages for holes and drops what
// cannot move; finalize points the PTEs at the new pages (or back at the old) and frees the old.
// Simplifications: no rmap, so only this mm's mapping of a page moves (a page other processes
// also map stays theirs, as if COW had split it); a huge block's 512 entries each carry their
// own frame, the first also MIGRATE_PFN_COMPOUND.
import { Mm, rangeEmpty } from "../memory/address-space.js";
import { EINVAL } from "../memory/errno.js";
import { CHUNK_SHIFT, POOL_COHERENT, POOL_P2PDMA, POOL_PRIVATE, POOL_RAM, ZERO_PFN } from "../memory/frames.js";
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
  args.src.fill(0, 0, n);
  args.npages = n;
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
    collectRun(args, vma, o, huge === null ? n : Math.min(n, o + 1));
    o = huge === null ? n : o + 1;
  }
  return 0;
}

/** Collects entries [o, oEnd): plain writable-or-not RAM pages inline, anything else by collectPage. */
function collectRun(args: MigrateVma, vma: Vma, o: number, oEnd: number): void {
  const pte = vma.region.pte;
  const frames = args.mm.mem.frames;
  const { refcount, mapcount, chunkPool, pools } = frames;
  const src = args.src;
  const fast = (args.flags & MIGRATE_VMA_SELECT_SYSTEM) !== 0 && vma.file === null;
  let idx = Mm.index(vma, args.start + o);
  let cpages = 0;
  for (; o < oEnd; o++, idx++) {
    const p = pte[idx];
    const f = p & PTE_PFN_MASK;
    if (fast && p >>> PTE_KIND_SHIFT === KIND_PRESENT && f !== ZERO_PFN && f !== args.faultPage &&
        pools[chunkPool[f >>> CHUNK_SHIFT]].kind === POOL_RAM) {
      // migrate_vma_check_page: pinned when references exceed the collect reference plus mappings.
      if (refcount[f] - 1 > mapcount[f] - 1) continue;
      mapcount[f]--;
      pte[idx] = makePte(KIND_MIGRATION, f, (p & PTE_WRITE) !== 0);
      src[o] = migratePfn(f) | MIGRATE_PFN_MIGRATE | ((p & PTE_WRITE) >>> 24);
      cpages++;
    } else {
      collectPage(args, vma, o, idx);
    }
  }
  args.cpages += cpages;
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
  const { mm, src, dst, npages } = args;
  const vma = args.vma!;
  const frames = mm.mem.frames;
  const { pte, huge, order } = vma.region;
  const i0 = Mm.index(vma, args.start);
  const writable = (vma.prot & PROT_WRITE) !== 0;
  let notified = false;
  for (let o = 0; o < npages; o++) {
    const s = src[o];
    if (!(s & MIGRATE_PFN_MIGRATE)) continue;
    const d = dst[o];
    if (huge !== null && s & MIGRATE_PFN_COMPOUND && !(s & MIGRATE_PFN_VALID)) {
      // A huge hole (or huge zero page) becomes one huge device mapping only with a compound dst.
      huge[(i0 + o) >> order] = d & MIGRATE_PFN_COMPOUND ? 1 : 0;
    }
    if (!(d & MIGRATE_PFN_VALID)) {
      src[o] = s & ~MIGRATE_PFN_MIGRATE;
      continue;
    }
    const df = d >>> MIGRATE_PFN_SHIFT;
    const dkind = frames.pools[frames.chunkPool[df >>> CHUNK_SHIFT]].kind;
    if (!(s & MIGRATE_PFN_VALID)) {
      // migrate_vma_insert_page: anonymous VMA, PTE still none or the zero page.
      const cur = pte[i0 + o];
      const curKind = cur >>> PTE_KIND_SHIFT;
      const ok = vmaIsAnonymous(vma) && dkind !== POOL_P2PDMA &&
        (curKind === KIND_NONE || (curKind === KIND_PRESENT && (cur & PTE_PFN_MASK) === ZERO_PFN));
      if (!ok) {
        src[o] = s & ~MIGRATE_PFN_MIGRATE;
        continue;
      }
      if (!notified) {
        mm.invalidate(args.start + o, args.end, MMU_NOTIFY_MIGRATE, args.pgmapOwner);
        notified = true;
      }
      pte[i0 + o] = makePte(dkind === POOL_PRIVATE ? KIND_DEVICE_PRIVATE : KIND_PRESENT, df, writable);
      frames.mapcount[df]++;
      continue;
    }
    // Device destinations take only anonymous sources (page cache and shmem pages stay).
    const sf = s >>> MIGRATE_PFN_SHIFT;
    if (dkind !== POOL_RAM && vma.file !== null && vma.file.lookup(vma.fileOff + (i0 + o - vma.regionOff)) === sf) {
      src[o] = s & ~MIGRATE_PFN_MIGRATE;
    } else if (dkind === POOL_P2PDMA) {
      src[o] = s & ~MIGRATE_PFN_MIGRATE;
    }
  }
}

/** migrate_vma_finalize: PTEs point at dst where migrated, back at src otherwise; old pages are put. */
export function migrateVmaFinalize(args: MigrateVma): void {
  const { mm, src, dst, npages } = args;
  const vma = args.vma!;
  const frames = mm.mem.frames;
  const { pte, huge, order } = vma.region;
  const i0 = Mm.index(vma, args.start);
  let migrated = 0;
  let lastChunk = -1;
  let dstKind = KIND_PRESENT;
  for (let o = 0; o < npages; o++) {
    const s = src[o];
    const d = dst[o];
    if (!(s & MIGRATE_PFN_VALID)) {
      if (s & MIGRATE_PFN_MIGRATE && d & MIGRATE_PFN_VALID) migrated++;
      else if (d & MIGRATE_PFN_VALID) frames.put(d >>> MIGRATE_PFN_SHIFT);
      continue;
    }
    const sf = s >>> MIGRATE_PFN_SHIFT;
    const idx = i0 + o;
    const w = pte[idx] & PTE_WRITE;
    if (s & MIGRATE_PFN_MIGRATE && d & MIGRATE_PFN_VALID) {
      const df = d >>> MIGRATE_PFN_SHIFT;
      const chunk = df >>> CHUNK_SHIFT;
      if (chunk !== lastChunk) {
        lastChunk = chunk;
        dstKind = frames.pools[frames.chunkPool[chunk]].kind === POOL_PRIVATE ? KIND_DEVICE_PRIVATE : KIND_PRESENT;
      }
      pte[idx] = ((dstKind << PTE_KIND_SHIFT) | w | df) >>> 0;
      frames.mapcount[df]++;
      if (frames.refcount[sf] > 1) frames.refcount[sf]--;
      else frames.put(sf);
      migrated++;
      if (huge !== null && s & MIGRATE_PFN_COMPOUND) huge[idx >> order] = d & MIGRATE_PFN_COMPOUND ? 1 : 0;
    } else {
      const skind = frames.pools[frames.chunkPool[sf >>> CHUNK_SHIFT]].kind;
      pte[idx] = makePte(skind === POOL_PRIVATE ? KIND_DEVICE_PRIVATE : KIND_PRESENT, sf, w !== 0);
      frames.mapcount[sf]++;
      if (d & MIGRATE_PFN_VALID) frames.put(d >>> MIGRATE_PFN_SHIFT);
      if (huge !== null && s & MIGRATE_PFN_COMPOUND) huge[idx >> order] = 1;
    }
  }
  mm.mem.counters.migrations += migrated;
}
