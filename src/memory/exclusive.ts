// Models: device-exclusive entries (mm/rmap.c make_device_exclusive, mm/memory.c
// remove_device_exclusive_entry): a device takes a system page for atomics, the CPU PTE becomes
// a non-present exclusive entry after an EXCLUSIVE notifier carrying the caller's owner; any CPU
// touch restores the PTE after an EXCLUSIVE notifier with owner NULL.
// Leaves out: the folio lock window (exclusivity lasts until something restores the entry).
import { EFAULT, EOPNOTSUPP } from "./errno.js";
import { Mm } from "./address-space.js";
import { FAULT_FLAG_REMOTE, FAULT_FLAG_WRITE, handleMmFault } from "./fault.js";
import { MMU_NOTIFY_CLEAR, MMU_NOTIFY_EXCLUSIVE } from "./mmu-notifier.js";
import { KIND_DEVICE_EXCLUSIVE, KIND_PRESENT, PTE_PFN_MASK, PTE_WRITE, makePte, pteKind } from "./pte.js";
import { POOL_RAM, ZERO_PFN } from "./frames.js";
import type { Vma } from "./vma.js";

/**
 * make_device_exclusive(mm, addr, owner): faults the page in writable (GUP FOLL_WRITE |
 * FOLL_SPLIT_PMD), then converts its PTE. Returns the frame, or a negative errno.
 */
export function makeDeviceExclusive(mm: Mm, vpn: number, owner: unknown): number {
  if (handleMmFault(mm, vpn, FAULT_FLAG_WRITE | FAULT_FLAG_REMOTE) !== 0) return -EFAULT;
  const vma = mm.find(vpn)!;
  const { pte, huge, order } = vma.region;
  const idx = Mm.index(vma, vpn);
  if (huge !== null && huge[idx >> order]) {
    const n = 1 << order;
    const b0 = vpn - (idx & (n - 1));
    mm.invalidate(b0, b0 + n, MMU_NOTIFY_CLEAR); // __split_huge_pmd
    huge[idx >> order] = 0;
  }
  const p = pte[idx];
  const f = p & PTE_PFN_MASK;
  if (vma.file !== null || vma.hugetlb || pteKind(p) !== KIND_PRESENT || f === ZERO_PFN || mm.mem.frames.kindOf(f) !== POOL_RAM) {
    return -EOPNOTSUPP; // only anonymous system pages (folio_test_anon)
  }
  mm.invalidate(vpn, vpn + 1, MMU_NOTIFY_EXCLUSIVE, owner);
  pte[idx] = makePte(KIND_DEVICE_EXCLUSIVE, f, (p & PTE_WRITE) !== 0);
  return f;
}

/** remove_device_exclusive_entry / restore_exclusive_pte. */
export function restoreExclusive(mm: Mm, vma: Vma, vpn: number): void {
  mm.invalidate(vpn, vpn + 1, MMU_NOTIFY_EXCLUSIVE, null);
  const idx = Mm.index(vma, vpn);
  const p = vma.region.pte[idx];
  vma.region.pte[idx] = makePte(KIND_PRESENT, p & PTE_PFN_MASK, (p & PTE_WRITE) !== 0);
}
