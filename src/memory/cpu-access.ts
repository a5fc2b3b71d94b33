// Models: a CPU load or store to one page: the access goes through the PTE when it allows it,
// and otherwise takes a page fault first (handle_mm_fault), as the MMU would.
// Leaves out: TLBs and access size (a page holds one number, DESIGN §4).
import { Mm } from "./address-space.js";
import { EFAULT } from "./errno.js";
import { FAULT_FLAG_WRITE, handleMmFault } from "./fault.js";
import { KIND_PRESENT, PTE_KIND_SHIFT, PTE_PFN_MASK, PTE_WRITE } from "./pte.js";
import { PROT_READ, PROT_WRITE } from "./vma.js";

/** The frame a CPU access to `vpn` lands on after any fault, or -EFAULT (SIGSEGV / SIGBUS). */
export function cpuAccess(mm: Mm, vpn: number, write: boolean): number {
  const vma = mm.find(vpn);
  if (!vma || !(vma.prot & (write ? PROT_WRITE : PROT_READ))) return -EFAULT;
  let p = Mm.pte(vma, vpn);
  if (p >>> PTE_KIND_SHIFT !== KIND_PRESENT || (write && !(p & PTE_WRITE))) {
    const ret = handleMmFault(mm, vpn, write ? FAULT_FLAG_WRITE : 0);
    if (ret !== 0) return ret;
    const again = mm.find(vpn)!;
    p = Mm.pte(again, vpn);
  }
  return p & PTE_PFN_MASK;
}

export function cpuRead(mm: Mm, vpn: number): number {
  const f = cpuAccess(mm, vpn, false);
  return f < 0 ? NaN : mm.mem.frames.content[f];
}
