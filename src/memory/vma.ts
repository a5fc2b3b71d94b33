// Models: a virtual memory area (struct vm_area_struct essentials) over the page table of its mmap
// (page-table.ts: VMAs split by munmap/mprotect keep pointing into the same Region), whether it
// has an anon_vma (anonymous pages were made in it), and MappedFile, a file's page cache (also shmem
// for shared anonymous memory), sparse like the page tables. Leaves out: VMA merging, mremap.
import { BlockDirectory, PTRS_PER_PTE, type Region } from "./page-table.js";
export const PROT_NONE = 0;
export const PROT_READ = 1;
export const PROT_WRITE = 2;

/** log2(pages) of the huge mappings the kit models (x86-64: PMD 2 MiB, PUD 1 GiB). */
export const PMD_ORDER = 9;
export const PUD_ORDER = 18;

export class MappedFile {
  /** Page cache: frame per file page, -1 when not cached, in blocks made on first use. */
  private readonly pages = new BlockDirectory<Int32Array>(() => new Int32Array(PTRS_PER_PTE).fill(-1));
  constructor(readonly name: string, readonly shmem: boolean) {}

  /** The cached frame of page `index`, -1 when none. */
  lookup(index: number): number {
    const b = this.pages.get(index);
    return b === undefined ? -1 : b[index & (PTRS_PER_PTE - 1)];
  }

  /** find_or_create_page: the cache holds one reference on each page it keeps. */
  getOrCreate(index: number, alloc: () => number): number {
    const b = this.pages.ensure(index);
    let f = b[index & (PTRS_PER_PTE - 1)];
    if (f < 0) {
      f = alloc();
      if (f < 0) return -1;
      b[index & (PTRS_PER_PTE - 1)] = f;
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
  /**
   * vma->anon_vma is set: an anonymous page was made in this VMA (a write fault, a COW copy, a
   * huge fault, a migration into a hole). fork copies the page tables only of such VMAs
   * (mm/memory.c vma_needs_copy).
   */
  anonVma: boolean;
  region: Region;
  /** Index in `region` of `start`. */
  regionOff: number;
}

/** vma_is_anonymous: private memory without a file (shared anonymous memory is shmem). */
export function vmaIsAnonymous(vma: Vma): boolean {
  return vma.file === null;
}
