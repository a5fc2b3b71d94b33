// Models: a process address space (struct mm_struct): its VMAs and page tables, and the
// operations that change them wholesale (mmap, munmap, mprotect), each announcing its range to
// the MMU notifiers before touching a PTE (mm/vma.c, mm/mprotect.c, vma_adjust_trans_huge in
// mm/huge_memory.c). Work is proportional to the page tables that exist, never to the mapping. Faults, fork and
// device-exclusive entries live in fault.ts, fork.ts and exclusive.ts.
// Leaves out: address reuse (a new mmap never lands where an old one was), VMA merging, mremap.
import { EINVAL, ENOMEM } from "./errno.js";
import { ZERO_PFN } from "./frames.js";
import type { Memory } from "./memory.js";
import {
  MMU_NOTIFY_CLEAR, MMU_NOTIFY_PROTECTION_VMA, MMU_NOTIFY_RELEASE, MMU_NOTIFY_UNMAP, NotifierHook,
} from "./mmu-notifier.js";
import { KIND_DEVICE_PRIVATE, KIND_PRESENT, PTE_PFN_MASK, PTE_WRITE, PTE_KIND_SHIFT } from "./pte.js";
import { inBlock, nextBlockStart, PTRS_PER_PTE, Region } from "./page-table.js";
import { MappedFile, PMD_ORDER, PROT_WRITE, PUD_ORDER, Vma, vmaIsAnonymous } from "./vma.js";

const PMD_PAGES = 1 << PMD_ORDER;
const PUD_PAGES = 1 << PUD_ORDER;

/** First page number handed out by mmap (0x10000000 >> 12): keeps page 0 unmapped. */
const MMAP_BASE = 0x10000;

export interface MmapOptions {
  shared?: boolean;
  file?: MappedFile | null;
  /** File page index the mapping starts at. */
  fileOff?: number;
  /** Huge block order the VMA may map (THP: 9), or hugetlb pages of that order. */
  hugeOrder?: number;
  hugetlb?: boolean;
}

export class Mm {
  readonly vmas: Vma[] = [];
  /** Set by the first interval notifier insert (mmu_notifier_register). */
  notifier: NotifierHook | null = null;
  /** False after exit_mmap. */
  live = true;
  private nextVpn = MMAP_BASE;

  constructor(readonly mem: Memory, readonly name: string) {
    mem.mms.push(this);
  }

  /** fork: the child continues the parent's mmap layout (same addresses). */
  adoptLayout(parent: Mm): void {
    this.nextVpn = parent.nextVpn;
  }

  /** find_vma + containment: the VMA holding page `vpn`, or undefined. */
  find(vpn: number): Vma | undefined {
    const v = this.vmas;
    let lo = 0;
    let hi = v.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const m = v[mid];
      if (vpn < m.start) hi = mid - 1;
      else if (vpn >= m.end) lo = mid + 1;
      else return m;
    }
    return undefined;
  }

  /** The first VMA ending after `vpn` (find_vma), or undefined. */
  findFrom(vpn: number): Vma | undefined {
    for (const m of this.vmas) if (m.end > vpn) return m;
    return undefined;
  }

  /** mmu_notifier_invalidate_range_start for [start, end). */
  invalidate(start: number, end: number, event: number, owner: unknown = null): void {
    if (this.notifier !== null) this.notifier.invalidateRangeStart({ start, end, event, owner });
  }

  /** Maps `pages` new pages; returns the first page number. Huge mappings start block-aligned. */
  mmap(pages: number, prot: number, opts: MmapOptions = {}): number {
    if (!Number.isSafeInteger(pages) || pages <= 0) return -EINVAL;
    const order = opts.hugeOrder ?? 0;
    const align = 1 << order;
    const start = Math.ceil(this.nextVpn / align) * align;
    const hugetlb = opts.hugetlb ?? false;
    const len = hugetlb ? Math.ceil(pages / align) * align : pages;
    if (start + len > 2 ** 35) return -ENOMEM;
    this.nextVpn = start + len + Math.max(align, 16); // a guard gap keeps mappings apart
    this.mem.frames.reserve(len); // room for its pages in the frame table while it is nearly empty
    const shared = opts.shared ?? false;
    const file = opts.file ?? (shared ? new MappedFile(`shmem@${start}`, true) : null);
    this.insertVma({
      start, end: start + len, prot, shared, file, fileOff: opts.fileOff ?? 0, hugetlb, anonVma: false,
      region: new Region(len, order), regionOff: 0,
    });
    return start;
  }

  /** munmap: splits at the ends, UNMAP notifier over the range, then zap PTEs and drop the VMAs and their tables (mm/vma.c do_vmi_align_munmap). */
  munmap(start: number, pages: number): number {
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(pages) || pages <= 0) return -EINVAL;
    const end = start + pages;
    if (!this.splittable(start) || !this.splittable(end)) return -EINVAL;
    this.splitAt(start);
    this.splitAt(end);
    this.invalidate(start, end, MMU_NOTIFY_UNMAP);
    this.forEachVmaPart(start, end, (vma, s, e) => this.zap(vma, s, e, true));
    for (let i = this.vmas.length - 1; i >= 0; i--) {
      const v = this.vmas[i];
      if (v.start >= start && v.end <= end) this.vmas.splice(i, 1);
    }
    return 0;
  }

  /**
   * mprotect: per VMA whose flags change (mprotect_fixup: an unchanged VMA is left alone, no split
   * and no notifier), split it at the range ends, then change_protection: a PROTECTION_VMA
   * notifier from the first populated PMD of each PUD range (change_pmd_range), new VMA flags;
   * removing write clears the write bit of present and device-private entries.
   * Simplification: adding write leaves PTEs read-only until the next write fault.
   */
  mprotect(start: number, pages: number, prot: number): number {
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(pages) || pages <= 0) return -EINVAL;
    const end = start + pages;
    for (let v = start; v < end; ) {
      const vma = this.find(v);
      if (!vma) return -ENOMEM; // mprotect on an unmapped page (mm/mprotect.c)
      v = vma.end;
    }
    if (!this.splittable(start) || !this.splittable(end)) return -EINVAL;
    this.forEachVmaPart(start, end, (vma, s, e) => {
      if (vma.prot === prot) return;
      this.splitAt(s);
      this.splitAt(e);
      const part = this.find(s)!;
      this.notifyPopulated(part, s, e, MMU_NOTIFY_PROTECTION_VMA);
      part.prot = prot;
      if (!(prot & PROT_WRITE)) writeProtect(part, s, e);
    });
    return 0;
  }

  /**
   * change_pmd_range's notifier: per PUD range of [s, e), from the first populated PMD to the range
   * end. Simplification: a 512-entry table of the mapping stands for a PMD (they coincide when the
   * mapping starts 2 MiB aligned, as THP mappings do).
   */
  private notifyPopulated(vma: Vma, s: number, e: number, event: number): void {
    const region = vma.region;
    for (let a = s; a < e; ) {
      const pudEnd = Math.min(e, (Math.floor(a / PUD_PAGES) + 1) * PUD_PAGES);
      const first = region.next(Mm.index(vma, a), Mm.index(vma, pudEnd));
      if (first < Mm.index(vma, pudEnd)) {
        const vpn = vma.start + (first - vma.regionOff);
        this.invalidate(Math.max(a, Math.floor(vpn / PMD_PAGES) * PMD_PAGES), pudEnd, event);
      }
      a = pudEnd;
    }
  }

  /** exit_mmap: RELEASE notifier over everything, then every mapping is torn down. */
  exit(): void {
    if (!this.live) return;
    this.invalidate(0, 2 ** 36, MMU_NOTIFY_RELEASE);
    for (const v of this.vmas) this.zap(v, v.start, v.end, true);
    this.vmas.length = 0;
    this.live = false;
    const i = this.mem.mms.indexOf(this);
    if (i >= 0) this.mem.mms.splice(i, 1);
  }

  /** Calls `visit` for each VMA part intersecting [start, end). */
  forEachVmaPart(start: number, end: number, visit: (vma: Vma, s: number, e: number) => void): void {
    for (const v of this.vmas.slice()) {
      const s = Math.max(start, v.start);
      const e = Math.min(end, v.end);
      if (s < e) visit(v, s, e);
    }
  }

  /**
   * zap_pte_range: clears PTEs in [s, e) of `vma`, dropping map counts and references; device
   * pages whose last reference goes return to their driver (page_free). Huge blocks it cuts lose
   * their huge mapping. Only tables that exist are visited; with `freeTables` (munmap, exit) the
   * tables the range covers whole go too (free_pgtables).
   */
  zap(vma: Vma, s: number, e: number, freeTables = false): void {
    const region = vma.region;
    const frames = this.mem.frames;
    const i0 = Mm.index(vma, s);
    const i1 = i0 + (e - s);
    if (region.anyHuge) region.clearHuge(i0, i1);
    for (let i = region.next(i0, i1); i < i1; ) {
      const b = region.block(i)!;
      const stop = Math.min(i1, nextBlockStart(i));
      for (let j = inBlock(i), n = j + (stop - i); j < n; j++) {
        const p = b[j];
        if (p === 0) continue;
        b[j] = 0;
        const f = p & PTE_PFN_MASK;
        if (f === ZERO_PFN && p >>> PTE_KIND_SHIFT === KIND_PRESENT) continue;
        frames.mapcount[f]--;
        frames.put(f);
      }
      if (freeTables && inBlock(i) === 0 && stop - i === PTRS_PER_PTE) region.dropBlock(i);
      i = region.next(stop, i1);
    }
  }

  /** Whether a VMA may be split at `vpn`: a hugetlb VMA only at its huge page size (hugetlb_vm_op_split). */
  private splittable(vpn: number): boolean {
    const v = this.find(vpn);
    return !v || !v.hugetlb || v.start === vpn || Mm.index(v, vpn) % (1 << v.region.order) === 0;
  }

  /**
   * Splits the VMA containing `vpn` so that a VMA starts at `vpn` (__split_vma), first splitting
   * a huge PMD that the new boundary would cut (vma_adjust_trans_huge).
   */
  private splitAt(vpn: number): void {
    const v = this.find(vpn);
    if (!v || v.start === vpn) return;
    this.adjustTransHuge(v, vpn);
    const tail: Vma = { ...v, start: vpn, regionOff: v.regionOff + (vpn - v.start), fileOff: v.fileOff + (vpn - v.start) };
    v.end = vpn;
    this.insertVma(tail);
  }

  /**
   * split_huge_pmd_if_needed (mm/huge_memory.c): a boundary at `vpn` that is not 2 MiB aligned,
   * inside a 2 MiB block that lies in the VMA, goes through __split_huge_pmd wherever a PMD table
   * exists there (the PUD is populated): a CLEAR notifier over the block, and a huge PMD there
   * becomes PTEs, so no PMD ever carries two protections.
   */
  private adjustTransHuge(vma: Vma, vpn: number): void {
    if (vpn % PMD_PAGES === 0) return;
    const b0 = Math.floor(vpn / PMD_PAGES) * PMD_PAGES;
    const b1 = b0 + PMD_PAGES;
    if (b0 < vma.start || b1 > vma.end || !this.pudPopulated(vpn)) return;
    this.invalidate(b0, b1, MMU_NOTIFY_CLEAR);
    vma.region.setHuge(Mm.index(vma, vpn), false);
  }

  /** Whether any page table exists in the 1 GiB (PUD) range around `vpn` (mm_find_pmd finds a PMD). */
  private pudPopulated(vpn: number): boolean {
    const p0 = Math.floor(vpn / PUD_PAGES) * PUD_PAGES;
    const p1 = p0 + PUD_PAGES;
    for (const v of this.vmas) {
      const s = Math.max(p0, v.start);
      const e = Math.min(p1, v.end);
      if (s < e && v.region.next(Mm.index(v, s), Mm.index(v, e)) < Mm.index(v, e)) return true;
    }
    return false;
  }

  insertVma(vma: Vma): void {
    let i = this.vmas.length;
    while (i > 0 && this.vmas[i - 1].start > vma.start) i--;
    this.vmas.splice(i, 0, vma);
  }

  /** Index in the VMA's region of page `vpn`. */
  static index(vma: Vma, vpn: number): number {
    return vma.regionOff + (vpn - vma.start);
  }

  /** The PTE of page `vpn` in `vma` (0 when none). */
  static pte(vma: Vma, vpn: number): number {
    return vma.region.get(vma.regionOff + (vpn - vma.start));
  }
}

/** True when nothing is mapped at [s, e) of `vma`'s region. */
export function rangeEmpty(vma: Vma, s: number, e: number): boolean {
  return vma.region.empty(Mm.index(vma, s), Mm.index(vma, e));
}

/** Clears the write bit of present and device-private entries of [s, e) (tables that exist only). */
function writeProtect(vma: Vma, s: number, e: number): void {
  const region = vma.region;
  const i1 = Mm.index(vma, e);
  for (let i = region.next(Mm.index(vma, s), i1); i < i1; ) {
    const b = region.block(i)!;
    const stop = Math.min(i1, nextBlockStart(i));
    for (let j = inBlock(i), n = j + (stop - i); j < n; j++) {
      const k = b[j] >>> PTE_KIND_SHIFT;
      if (k === KIND_PRESENT || k === KIND_DEVICE_PRIVATE) b[j] = (b[j] & ~PTE_WRITE) >>> 0;
    }
    i = region.next(stop, i1);
  }
}

export { vmaIsAnonymous };
