// Models: a virtual memory area (struct vm_area_struct essentials) and the dense page table
// behind it. An mmap creates one Region (PTE array + per-huge-block mapping level); VMAs split by
// munmap/mprotect keep pointing into the same Region. MappedFile is a file's page cache (also
// shmem for shared anonymous memory). Leaves out: page-table levels, VMA merging, mremap.
export const PROT_NONE = 0;
export const PROT_READ = 1;
export const PROT_WRITE = 2;

/** log2(pages) of the huge mappings the kit models (x86-64: PMD 2 MiB, PUD 1 GiB). */
export const PMD_ORDER = 9;
export const PUD_ORDER = 18;

export class Region {
  /** One CPU PTE per page (memory/pte.ts encoding). */
  readonly pte: Uint32Array;
  /** Per huge block: 1 when mapped by one huge entry (PMD/PUD leaf), 0 when mapped by PTEs. */
  readonly huge: Uint8Array | null;
  /** Huge block order (0 when the region never maps huge blocks). Regions start block-aligned. */
  readonly order: number;

  constructor(pages: number, order: number) {
    this.pte = new Uint32Array(pages);
    this.order = order;
    this.huge = order > 0 ? new Uint8Array(Math.ceil(pages / (1 << order))) : null;
  }

  /** A copy for fork (dup_mmap copies page tables). */
  clone(): Region {
    const r = new Region(this.pte.length, this.order);
    r.pte.set(this.pte);
    if (this.huge && r.huge) r.huge.set(this.huge);
    return r;
  }
}

export class MappedFile {
  /** Page cache: frame per file page, -1 when not cached. */
  private pages = new Int32Array(0).fill(-1);
  constructor(readonly name: string, readonly shmem: boolean) {}

  /** The cached frame of page `index`, -1 when none. */
  lookup(index: number): number {
    return index < this.pages.length ? this.pages[index] : -1;
  }

  /** find_or_create_page: the cache holds one reference on each page it keeps. */
  getOrCreate(index: number, alloc: () => number): number {
    if (index >= this.pages.length) {
      const grown = new Int32Array(Math.max(index + 1, this.pages.length * 2)).fill(-1);
      grown.set(this.pages);
      this.pages = grown;
    }
    let f = this.pages[index];
    if (f < 0) {
      f = alloc();
      if (f < 0) return -1;
      this.pages[index] = f;
    }
    return f;
  }
}

export interface Vma {
  /** First page (virtual page number) and end (exclusive). */
  start: number;
  end: number;
  prot: number;
  shared: boolean;
  /** Backing file (page cache) for file mappings and shared anonymous (shmem) mappings. */
  file: MappedFile | null;
  /** File page index of `start`. */
  fileOff: number;
  /** hugetlb VMA (PUD-size pages here): migrate_vma refuses it. */
  hugetlb: boolean;
  region: Region;
  /** Index in `region` of `start`. */
  regionOff: number;
}

/** vma_is_anonymous: private memory without a file (shared anonymous memory is shmem). */
export function vmaIsAnonymous(vma: Vma): boolean {
  return vma.file === null;
}
