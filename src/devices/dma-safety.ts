// Models: the kit's DMA safety checker (DESIGN §1 step 6): every peer DMA is checked against the
// page that backs the address in the process now, using the frame table's per-frame generation
// (bumped at every free, RAM and device pages alike): a DMA that reaches an empty BAR slot, a
// freed page, another page (migrated away, BAR slot or IOVA reused), a page freed and reused
// since it was mapped, or writes a page the CPU no longer maps writable, gets a verdict; the
// caller publishes it as a violation naming device, address and how the access got there.
// Leaves out: accesses by the CPU (its own page tables are always current).
import { Mm } from "../memory/address-space.js";
import type { ViolationCode } from "../memory/events.js";
import type { FrameTable } from "../memory/frames.js";
import { KIND_DEVICE_PRIVATE, KIND_PRESENT, PTE_KIND_SHIFT, PTE_PFN_MASK, PTE_WRITE } from "../memory/pte.js";

export class DmaSafety {
  constructor(readonly frames: FrameTable) {
    frames.enableGenerations();
  }

  /** The generation a mapping of `frame` made now records. */
  generation(frame: number): number {
    return this.frames.generationOf(frame);
  }

  /** The frame backing `vpn` in `mm` (present or device-private entry), or -1, and whether it is writable. */
  static backing(mm: Mm, vpn: number): { frame: number; writable: boolean } {
    const vma = mm.find(vpn);
    if (!vma) return { frame: -1, writable: false };
    const p = Mm.pte(vma, vpn);
    const k = p >>> PTE_KIND_SHIFT;
    if (k !== KIND_PRESENT && k !== KIND_DEVICE_PRIVATE) return { frame: -1, writable: false };
    return { frame: p & PTE_PFN_MASK, writable: (p & PTE_WRITE) !== 0 };
  }

  /**
   * The verdict on one page of a DMA for (mm, vpn) that reached `reached` (-1: an empty BAR slot),
   * through a mapping made for `mapped` at generation `mappedGen`: null when the access is safe.
   */
  verdict(mm: Mm, vpn: number, reached: number, mapped: number, mappedGen: number, write: boolean): ViolationCode | null {
    if (reached < 0) return "empty-bar-slot";
    if (this.frames.isFree(reached)) return "freed-page";
    const now = DmaSafety.backing(mm, vpn);
    if (now.frame !== reached) return now.frame < 0 ? "unmapped" : "moved";
    if (mapped !== reached || this.generation(reached) !== mappedGen) return "reused";
    if (write && !now.writable) return "read-only";
    return null;
  }
}
