// Models: a process address space (struct mm_struct): its VMAs and page tables, and the
// operations that change them wholesale (mmap, munmap, mprotect), each announcing its range to
// the MMU notifiers before touching a PTE (mm/mmap.c, mm/mprotect.c). Faults, fork and
// device-exclusive entries live in fault.ts, fork.ts and exclusive.ts.
// Leaves out: address reuse (a new mmap never lands where an old one was), VMA merging, mremap.
import { EINVAL, ENOMEM } from "./errno.js";
import { ZERO_PFN } from "./frames.js";
import type { Memory } from "./memory.js";
import {
  MMU_NOTIFY_PROTECTION_VMA, MMU_NOTIFY_RELEASE, MMU_NOTIFY_UNMAP, NotifierHook,
} from "./mmu-notifier.js";
import { KIND_DEVICE_PRIVATE, KIND_NONE, KIND_PRESENT, PTE_PFN_MASK, PTE_WRITE, PTE_KIND_SHIFT } from "./pte.js";
import { MappedFile, PROT_WRITE, Region, Vma, vmaIsAnonymous } from "./vma.js";

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
    const shared = opts.shared ?? false;
    const file = opts.file ?? (shared ? new MappedFile(`shmem@${start}`, true) : null);
    this.insertVma({
      start, end: start + len, prot, shared, file, fileOff: opts.fileOff ?? 0, hugetlb,
      region: new Region(len, order), regionOff: 0,
    });
    return start;
  }

  /** munmap: UNMAP notifier over the range, then zap PTEs and drop the VMAs (mm/mmap.c do_vmi_munmap). */
  munmap(start: number, pages: number): number {
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(pages) || pages <= 0) return -EINVAL;
    const end = start + pages;
    this.invalidate(start, end, MMU_NOTIFY_UNMAP);
    this.forEachVmaPart(start, end, (vma, s, e) => this.zap(vma, s, e));
    this.splitAt(start);
    this.splitAt(end);
    for (let i = this.vmas.length - 1; i >= 0; i--) {
      const v = this.vmas[i];
      if (v.start >= start && v.end <= end) this.vmas.splice(i, 1);
    }
    return 0;
  }

  /**
   * mprotect: PROTECTION_VMA notifier where the range is populated (change_pmd_range), then new
   * VMA flags; removing write clears the write bit of present and device-private entries.
   * Simplification: adding write leaves PTEs read-only until the next write fault.
   */
  mprotect(start: number, pages: number, prot: number): number {
    const end = start + pages;
    for (let v = start; v < end; ) {
      const vma = this.find(v);
      if (!vma) return -ENOMEM; // mprotect on an unmapped page (mm/mprotect.c)
      v = vma.end;
    }
    let populated = false;
    this.forEachVmaPart(start, end, (vma, s, e) => {
      const pte = vma.region.pte;
      for (let i = vma.regionOff + (s - vma.start), n = i + (e - s); i < n; i++) {
        if (pte[i] !== 0) {
          populated = true;
          return;
        }
      }
    });
    if (populated) this.invalidate(start, end, MMU_NOTIFY_PROTECTION_VMA);
    this.splitAt(start);
    this.splitAt(end);
    this.forEachVmaPart(start, end, (vma, s, e) => {
      vma.prot = prot;
      if (prot & PROT_WRITE) return;
      const pte = vma.region.pte;
      for (let i = vma.regionOff + (s - vma.start), n = i + (e - s); i < n; i++) {
        const k = pte[i] >>> PTE_KIND_SHIFT;
        if (k === KIND_PRESENT || k === KIND_DEVICE_PRIVATE) pte[i] = (pte[i] & ~PTE_WRITE) >>> 0;
      }
    });
    return 0;
  }

  /** exit_mmap: RELEASE notifier over everything, then every mapping is torn down. */
  exit(): void {
    if (!this.live) return;
    this.invalidate(0, 2 ** 36, MMU_NOTIFY_RELEASE);
    for (const v of this.vmas) this.zap(v, v.start, v.end);
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
   * pages whose last reference goes return to their driver (page_free). Splits huge blocks it cuts.
   */
  zap(vma: Vma, s: number, e: number): void {
    const { pte, huge, order } = vma.region;
    const frames = this.mem.frames;
    const i0 = vma.regionOff + (s - vma.start);
    const i1 = i0 + (e - s);
    if (huge !== null) for (let b = i0 >> order; b <= (i1 - 1) >> order; b++) huge[b] = 0;
    for (let i = i0; i < i1; i++) {
      const p = pte[i];
      if (p === 0) continue;
      pte[i] = 0;
      const f = p & PTE_PFN_MASK;
      if (f === ZERO_PFN && p >>> PTE_KIND_SHIFT === KIND_PRESENT) continue;
      frames.mapcount[f]--;
      frames.put(f);
    }
  }

  /** Splits the VMA containing `vpn` so that a VMA starts at `vpn` (__split_vma). */
  private splitAt(vpn: number): void {
    const v = this.find(vpn);
    if (!v || v.start === vpn) return;
    const tail: Vma = { ...v, start: vpn, regionOff: v.regionOff + (vpn - v.start), fileOff: v.fileOff + (vpn - v.start) };
    v.end = vpn;
    this.insertVma(tail);
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
}

/** True when nothing is mapped at [s, e) of `vma`'s region. */
export function rangeEmpty(vma: Vma, s: number, e: number): boolean {
  const pte = vma.region.pte;
  for (let i = Mm.index(vma, s), n = i + (e - s); i < n; i++) if (pte[i] >>> PTE_KIND_SHIFT !== KIND_NONE) return false;
  return true;
}

export { vmaIsAnonymous };
