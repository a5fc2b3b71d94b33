// Models: a client's IOMMU DMA domain (drivers/iommu/dma-iommu.c iommu_dma_map_page/unmap_page as
// p2pdma.md §1 describes for THRU_HOST_BRIDGE): an IOVA allocator handing out page-sized IOVAs
// (freed ones reused last-in first-out) and the IOVA→physical page table the IOMMU walks.
// Leaves out: IOTLB caching and flush queues, IOVA ranges larger than a page, reserved regions.
import { PAGE_SIZE } from "../units/size.js";

/** First IOVA handed out (page number): 4 GiB, above the 32-bit DMA zone. */
const IOVA_BASE_PAGE = 0x100000;

export class IommuDomain {
  /** Physical page number + 1 per IOVA page slot (0 = unmapped). */
  private phys = new Float64Array(64);
  private freeStack = new Int32Array(64);
  private freeTop = 0;
  private high = 0;
  /** IOVAs currently mapped. */
  mapped = 0;

  /** iommu_dma_map_page: maps physical address `phys` (page aligned); returns the IOVA. */
  map(phys: number): number {
    let i: number;
    if (this.freeTop > 0) i = this.freeStack[--this.freeTop];
    else {
      i = this.high++;
      if (i >= this.phys.length) {
        const grown = new Float64Array(this.phys.length * 2);
        grown.set(this.phys);
        this.phys = grown;
      }
    }
    this.phys[i] = phys / PAGE_SIZE + 1;
    this.mapped++;
    return (IOVA_BASE_PAGE + i) * PAGE_SIZE;
  }

  /** iommu_dma_unmap_page: the IOVA stops translating and goes back to the allocator. */
  unmap(iova: number): void {
    const i = iova / PAGE_SIZE - IOVA_BASE_PAGE;
    if (!(i >= 0 && i < this.high) || this.phys[i] === 0) return;
    this.phys[i] = 0;
    this.mapped--;
    if (this.freeTop >= this.freeStack.length) {
      const grown = new Int32Array(this.freeStack.length * 2);
      grown.set(this.freeStack);
      this.freeStack = grown;
    }
    this.freeStack[this.freeTop++] = i;
  }

  /** The IOMMU's walk: the physical address `iova` translates to, or -1 (an IOMMU fault). */
  translate(iova: number): number {
    const i = Math.floor(iova / PAGE_SIZE) - IOVA_BASE_PAGE;
    if (!(i >= 0 && i < this.high) || this.phys[i] === 0) return -1;
    return (this.phys[i] - 1) * PAGE_SIZE + (iova % PAGE_SIZE);
  }
}
