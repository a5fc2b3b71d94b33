// Models: device-exclusive entries (mm/rmap.c make_device_exclusive, mm/memory.c
// remove_device_exclusive_entry): a device takes an anonymous page for atomics (system RAM or
// device-coherent memory alike: folio_test_anon and not hugetlb are the only conditions), the
// CPU PTE becomes a non-present exclusive entry after an EXCLUSIVE notifier carrying the caller's
// owner; any CPU touch restores the PTE after an EXCLUSIVE notifier with owner NULL.
// Leaves out: the folio lock window (exclusivity lasts until something restores the entry).
import { EFAULT, EOPNOTSUPP } from "./errno.js";
import { Mm } from "./address-space.js";
import { FAULT_FLAG_REMOTE, FAULT_FLAG_WRITE, handleMmFault } from "./fault.js";
import { MMU_NOTIFY_CLEAR, MMU_NOTIFY_EXCLUSIVE } from "./mmu-notifier.js";
import { KIND_DEVICE_EXCLUSIVE, KIND_PRESENT, PTE_PFN_MASK, PTE_WRITE, makePte, pteKind } from "./pte.js";
import { ZERO_PFN } from "./frames.js";
import type { Vma } from "./vma.js";

/** Whether page `vpn`'s frame `f` is anonymous (folio_test_anon): not the zero page, not a page-cache page. */
export function isAnonPage(vma: Vma, vpn: number, f: number): boolean {
  if (f === ZERO_PFN) return false;
  return vma.file === null || vma.file.lookup(vma.fileOff + (vpn - vma.start)) !== f;
}

/**
 * make_device_exclusive(mm, addr, owner): faults the page in writable (GUP FOLL_WRITE |
 * FOLL_SPLIT_PMD), then converts its PTE. Returns the frame, or a negative errno.
 */
export function makeDeviceExclusive(mm: Mm, vpn: number, owner: unknown): number {
  if (handleMmFault(mm, vpn, FAULT_FLAG_WRITE | FAULT_FLAG_REMOTE) !== 0) return -EFAULT;
  const vma = mm.find(vpn)!;
  const region = vma.region;
  const idx = Mm.index(vma, vpn);
  if (vma.hugetlb) return -EOPNOTSUPP; // folio_test_hugetlb
  if (region.isHuge(idx)) {
    const n = 1 << region.order;
    const b0 = vpn - (idx % n);
    mm.invalidate(b0, b0 + n, MMU_NOTIFY_CLEAR); // __split_huge_pmd (FOLL_SPLIT_PMD)
    region.setHuge(idx, false);
  }
  const p = region.get(idx);
  const f = p & PTE_PFN_MASK;
  if (pteKind(p) !== KIND_PRESENT || !isAnonPage(vma, vpn, f)) return -EOPNOTSUPP;
  mm.invalidate(vpn, vpn + 1, MMU_NOTIFY_EXCLUSIVE, owner);
  region.set(idx, makePte(KIND_DEVICE_EXCLUSIVE, f, (p & PTE_WRITE) !== 0));
  return f;
}

/** remove_device_exclusive_entry / restore_exclusive_pte. */
export function restoreExclusive(mm: Mm, vma: Vma, vpn: number): void {
  mm.invalidate(vpn, vpn + 1, MMU_NOTIFY_EXCLUSIVE, null);
  const idx = Mm.index(vma, vpn);
  const p = vma.region.get(idx);
  vma.region.set(idx, makePte(KIND_PRESENT, p & PTE_PFN_MASK, (p & PTE_WRITE) !== 0));
}
