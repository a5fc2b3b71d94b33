// Models: the kit's DMA safety checker (DESIGN §1 step 6): a generation counter per frame, bumped
// when a device page goes back to its driver (page_free), and a check of every peer DMA against
// the page that backs the address in the process now: a DMA that reaches a freed page, another
// page (migrated away, BAR slot or IOVA reused), a page freed and reused since it was mapped, or
// writes a page the CPU no longer maps writable, is a violation naming device, address and reason.
// Leaves out: generations of RAM frames (the frame table is not instrumented): a stale mapping
// that lands on a RAM frame reallocated to the same address is not reported (its data is right).
import { Mm } from "../memory/address-space.js";
import type { Memory } from "../memory/memory.js";
import { KIND_DEVICE_PRIVATE, KIND_PRESENT, PTE_KIND_SHIFT, PTE_PFN_MASK, PTE_WRITE } from "../memory/pte.js";
import { hex, PAGE_SIZE } from "../units/size.js";

export class DmaSafety {
  private gen = new Uint32Array(1 << 16);

  constructor(readonly mem: Memory) {}

  /** page_free of a device page: its next user is a new incarnation. */
  frameFreed(frame: number): void {
    if (frame >= this.gen.length) {
      let n = this.gen.length;
      while (n <= frame) n *= 2;
      const g = new Uint32Array(n);
      g.set(this.gen);
      this.gen = g;
    }
    this.gen[frame]++;
  }

  generation(frame: number): number {
    return frame >= 0 && frame < this.gen.length ? this.gen[frame] : 0;
  }

  /** The frame backing `vpn` in `mm` (present or device-private entry), or -1; writable in bit 0 of `w`. */
  static backing(mm: Mm, vpn: number): { frame: number; writable: boolean } {
    const vma = mm.find(vpn);
    if (!vma) return { frame: -1, writable: false };
    const p = vma.region.pte[Mm.index(vma, vpn)];
    const k = p >>> PTE_KIND_SHIFT;
    if (k !== KIND_PRESENT && k !== KIND_DEVICE_PRIVATE) return { frame: -1, writable: false };
    return { frame: p & PTE_PFN_MASK, writable: (p & PTE_WRITE) !== 0 };
  }

  /**
   * Checks one page of a DMA by `device` for (mm, vpn) that reached `reached` (-1: an empty BAR
   * slot), through a mapping made for `mapped` at generation `mappedGen`. Records and returns the
   * violation's reason, or null when the access is safe.
   */
  check(device: string, mm: Mm, vpn: number, reached: number, mapped: number, mappedGen: number, write: boolean, via: string): string | null {
    const now = DmaSafety.backing(mm, vpn);
    let reason: string | null = null;
    if (reached < 0) reason = "reached a BAR slot that no longer exposes any page (the page behind it was given back)";
    else if (this.mem.frames.isFree(reached)) reason = "reached a page that was freed";
    else if (now.frame !== reached) {
      reason = now.frame < 0
        ? "reached a page the process no longer maps (unmapped or being migrated)"
        : "reached a page that no longer backs this address (migrated away, or its BAR slot or IOVA reused)";
    } else if (mapped !== reached || this.generation(reached) !== mappedGen) reason = "reached a page freed and reused since it was mapped";
    else if (write && !now.writable) reason = "wrote a page the CPU maps read-only now (COW-shared after fork, or mprotected)";
    if (reason === null) return null;
    this.mem.counters.violations.push({ device, address: hex(vpn * PAGE_SIZE), reason: `DMA ${write ? "write" : "read"} ${via}: ${reason}` });
    return reason;
  }
}
