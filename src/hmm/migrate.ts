// Models: migrate_vma (mm/migrate_device.c, the THP device-migration tree): setup collects the
// pages of one VMA range selected by flags and owner after a MIGRATE notifier, replacing their
// PTEs by migration entries and skipping pinned ones; a PMD-mapped THP (or device THP) that the
// selection takes whole becomes ONE compound src entry (MIGRATE_PFN_COMPOUND, the next 511
// entries empty, cpages counting 1: migrate_vma_collect_huge_pmd), one it does not take is
// skipped without a split, and one it takes only in part is split first (CLEAR notifier); an
// untouched aligned 2 MiB hole is one compound hole entry (migrate_vma_collect_hole). Every other
// process mapping a collected anonymous page (shared by fork, at the same address) gets a
// migration entry too after a CLEAR notifier (try_to_migrate), and finalize points all of them at
// the new page (remove_migration_ptes), so no two copies of the data remain. The driver fills dst;
// pages installs new pages for holes (a huge device folio by PMD for a compound dst), splits a
// compound source whose dst is not compound, and drops what cannot move; finalize points the PTEs
// at the new pages (or back at the old) and frees the old.
// Simplifications: only THP-capable mappings (mmap `huge`) collect compound entries; a huge folio
// that another process also maps is split and collected page by page; a pinned shared page is
// left before the other processes' notifiers run.
import { Mm } from "../memory/address-space.js";
import { EINVAL } from "../memory/errno.js";
import { isAnonPage } from "../memory/exclusive.js";
import { fillPtes } from "../memory/fault.js";
import { CHUNK_SHIFT, freeLink, Pool, POOL_COHERENT, POOL_P2PDMA, POOL_PRIVATE, POOL_RAM, ZERO_PFN } from "../memory/frames.js";
import { MMU_NOTIFY_CLEAR, MMU_NOTIFY_MIGRATE } from "../memory/mmu-notifier.js";
import { inBlock, nextBlockStart } from "../memory/page-table.js";
import {
  KIND_DEVICE_PRIVATE, KIND_MIGRATION, KIND_NONE, KIND_PRESENT, PTE_KIND_SHIFT, PTE_PFN_MASK, PTE_WRITE, makePte,
} from "../memory/pte.js";
import { PMD_ORDER, PROT_WRITE, Vma, vmaIsAnonymous } from "../memory/vma.js";

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

/** Pages of a PMD-sized folio (HPAGE_PMD_NR). */
export const HPAGE_PMD_NR = 1 << PMD_ORDER;

// Module-local copies of the constants that the hot loops use: V8 keeps an imported or exported
// binding in a cell that optimized code reloads and re-checks at each use, but folds a
// module-local const into the code (about 2x on the collect loop).
const VALID = MIGRATE_PFN_VALID;
const MIGRATE = MIGRATE_PFN_MIGRATE;
const COMPOUND = MIGRATE_PFN_COMPOUND;
const SHIFT = MIGRATE_PFN_SHIFT;
const SELECT_SYSTEM = MIGRATE_VMA_SELECT_SYSTEM;
const SELECT_PRIVATE = MIGRATE_VMA_SELECT_DEVICE_PRIVATE;
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
const PMD_NR = HPAGE_PMD_NR;

/** migrate_pfn(pfn). */
export function migratePfn(frame: number): number {
  return ((frame << SHIFT) | VALID) >>> 0;
}

export function migratePfnToFrame(mpfn: number): number {
  return mpfn & VALID ? mpfn >>> SHIFT : -1;
}

/** Pages one src/dst entry stands for (migrate_vma_nr_pages): 512 for a compound entry, else 1. */
export function migrateEntryPages(mpfn: number): number {
  return mpfn & COMPOUND ? PMD_NR : 1;
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
  /** try_to_migrate's other mappings: src index, process and page of each (rare: pages shared by fork). */
  otherIndex: number[];
  otherMm: Mm[];
}

export function newMigrateVma(mm: Mm, start: number, end: number, flags: number, pgmapOwner: unknown, faultPage = -1): MigrateVma {
  const n = Math.max(0, end - start);
  return {
    mm, start, end, src: new Uint32Array(n), dst: new Uint32Array(n), npages: 0, cpages: 0, pgmapOwner, flags, faultPage,
    otherIndex: [], otherMm: [],
  };
}

/** Points `args` at [start, end) for another migrate_vma_setup, reusing its src/dst arrays (a driver's per-chunk loop). */
export function migrateVmaRange(args: MigrateVma, start: number, end: number): MigrateVma {
  args.start = start;
  args.end = end;
  args.vma = undefined;
  // migrate_vma_collect writes src and dst of every entry it walks: clear what the last call left.
  args.src.fill(0, 0, Math.max(0, end - start));
  args.dst.fill(0, 0, Math.max(0, end - start));
  return args;
}

/** dmirror_successful_migrated_pages (lib/test_hmm.c): src entries with VALID and MIGRATE; a compound entry counts once. */
export function migratedEntries(args: MigrateVma): number {
  let n = 0;
  const src = args.src;
  for (let o = 0; o < args.npages; o++) if ((src[o] & (VALID | MIGRATE)) === (VALID | MIGRATE)) n++;
  return n;
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
  args.npages = n;
  args.cpages = 0;
  args.otherIndex.length = 0;
  args.otherMm.length = 0;
  // src and dst start zeroed (newMigrateVma, migrateVmaRange): entries the walk skips stay 0.
  mm.invalidate(start, end, MMU_NOTIFY_MIGRATE, args.pgmapOwner);
  const region = vma.region;
  const i0 = Mm.index(vma, start);
  const thp = region.order === PMD_ORDER;
  for (let o = 0; o < n; ) {
    const idx = i0 + o;
    // walk_page_range steps one PMD (one page table) at a time.
    const stop = Math.min(n, o + (nextBlockStart(idx) - idx));
    if (!thp || !collectPmd(args, vma, o, stop)) collectPtes(args, vma, o, stop);
    o = stop;
  }
  return 0;
}

/**
 * migrate_vma_collect_pmd / migrate_vma_collect_huge_pmd for a THP-capable mapping's PMD range
 * [o, stop): returns true when the PMD level decided the whole range (hole, huge leaf taken or
 * skipped), false when its PTEs are to be collected one by one (after a split, if it was huge).
 */
function collectPmd(args: MigrateVma, vma: Vma, o: number, stop: number): boolean {
  const { mm, src } = args;
  const region = vma.region;
  const idx = Mm.index(vma, args.start + o);
  const whole = idx % PMD_NR === 0 && stop - o === PMD_NR;
  const compound = whole && (args.flags & MIGRATE_VMA_SELECT_COMPOUND) !== 0;
  if (!region.isHuge(idx)) {
    if (region.block(idx) !== undefined) return false; // a PTE table: per-PTE collection
    collectHole(args, vma, o, stop, compound);
    return true;
  }
  const head = region.get(idx - (idx % PMD_NR));
  const kind = head >>> PTE_KIND_SHIFT;
  const f0 = head & PTE_PFN_MASK;
  if (kind === KIND_PRESENT) {
    if (!(args.flags & MIGRATE_VMA_SELECT_SYSTEM)) return true; // skipped, not split
    if (f0 === ZERO_PFN) {
      collectHole(args, vma, o, stop, compound); // the huge zero page is collected as a hole
      return true;
    }
  } else if (kind === KIND_DEVICE_PRIVATE) {
    if (!(args.flags & MIGRATE_VMA_SELECT_DEVICE_PRIVATE) || ownerOf(mm, f0) !== args.pgmapOwner) return true;
  } else {
    return false;
  }
  const frames = mm.mem.frames;
  let shared = false;
  for (let k = 0; k < PMD_NR; k++) {
    const f = f0 + k;
    // migrate_vma_check_page: pinned when references exceed mappings (plus the fault path's).
    if (frames.refcount[f] - (f === args.faultPage ? 1 : 0) > frames.mapcount[f]) return true;
    if (frames.mapcount[f] > 1) shared = true;
  }
  const b0 = args.start + o - (idx % PMD_NR);
  if (!compound || shared) {
    // fallback: split_folio, which splits the PMD first (__split_huge_pmd: CLEAR notifier).
    mm.invalidate(b0, b0 + PMD_NR, MMU_NOTIFY_CLEAR);
    region.setHuge(idx, false);
    return false;
  }
  // set_pmd_migration_entry: the PMD (here its 512 PTEs) becomes a migration entry; huge stays.
  const w = head & PTE_WRITE;
  fillPtes(region, idx, PMD_NR, ((KIND_MIGRATION << PTE_KIND_SHIFT) | w | f0) >>> 0, 1);
  for (let k = 0; k < PMD_NR; k++) frames.mapcount[f0 + k]--;
  src[o] = (migratePfn(f0) | MIGRATE_PFN_MIGRATE | MIGRATE_PFN_COMPOUND | (w ? MIGRATE_PFN_WRITE : 0)) >>> 0;
  args.cpages++;
  return true;
}

/** migrate_vma_collect_hole: anonymous holes are collected empty (one compound entry for a whole aligned PMD). */
function collectHole(args: MigrateVma, vma: Vma, o: number, stop: number, compound: boolean): void {
  if (!vmaIsAnonymous(vma)) return;
  if (compound) {
    args.src[o] = MIGRATE_PFN_MIGRATE | MIGRATE_PFN_COMPOUND;
    args.cpages++;
    return;
  }
  args.src.fill(MIGRATE_PFN_MIGRATE, o, stop);
  args.cpages += stop - o;
}

/** The PTE loop of migrate_vma_collect_pmd over [o, stop) (one page table or less). */
function collectPtes(args: MigrateVma, vma: Vma, o: number, stop: number): void {
  const idx = Mm.index(vma, args.start + o);
  const b = vma.region.block(idx);
  if (b === undefined) collectHole(args, vma, o, stop, false); // no page table: a hole
  else {
    const inline = collectRun(args, vma, b, inBlock(idx), o, stop); // before reading cpages: collectPage adds to it
    args.cpages += inline;
  }
}

/**
 * Collects entries [o, oEnd) of page table `pte` from entry `j`: plain RAM pages mapped once
 * inline, anything else by collectPage; returns the pages it collected inline. (Hot loop: every
 * iteration does the same loads, and nothing follows the loop, so that a compiled loop does not
 * fall back on a branch it has not seen yet.)
 */
function collectRun(args: MigrateVma, vma: Vma, pte: Uint32Array, j: number, o: number, oEnd: number): number {
  const { refcount, mapcount, chunkKind, chunkPool } = args.mm.mem.frames;
  const src = args.src;
  const faultPage = args.faultPage;
  // The kind of PTE taken inline: a present RAM page (SELECT_SYSTEM), or a device-private page of
  // the owner's pool (SELECT_DEVICE_PRIVATE); -1 when neither applies to this VMA.
  const fastKind = vma.file !== null ? -1 : args.flags & SELECT_SYSTEM ? PRESENT : args.flags & SELECT_PRIVATE ? DEVICE_PRIVATE : -1;
  const fastPool = fastKind === DEVICE_PRIVATE ? privatePoolOf(args) : -1;
  let cpages = 0;
  for (; o < oEnd; o++, j++) {
    const p = pte[j];
    const f = p & PFN_MASK;
    if (p >>> KIND_SHIFT === fastKind && f !== ZERO && f !== faultPage && mapcount[f] === 1 &&
        (fastPool < 0 ? chunkKind[f >>> CHUNK] === RAM : chunkPool[f >>> CHUNK] === fastPool)) {
      // migrate_vma_check_page: pinned when references exceed the collect reference plus mappings.
      if (refcount[f] > 1) {
        src[o] = 0;
        continue;
      }
      mapcount[f] = 0;
      pte[j] = ((MIGRATION << KIND_SHIFT) | (p & WRITE_BIT) | f) >>> 0;
      // migrate_pfn(f) | MIGRATE_PFN_MIGRATE, plus MIGRATE_PFN_WRITE (bit 3) from PTE_WRITE (bit 27).
      src[o] = (f << SHIFT) | VALID | MIGRATE | ((p & WRITE_BIT) >>> 24);
      cpages++;
    } else {
      src[o] = 0;
      collectPage(args, vma, pte, j, o);
    }
  }
  return cpages;
}

/** The device-private pool whose page map `args.pgmapOwner` owns, or -1. */
function privatePoolOf(args: MigrateVma): number {
  for (const pool of args.mm.mem.frames.pools) if (pool.kind === POOL_PRIVATE && pool.pagemap?.owner === args.pgmapOwner) return pool.id;
  return -1;
}

/** The pgmap owner of device frame `f`. */
function ownerOf(mm: Mm, f: number): unknown {
  const frames = mm.mem.frames;
  return frames.pools[frames.chunkPool[f >>> CHUNK_SHIFT]].pagemap?.owner;
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

function collectPage(args: MigrateVma, vma: Vma, pte: Uint32Array, j: number, o: number): void {
  const p = pte[j];
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
  const vpn = args.start + o;
  // migrate_vma_check_page: references beyond the page cache's and the fault path's, and beyond
  // the mappings, mean the page is pinned: leave it in place.
  const anon = isAnonPage(vma, vpn, f);
  const extra = (anon ? 0 : 1) + (f === args.faultPage ? 1 : 0);
  if (frames.refcount[f] - extra > frames.mapcount[f]) return;
  frames.mapcount[f]--;
  pte[j] = makePte(KIND_MIGRATION, f, (p & PTE_WRITE) !== 0);
  args.src[o] = migratePfn(f) | MIGRATE_PFN_MIGRATE | (p & PTE_WRITE ? MIGRATE_PFN_WRITE : 0);
  args.cpages++;
  if (anon && frames.mapcount[f] > 0) tryToMigrate(args, o, vpn, f);
}

/**
 * try_to_migrate (mm/rmap.c) for an anonymous page that other processes still map: each mapping
 * (at the same address: fork keeps addresses, and the kit has no mremap) gets a migration entry
 * after a CLEAR notifier in its process, and is remembered for finalize.
 */
function tryToMigrate(args: MigrateVma, o: number, vpn: number, f: number): void {
  const frames = args.mm.mem.frames;
  for (const other of args.mm.mem.mms) {
    if (other === args.mm || !other.live || frames.mapcount[f] === 0) continue;
    const vma = other.find(vpn);
    if (!vma) continue;
    const idx = Mm.index(vma, vpn);
    const p = vma.region.get(idx);
    const k = p >>> PTE_KIND_SHIFT;
    if ((k !== KIND_PRESENT && k !== KIND_DEVICE_PRIVATE) || (p & PTE_PFN_MASK) !== f) continue;
    other.invalidate(vpn, vpn + 1, MMU_NOTIFY_CLEAR);
    if (vma.region.isHuge(idx)) vma.region.setHuge(idx, false);
    vma.region.set(idx, makePte(KIND_MIGRATION, f, (p & PTE_WRITE) !== 0));
    frames.mapcount[f]--;
    args.otherIndex.push(o);
    args.otherMm.push(other);
  }
}

/** migrate_vma_pages: drops entries without dst or that cannot move; installs pages for holes. */
export function migrateVmaPages(args: MigrateVma): void {
  let notified = false;
  for (let o = 0; o < args.npages; ) {
    const end = Math.min(args.npages, o + 4096);
    notified = pagesBlock(args, o, end, notified);
    o = end;
  }
}

/** migrate_vma_pages for entries [o, end); `notified` once the insert notifier has run, returned updated. */
function pagesBlock(args: MigrateVma, o: number, end: number, notified: boolean): boolean {
  const { src, dst } = args;
  const vma = args.vma!;
  const chunkKind = args.mm.mem.frames.chunkKind;
  const file = vma.file;
  const i0 = Mm.index(vma, args.start);
  while (o < end) {
    const s = src[o];
    if (!(s & MIGRATE)) {
      o++;
      continue;
    }
    const d = dst[o];
    if (!(d & VALID)) {
      src[o] = s & ~MIGRATE;
      o++;
      continue;
    }
    if (s & COMPOUND) {
      // A compound source whose dst is not compound is split, then its entries go one by one.
      if (!(d & COMPOUND)) {
        notified = splitCompound(args, o, notified);
        continue;
      }
      if (!(s & VALID)) notified = insertHuge(args, o, notified);
      o++;
      continue;
    }
    const df = d >>> SHIFT;
    const dkind = chunkKind[df >>> CHUNK];
    if (!(s & VALID)) {
      if (!notified) {
        args.mm.invalidate(args.start + o, args.end, MMU_NOTIFY_MIGRATE, args.pgmapOwner);
        notified = true;
      }
      insertPage(args, o, df, dkind);
      o++;
      continue;
    }
    // Device destinations take only anonymous sources (page cache and shmem pages stay); a P2PDMA
    // page is never a migration destination.
    if (dkind === P2PDMA_POOL ||
        (dkind !== RAM && file !== null && file.lookup(vma.fileOff + (i0 + o - vma.regionOff)) === s >>> SHIFT)) {
      src[o] = s & ~MIGRATE;
    }
    o++;
  }
  return notified;
}

/**
 * migrate_vma_split_unmapped_folio, or the hole branch of __migrate_device_pages: a compound src
 * entry with a base-page dst becomes 512 entries (a folio's PMD migration entry is split: CLEAR
 * notifier over the block).
 */
function splitCompound(args: MigrateVma, o: number, notified: boolean): boolean {
  const { src, mm } = args;
  const vma = args.vma!;
  const s = src[o];
  if (s & VALID) {
    const b0 = args.start + o;
    mm.invalidate(b0, b0 + PMD_NR, MMU_NOTIFY_CLEAR);
    vma.region.setHuge(Mm.index(vma, b0), false);
    const flags = s & ((1 << SHIFT) - 1) & ~COMPOUND;
    const sf = s >>> SHIFT;
    src[o] = (migratePfn(sf) | flags) >>> 0;
    for (let k = 1; k < PMD_NR; k++) src[o + k] = (migratePfn(sf + k) | flags) >>> 0;
    return notified;
  }
  for (let k = 0; k < PMD_NR; k++) src[o + k] = MIGRATE_PFN_MIGRATE;
  return notified;
}

/** migrate_vma_insert_page for entry `o`: anonymous VMA, PTE still none or the zero page. */
function insertPage(args: MigrateVma, o: number, df: number, dkind: number): void {
  const { mm, src } = args;
  const vma = args.vma!;
  const region = vma.region;
  const idx = Mm.index(vma, args.start + o);
  const cur = region.get(idx);
  const curKind = cur >>> KIND_SHIFT;
  const ok = vmaIsAnonymous(vma) && dkind !== P2PDMA_POOL && (curKind === NONE || (curKind === PRESENT && (cur & PFN_MASK) === ZERO));
  if (!ok) {
    src[o] &= ~MIGRATE;
    return;
  }
  if (region.isHuge(idx)) {
    // A huge zero PMD is split before a base page goes in (split_huge_pmd: CLEAR notifier).
    const b0 = args.start + o - (idx % (1 << region.order));
    mm.invalidate(b0, b0 + (1 << region.order), MMU_NOTIFY_CLEAR);
    region.setHuge(idx, false);
  }
  region.set(idx, makePte(dkind === PRIVATE_POOL ? DEVICE_PRIVATE : PRESENT, df, (vma.prot & PROT_WRITE) !== 0));
  mm.mem.frames.mapcount[df]++;
  vma.anonVma = true; // anon_vma_prepare
  src[o] = MIGRATE_PFN_MIGRATE;
}

/** migrate_vma_insert_huge_pmd_page: a device THP mapped by one PMD where a hole (or the huge zero page) was. */
function insertHuge(args: MigrateVma, o: number, notified: boolean): boolean {
  const { mm, src, dst } = args;
  const vma = args.vma!;
  const region = vma.region;
  const idx = Mm.index(vma, args.start + o);
  if (!notified) {
    mm.invalidate(args.start + o, args.end, MMU_NOTIFY_MIGRATE, args.pgmapOwner);
    notified = true;
  }
  const df = dst[o] >>> SHIFT;
  const frames = mm.mem.frames;
  const dkind = frames.chunkKind[df >>> CHUNK];
  const head = region.get(idx);
  const hugeZero = region.isHuge(idx) && (head & PFN_MASK) === ZERO && head >>> KIND_SHIFT === PRESENT;
  if (!vmaIsAnonymous(vma) || dkind === P2PDMA_POOL || (!hugeZero && !region.empty(idx, idx + PMD_NR))) {
    src[o] &= ~MIGRATE;
    return notified;
  }
  fillPtes(region, idx, PMD_NR, makePte(dkind === PRIVATE_POOL ? DEVICE_PRIVATE : PRESENT, df, (vma.prot & PROT_WRITE) !== 0), 1);
  for (let k = 0; k < PMD_NR; k++) frames.mapcount[df + k]++;
  region.setHuge(idx, true);
  vma.anonVma = true;
  return notified;
}

/** migrate_vma_finalize: PTEs point at dst where migrated, back at src otherwise; old pages are put. */
export function migrateVmaFinalize(args: MigrateVma): void {
  const vma = args.vma!;
  const i0 = Mm.index(vma, args.start);
  let migrated = 0;
  for (let o = 0; o < args.npages; ) {
    const stop = Math.min(args.npages, o + (nextBlockStart(i0 + o) - (i0 + o)));
    const b = vma.region.block(i0 + o);
    migrated += finalizeEntries(args, b, inBlock(i0 + o), o, stop);
    o = stop;
  }
  finalizeOthers(args);
  args.mm.mem.events.migrated(args.mm, migrated);
}

/**
 * migrate_vma_finalize for entries [o, end) of page table `pte` from entry `j` (undefined when the
 * range has no table: then no entry was collected with a page); returns the pages whose mapping
 * moved (hot loop, see collectRun). A source page's last reference goes straight onto the free
 * list of its pool when that is the last pool seen without a page map (RAM), whose head and in-use
 * count the loop holds in locals and writes back before any put() and at the end; anything else
 * goes through put(). The same frees in the same order as one put() per page.
 */
function finalizeEntries(args: MigrateVma, pte: Uint32Array | undefined, j: number, o: number, end: number): number {
  const { src, dst } = args;
  const frames = args.mm.mem.frames;
  const { chunkKind, chunkPool } = frames;
  // Reloaded after each put(): a driver's pageFree may allocate and so grow the frame table.
  let { refcount, mapcount, generation } = frames;
  let ram: Pool | null = null;
  let ramId = -1;
  let head = -1;
  let freed = 0;
  let migrated = 0;
  for (; o < end; o++, j++) {
    const s = src[o];
    const d = dst[o];
    if (!(s & VALID)) {
      if (s & MIGRATE && d & VALID) migrated += s & COMPOUND ? PMD_NR : 1;
      else if (d & VALID) {
        if (ram !== null) writeBack(ram, head, freed);
        freed = 0;
        putEntry(args, d);
        if (ram !== null) head = ram.freeHead;
        ({ refcount, mapcount, generation } = frames);
      }
      continue;
    }
    if (s & COMPOUND) {
      if (ram !== null) writeBack(ram, head, freed);
      freed = 0;
      migrated += finalizeCompound(args, o);
      if (ram !== null) head = ram.freeHead;
      ({ refcount, mapcount, generation } = frames);
      continue;
    }
    const t = pte!;
    const sf = s >>> SHIFT;
    const w = t[j] & WRITE_BIT;
    if (s & MIGRATE && d & VALID) {
      const df = d >>> SHIFT;
      const kind = chunkKind[df >>> CHUNK] === PRIVATE_POOL ? DEVICE_PRIVATE : PRESENT;
      t[j] = ((kind << KIND_SHIFT) | w | df) >>> 0;
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
        if (frames.refcount !== refcount) ({ refcount, mapcount, generation } = frames);
        if (ram === null) {
          const pool = frames.poolOf(sf);
          if (pool.pagemap === null) {
            ram = pool;
            ramId = pool.id;
          }
        }
        if (ram !== null) head = ram.freeHead;
      }
      migrated++;
    } else {
      const skind = chunkKind[sf >>> CHUNK];
      t[j] = makePte(skind === PRIVATE_POOL ? DEVICE_PRIVATE : PRESENT, sf, w !== 0);
      mapcount[sf]++;
      if (d & VALID) {
        if (ram !== null) writeBack(ram, head, freed);
        freed = 0;
        frames.put(d >>> SHIFT);
        if (ram !== null) head = ram.freeHead;
        ({ refcount, mapcount, generation } = frames);
      }
    }
  }
  if (ram !== null) writeBack(ram, head, freed);
  return migrated;
}

/** Puts a dst entry that did not become a mapping (every page of a compound one). */
function putEntry(args: MigrateVma, d: number): void {
  const n = migrateEntryPages(d);
  for (let k = 0; k < n; k++) args.mm.mem.frames.put((d >>> SHIFT) + k);
}

/** Finalize of a compound folio entry at `o`: 512 PTEs (still one huge mapping) to the new folio or back. */
function finalizeCompound(args: MigrateVma, o: number): number {
  const s = args.src[o];
  const d = args.dst[o];
  const vma = args.vma!;
  const region = vma.region;
  const frames = args.mm.mem.frames;
  const idx = Mm.index(vma, args.start + o);
  const sf = s >>> SHIFT;
  const moved = (s & MIGRATE) !== 0 && (d & VALID) !== 0;
  const f = moved ? d >>> SHIFT : sf;
  const kind = frames.chunkKind[f >>> CHUNK] === PRIVATE_POOL ? DEVICE_PRIVATE : PRESENT;
  for (let k = 0; k < PMD_NR; k++) {
    const w = region.get(idx + k) & WRITE_BIT;
    region.set(idx + k, ((kind << KIND_SHIFT) | w | (f + k)) >>> 0);
    frames.mapcount[f + k]++;
  }
  region.setHuge(idx, true);
  if (moved) for (let k = 0; k < PMD_NR; k++) frames.put(sf + k);
  else if (d & VALID) putEntry(args, d);
  return moved ? PMD_NR : 0;
}

/** remove_migration_ptes for the other processes' mappings try_to_migrate replaced. */
function finalizeOthers(args: MigrateVma): void {
  const { src, dst, otherIndex, otherMm } = args;
  const frames = args.mm.mem.frames;
  for (let r = 0; r < otherIndex.length; r++) {
    const o = otherIndex[r];
    const mm = otherMm[r];
    const vma = mm.find(args.start + o);
    if (!vma) continue;
    const idx = Mm.index(vma, args.start + o);
    const w = (vma.region.get(idx) & PTE_WRITE) !== 0;
    const s = src[o];
    const d = dst[o];
    const moved = (s & MIGRATE) !== 0 && (d & VALID) !== 0;
    const f = moved ? d >>> SHIFT : s >>> SHIFT;
    vma.region.set(idx, makePte(frames.chunkKind[f >>> CHUNK] === PRIVATE_POOL ? DEVICE_PRIVATE : PRESENT, f, w));
    frames.mapcount[f]++;
    if (moved) {
      frames.get(f);
      frames.put(s >>> SHIFT);
    }
  }
}

/** Stores a free-list head and the frames freed onto it since the last write-back into the pool. */
function writeBack(pool: Pool, head: number, freed: number): void {
  pool.freeHead = head;
  pool.inUse -= freed;
}
