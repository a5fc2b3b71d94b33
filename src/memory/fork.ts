// Models: fork's copy of an address space (kernel/fork.c dup_mmap, mm/memory.c copy_page_range):
// a VMA is copied only when vma_needs_copy says so (it has an anon_vma); the others (shared and
// shmem mappings, file mappings never written privately, private memory that only ever mapped the
// zero page) start with an empty page table in the child, which faults them in on demand, and
// fire no notifier. A copied private mapping becomes copy-on-write after a PROTECTION_PAGE
// notifier on the parent: present pages and device-private entries are write-protected in both
// processes and gain a map count; device-exclusive entries are restored first.
// Leaves out: early copy of pinned anonymous pages, VM_DONTCOPY / VM_WIPEONFORK, and VM_PFNMAP /
// VM_MIXEDMAP mappings (the kit has none).
import { Mm } from "./address-space.js";
import { restoreExclusive } from "./exclusive.js";
import { ZERO_PFN } from "./frames.js";
import { MMU_NOTIFY_PROTECTION_PAGE } from "./mmu-notifier.js";
import { inBlock, nextBlockStart, Region } from "./page-table.js";
import { KIND_DEVICE_EXCLUSIVE, KIND_DEVICE_PRIVATE, KIND_PRESENT, PTE_KIND_SHIFT, PTE_PFN_MASK, PTE_WRITE } from "./pte.js";
import type { Vma } from "./vma.js";

/** vma_needs_copy (mm/memory.c): only a VMA with an anon_vma has page tables fork must copy. */
export function vmaNeedsCopy(vma: Vma): boolean {
  return vma.anonVma;
}

export function forkMm(parent: Mm, childName: string): Mm {
  const child = new Mm(parent.mem, childName);
  for (const vma of parent.vmas) if (vmaNeedsCopy(vma)) shareForCopy(parent, vma);
  // The child's page tables: one per parent region (shared by split VMAs), holding copies of the
  // parts that needed copying.
  const copies = new Map<Region, Region>();
  for (const vma of parent.vmas) {
    let r = copies.get(vma.region);
    if (!r) {
      r = new Region(vma.region.pages, vma.region.order);
      copies.set(vma.region, r);
    }
    if (vmaNeedsCopy(vma)) r.copyFrom(vma.region, vma.regionOff, Mm.index(vma, vma.end));
    child.insertVma({ ...vma, region: r });
  }
  child.adoptLayout(parent);
  return child;
}

/** copy_pte_range on the parent's side: references and map counts for the child, write-protect for COW. */
function shareForCopy(parent: Mm, vma: Vma): void {
  const frames = parent.mem.frames;
  const cow = !vma.shared; // is_cow_mapping: private mappings may write (VM_MAYWRITE)
  if (cow) parent.invalidate(vma.start, vma.end, MMU_NOTIFY_PROTECTION_PAGE);
  const region = vma.region;
  const i0 = vma.regionOff;
  const i1 = Mm.index(vma, vma.end);
  for (let i = region.next(i0, i1); i < i1; ) {
    const stop = Math.min(i1, nextBlockStart(i));
    for (let k = i; k < stop; k++) {
      if (region.get(k) >>> PTE_KIND_SHIFT === KIND_DEVICE_EXCLUSIVE) restoreExclusive(parent, vma, vma.start + (k - i0));
    }
    const b = region.block(i)!;
    for (let j = inBlock(i), n = j + (stop - i); j < n; j++) {
      const p = b[j];
      const kind = p >>> PTE_KIND_SHIFT;
      if (kind !== KIND_PRESENT && kind !== KIND_DEVICE_PRIVATE) continue;
      const f = p & PTE_PFN_MASK;
      if (f !== ZERO_PFN || kind !== KIND_PRESENT) {
        frames.get(f);
        frames.mapcount[f]++;
      }
      if (cow) b[j] = (p & ~PTE_WRITE) >>> 0;
    }
    i = region.next(stop, i1);
  }
}
