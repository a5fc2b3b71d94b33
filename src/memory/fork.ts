// Models: fork's copy of an address space (kernel/fork.c dup_mmap, mm/memory.c copy_page_range):
// shared mappings share pages; private mappings become copy-on-write after a PROTECTION_PAGE
// notifier on the parent: present pages and device-private entries are write-protected in both
// processes and gain a map count; device-exclusive entries are restored first.
// Leaves out: early copy of pinned anonymous pages, and VM_DONTCOPY / VM_WIPEONFORK.
import { Mm } from "./address-space.js";
import type { Region } from "./vma.js";
import { restoreExclusive } from "./exclusive.js";
import { ZERO_PFN } from "./frames.js";
import { MMU_NOTIFY_PROTECTION_PAGE } from "./mmu-notifier.js";
import { KIND_DEVICE_EXCLUSIVE, KIND_DEVICE_PRIVATE, KIND_PRESENT, PTE_KIND_SHIFT, PTE_PFN_MASK, PTE_WRITE } from "./pte.js";

export function forkMm(parent: Mm, childName: string): Mm {
  const child = new Mm(parent.mem, childName);
  const frames = parent.mem.frames;
  for (const vma of parent.vmas) {
    const cow = !vma.shared;
    if (cow) parent.invalidate(vma.start, vma.end, MMU_NOTIFY_PROTECTION_PAGE);
    const pte = vma.region.pte;
    const i0 = vma.regionOff;
    const i1 = i0 + (vma.end - vma.start);
    for (let i = i0; i < i1; i++) {
      if (pte[i] >>> PTE_KIND_SHIFT === KIND_DEVICE_EXCLUSIVE) restoreExclusive(parent, vma, vma.start + (i - i0));
    }
    for (let i = i0; i < i1; i++) {
      const p = pte[i];
      const kind = p >>> PTE_KIND_SHIFT;
      if (kind !== KIND_PRESENT && kind !== KIND_DEVICE_PRIVATE) continue;
      const f = p & PTE_PFN_MASK;
      if (f !== ZERO_PFN || kind !== KIND_PRESENT) {
        frames.get(f);
        frames.mapcount[f]++;
      }
      if (cow) pte[i] = (p & ~PTE_WRITE) >>> 0;
    }
  }
  // The child's page tables: copies of the parent's (each region once, shared by split VMAs).
  const copies = new Map<Region, Region>();
  for (const vma of parent.vmas) {
    let r = copies.get(vma.region);
    if (!r) {
      r = vma.region.clone();
      copies.set(vma.region, r);
    }
    child.insertVma({ ...vma, region: r });
  }
  child.adoptLayout(parent);
  return child;
}
