// Models: a ZONE_DEVICE page map (include/linux/memremap.h struct dev_pagemap): its memory type,
// the owner cookie HMM and migrate_vma compare against, and the driver ops page_free and
// migrate_to_ram, plus the P2P series' get_dma_pfn_for_device (hmm-semantics.md §6) and, for a P2PDMA
// page map, the BAR translation onto device memory. Leaves out: memory_failure and folio_split ops,
// and the pfn ranges (pools hold them).
import type { Mm } from "./address-space.js";

/** enum memory_type values that the kit models (memremap.h). */
export const MEMORY_DEVICE_PRIVATE = 1;
export const MEMORY_DEVICE_COHERENT = 2;
export const MEMORY_DEVICE_PCI_P2PDMA = 5;
export type MemoryType = typeof MEMORY_DEVICE_PRIVATE | typeof MEMORY_DEVICE_COHERENT | typeof MEMORY_DEVICE_PCI_P2PDMA;

/** Returned by migrateToRam: 0 or VM_FAULT_SIGBUS (mm/memory.c do_swap_page turns it into SIGBUS). */
export const VM_FAULT_SIGBUS = 2;

export interface DevPagemapOps {
  /** dev_pagemap_ops.page_free: the page's refcount reached zero; the driver takes it back. */
  pageFree(frame: number): void;
  /** dev_pagemap_ops.migrate_to_ram: a CPU fault hit the device-private entry of `frame` at `vpn`. */
  migrateToRam?(mm: Mm, vpn: number, frame: number): number;
  /**
   * get_dma_pfn_for_device (unmerged P2P series, hmm-semantics.md §6), device-private page maps
   * only: the P2PDMA frame inside the owner's BAR that aliases device-private `frame`, or a
   * negative errno. The model also passes the faulting (mm, vpn) so the owner can announce a
   * later withdrawal of the alias to that address's notifiers.
   */
  getDmaPfnForDevice?(frame: number, mm: Mm, vpn: number): number;
  /** P2PDMA page maps: the device-memory frame BAR page `frame` exposes now, or -1 (slot empty). */
  barTarget?(frame: number): number;
}

export interface DevPagemap {
  type: MemoryType;
  /** pgmap->owner: compared with hmm_range.dev_private_owner and migrate_vma.pgmap_owner. */
  owner: unknown;
  ops: DevPagemapOps;
}
