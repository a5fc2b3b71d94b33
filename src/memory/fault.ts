// Models: handle_mm_fault for one page (mm/memory.c): demand faults (zero page on a read of
// untouched private anonymous memory, a new page or huge folio on write, page cache for file and
// shmem mappings), write-protect faults (reuse an exclusive page, or copy-on-write after a CLEAR
// notifier), device-private entries (the owner's migrate_to_ram) and device-exclusive entries
// (restored after an EXCLUSIVE notifier with owner NULL).
// Leaves out: swap, userfaultfd, NUMA hinting, mlock, and write-notify on shared file mappings.
import { EFAULT, ENOMEM } from "./errno.js";
import { ZERO_PFN } from "./frames.js";
import { Mm, rangeEmpty } from "./address-space.js";
import { MMU_NOTIFY_CLEAR } from "./mmu-notifier.js";
import {
  KIND_DEVICE_EXCLUSIVE, KIND_DEVICE_PRIVATE, KIND_MIGRATION, KIND_NONE, KIND_PRESENT,
  PTE_PFN_MASK, PTE_WRITE, makePte, pteKind,
} from "./pte.js";
import { PROT_READ, PROT_WRITE, Vma } from "./vma.js";
import { inBlock, nextBlockStart, type Region } from "./page-table.js";
import { restoreExclusive } from "./exclusive.js";

/** enum fault_flag (include/linux/mm_types.h): the fault is a write; a device (not this mm's CPU) asked for it. */
export const FAULT_FLAG_WRITE = 1 << 0;
export const FAULT_FLAG_REMOTE = 1 << 7;

/**
 * handle_mm_fault(vma, address, flags) for page `vpn`: returns 0, or -EFAULT (SIGSEGV/SIGBUS: no
 * VMA, no permission, failed migrate_to_ram), -ENOMEM. Published as a fault event.
 */
export function handleMmFault(mm: Mm, vpn: number, flags: number): number {
  mm.mem.events.fault(mm, vpn, (flags & FAULT_FLAG_REMOTE) !== 0);
  const write = (flags & FAULT_FLAG_WRITE) !== 0;
  for (let attempt = 0; attempt < 8; attempt++) {
    const vma = mm.find(vpn);
    if (!vma) return -EFAULT;
    if (!(vma.prot & (write ? PROT_WRITE : PROT_READ))) return -EFAULT;
    const p = Mm.pte(vma, vpn);
    switch (pteKind(p)) {
      case KIND_NONE:
        return doNoneFault(mm, vma, vpn, write);
      case KIND_PRESENT:
        if (!write || p & PTE_WRITE) return 0;
        return doWpFault(mm, vma, vpn);
      case KIND_DEVICE_PRIVATE: {
        // do_swap_page: a device-private entry calls the owner's migrate_to_ram, then the access retries.
        const f = p & PTE_PFN_MASK;
        const pgmap = mm.mem.frames.poolOf(f).pagemap;
        const migrate = pgmap?.ops.migrateToRam;
        if (!migrate) return -EFAULT;
        mm.mem.frames.get(f);
        const ret = migrate.call(pgmap!.ops, mm, vpn, f);
        mm.mem.frames.put(f);
        if (ret !== 0) return -EFAULT;
        continue;
      }
      case KIND_DEVICE_EXCLUSIVE:
        restoreExclusive(mm, vma, vpn);
        continue;
      case KIND_MIGRATION:
        return -EFAULT; // only between migrate_vma_setup and finalize, which nothing interrupts here
    }
  }
  return -EFAULT;
}

function doNoneFault(mm: Mm, vma: Vma, vpn: number, write: boolean): number {
  const frames = mm.mem.frames;
  const region = vma.region;
  const idx = Mm.index(vma, vpn);
  if (vma.file !== null) {
    const index = vma.fileOff + (vpn - vma.start);
    const cached = vma.file.getOrCreate(index, () => mm.mem.allocRam());
    if (cached < 0) return -ENOMEM;
    if (write && !vma.shared) {
      // do_cow_fault: a private file mapping gets an anonymous copy on write.
      const f = mm.mem.allocRam();
      if (f < 0) return -ENOMEM;
      frames.content[f] = frames.content[cached];
      frames.mapcount[f] = 1;
      vma.anonVma = true; // do_cow_fault: anon_vma_prepare
      region.set(idx, makePte(KIND_PRESENT, f, true));
      return 0;
    }
    frames.get(cached);
    frames.mapcount[cached]++;
    // Simplification: shared mappings map writable on any fault (shmem: no write-notify).
    region.set(idx, makePte(KIND_PRESENT, cached, vma.shared && (vma.prot & PROT_WRITE) !== 0));
    return 0;
  }
  const order = region.order;
  if (order > 0) {
    const b0 = vpn - (idx & ((1 << order) - 1));
    const b1 = b0 + (1 << order);
    if (b0 >= vma.start && b1 <= vma.end && rangeEmpty(vma, b0, b1)) {
      if (hugeFault(mm, vma, b0, write) === 0) return 0;
      if (vma.hugetlb) return -ENOMEM; // no huge page: hugetlb has no base-page fallback (VM_FAULT_OOM)
    }
  }
  if (!write) {
    region.set(idx, makePte(KIND_PRESENT, ZERO_PFN, false)); // do_anonymous_page: the zero page on read, no anon_vma
    return 0;
  }
  const f = mm.mem.allocRam();
  if (f < 0) return -ENOMEM;
  frames.mapcount[f] = 1;
  vma.anonVma = true; // do_anonymous_page: vmf_anon_prepare before a new page
  region.set(idx, makePte(KIND_PRESENT, f, true));
  return 0;
}

/** Fills entries [i0, i0 + n) of `region` with `pte` plus k for the k-th (k = 0 when `step` is 0). */
export function fillPtes(region: Region, i0: number, n: number, pte: number, step: number): void {
  for (let i = i0; i < i0 + n; ) {
    const b = region.table(i);
    const stop = Math.min(i0 + n, nextBlockStart(i));
    for (let j = inBlock(i), m = j + (stop - i); j < m; j++, i++) b[j] = (pte + step * (i - i0)) >>> 0;
  }
}

/**
 * do_huge_pmd_anonymous_page (vmf_anon_prepare first: the VMA gets an anon_vma either way): the
 * huge zero page on read, a zeroed huge folio on write; or hugetlb_no_page: a zeroed huge page
 * either way, mapped read-only on a read of a private mapping (a later write reuses it).
 */
function hugeFault(mm: Mm, vma: Vma, b0: number, write: boolean): number {
  const region = vma.region;
  const order = region.order;
  const i0 = Mm.index(vma, b0);
  const n = 1 << order;
  if (!write && !vma.hugetlb) {
    fillPtes(region, i0, n, makePte(KIND_PRESENT, ZERO_PFN, false), 0);
  } else {
    const f = mm.mem.allocRamContig(order);
    if (f < 0) return -ENOMEM;
    const frames = mm.mem.frames;
    frames.mapcount.fill(1, f, f + n);
    fillPtes(region, i0, n, makePte(KIND_PRESENT, f, write || vma.shared), 1);
  }
  vma.anonVma = true;
  region.setHuge(i0, true);
  return 0;
}

/** do_wp_page / do_huge_pmd_wp_page. */
function doWpFault(mm: Mm, vma: Vma, vpn: number): number {
  const frames = mm.mem.frames;
  const region = vma.region;
  const order = region.order;
  const idx = Mm.index(vma, vpn);
  if (vma.shared) {
    region.set(idx, (region.get(idx) | PTE_WRITE) >>> 0);
    return 0;
  }
  if (region.isHuge(idx)) {
    const n = 1 << order;
    const i0 = idx - (idx % n);
    const b0 = vpn - (idx - i0);
    const f0 = region.get(i0) & PTE_PFN_MASK;
    if (f0 === ZERO_PFN) {
      // Write to the huge zero page: a new zeroed huge folio replaces it.
      mm.invalidate(b0, b0 + n, MMU_NOTIFY_CLEAR);
      const f = mm.mem.allocRamContig(order);
      if (f >= 0) {
        frames.mapcount.fill(1, f, f + n);
        fillPtes(region, i0, n, makePte(KIND_PRESENT, f, true), 1);
        return 0;
      }
      region.setHuge(idx, false);
    } else {
      let exclusive = true;
      for (let k = 0; k < n && exclusive; k++) {
        const f = region.get(i0 + k) & PTE_PFN_MASK;
        exclusive = frames.mapcount[f] === 1 && frames.refcount[f] === 1;
      }
      if (exclusive) {
        for (let k = 0; k < n; k++) region.set(i0 + k, (region.get(i0 + k) | PTE_WRITE) >>> 0);
        return 0;
      }
      // A shared huge folio: split the PMD and copy only the faulting page.
      mm.invalidate(b0, b0 + n, MMU_NOTIFY_CLEAR);
      region.setHuge(idx, false);
    }
  }
  const p = region.get(idx);
  const old = p & PTE_PFN_MASK;
  if (old !== ZERO_PFN && frames.mapcount[old] === 1 && frames.refcount[old] === 1) {
    region.set(idx, (p | PTE_WRITE) >>> 0); // wp_page_reuse: the only user keeps its page
    return 0;
  }
  // wp_page_copy: CLEAR notifier, copy into a new page, switch the PTE, drop the old page.
  mm.invalidate(vpn, vpn + 1, MMU_NOTIFY_CLEAR);
  const f = mm.mem.allocRam();
  if (f < 0) return -ENOMEM;
  frames.content[f] = old === ZERO_PFN ? 0 : frames.content[old];
  frames.mapcount[f] = 1;
  vma.anonVma = true;
  region.set(idx, makePte(KIND_PRESENT, f, true));
  if (old !== ZERO_PFN) {
    frames.mapcount[old]--;
    frames.put(old);
  }
  return 0;
}

