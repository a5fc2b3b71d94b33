// Models: the time of the software and hardware steps on the HMM / P2PDMA path (costs.md §3, §5,
// §6.2, §6.3): CPU and device faults (batched <= faultBatchMax), snapshots, notifier callbacks,
// CPU TLB flushes (INVLPG up to the ceiling, full flush above, IPIs for remote CPUs), migrate_vma,
// DMA mapping through an IOMMU and IOTLB misses, peer mapping and BAR aperture remaps.
// Leaves out: lock contention and CPU frequency; every number comes from the calibration.
import { InputError } from "../units/input-error.js";
import { param, type Calibration } from "./calibration.js";

function count(name: string, n: number): number {
  if (!(Number.isSafeInteger(n) && n >= 0)) throw new InputError(name, n, "must be an integer >= 0");
  return n;
}

/** One CPU page fault that the kernel resolves (handle_mm_fault; migrate_to_ram adds a migration). */
export function cpuFaultNs(cal: Calibration, faults = 1): number {
  return count("faults", faults) * param(cal, "cpuFaultNs");
}

/** Device faults serviced in batches of at most faultBatchMax (UVM uvm_perf_fault_batch_count). */
export function deviceFaultNs(cal: Calibration, faults: number): { batches: number; ns: number } {
  const batches = Math.ceil(count("faults", faults) / param(cal, "faultBatchMax"));
  return { batches, ns: batches * param(cal, "deviceFaultBatchNs") + faults * param(cal, "deviceFaultPageNs") };
}

/** hmm_range_fault snapshot of `pages` already-present pages. */
export function snapshotNs(cal: Calibration, pages: number): number {
  return count("pages", pages) * param(cal, "snapshotPageNs");
}

/**
 * CPU TLB flush of `pages` pages (arch/x86/mm/tlb.c flush_tlb_mm_range): up to
 * tlb_single_page_flush_ceiling pages one INVLPG each, above it one full flush (charged as the
 * ceiling's worth, the break-even the tunable encodes); plus one IPI round when other CPUs run the mm.
 */
export function tlbFlushNs(cal: Calibration, pages: number, remoteCpus: boolean): { ipis: number; ns: number } {
  count("pages", pages);
  if (pages === 0) return { ipis: 0, ns: 0 };
  const ceiling = param(cal, "tlbFlushCeilingPages");
  const local = Math.min(pages, ceiling) * param(cal, "invlpgNs");
  return remoteCpus ? { ipis: 1, ns: local + param(cal, "ipiShootdownNs") } : { ipis: 0, ns: local };
}

/** One invalidation round: each registered interval notifier's callback (device mirrors invalidate
 *  their page tables and device TLBs) plus the CPU TLB flush of the range. */
export function invalidateNs(cal: Calibration, pages: number, mirrors: number, remoteCpus: boolean): number {
  count("mirrors", mirrors);
  return mirrors * (param(cal, "notifierCallbackNs") + param(cal, "deviceTlbInvalidateNs")) + tlbFlushNs(cal, pages, remoteCpus).ns;
}

export interface MigrateCost {
  ns: number;
  ipis: number;
  flushes: number;
  copyNs: number;
}

/**
 * Migrating `pages` pages (migrate_vma_setup / copy / finalize, or migrate_pages): a fixed setup and
 * finalize per call, per-page unmap/remap work, the copy at `copyGBps` with `copyLatencyNs` per batch,
 * and TLB shootdowns: one per page when unbatched, one per batch of <= migrateBatchMax pages when
 * batched (Huang Ying's migrate_pages batch flushing, Linux 6.3; costs.md §3.4).
 */
export function migrateNs(cal: Calibration, pages: number, opts: { pageBytes?: number; copyGBps: number; copyLatencyNs?: number; batchedFlush: boolean; remoteCpus: boolean; mirrors?: number }): MigrateCost {
  count("pages", pages);
  if (!(opts.copyGBps > 0)) throw new InputError("copyGBps", opts.copyGBps, "must be > 0");
  const pageBytes = opts.pageBytes ?? 4096;
  const batchMax = param(cal, "migrateBatchMax");
  const batches = Math.ceil(pages / batchMax);
  const copyNs = (pages * pageBytes) / opts.copyGBps + batches * (opts.copyLatencyNs ?? 0);
  let flushNs = 0, ipis = 0, flushes = 0;
  if (opts.batchedFlush) {
    for (let left = pages; left > 0; left -= batchMax) {
      const f = tlbFlushNs(cal, Math.min(left, batchMax), opts.remoteCpus);
      flushNs += f.ns; ipis += f.ipis; flushes++;
    }
  } else {
    const f = tlbFlushNs(cal, 1, opts.remoteCpus);
    flushNs = pages * f.ns; ipis = pages * f.ipis; flushes = pages;
  }
  const notifier = (opts.mirrors ?? 0) * batches * (param(cal, "notifierCallbackNs") + param(cal, "deviceTlbInvalidateNs"));
  const ns = pages === 0 ? 0 : param(cal, "migrateSetupNs") + pages * param(cal, "migratePageNs") + copyNs + flushNs + notifier + param(cal, "migrateFinalizeNs");
  return { ns, ipis, flushes, copyNs };
}

/** dma_map_single per page, or dma_map_sg with `entries` per list (costs.md §5.2), and the unmaps. */
export function dmaMapNs(cal: Calibration, pages: number, sg: boolean): { map: number; unmap: number } {
  count("pages", pages);
  if (!sg) return { map: pages * param(cal, "dmaMapNs"), unmap: pages * param(cal, "dmaUnmapNs") };
  const lists = Math.ceil(pages / param(cal, "dmaMapSgEntries"));
  return { map: lists * param(cal, "dmaMapSgNs"), unmap: lists * param(cal, "dmaUnmapNs") };
}

/** IOTLB reach: entries x IOMMU page size (costs.md §6.3; 2 MiB superpages lift the knee). */
export function iotlbReachBytes(cal: Calibration, iommuPageBytes = param(cal, "iommuPageBytes")): number {
  return param(cal, "iotlbEntries") * iommuPageBytes;
}

/** Miss probability of random accesses spread evenly over `windowBytes`, with an LRU IOTLB of
 *  iotlbEntries: the chance the touched page is not among the entries held. */
export function iotlbMissProbability(cal: Calibration, windowBytes: number, iommuPageBytes = param(cal, "iommuPageBytes")): number {
  if (!(windowBytes > 0)) throw new InputError("windowBytes", windowBytes, "must be > 0");
  const pages = Math.ceil(windowBytes / iommuPageBytes);
  return Math.max(0, 1 - param(cal, "iotlbEntries") / pages);
}

/** Setting up a P2PDMA peer mapping of `ranges` ranges (map-type lookup + DMA mapping). */
export function peerMapNs(cal: Calibration, ranges: number): number {
  return count("ranges", ranges) * param(cal, "peerMapSetupNs");
}

/** Moving a small BAR aperture to expose other device memory (`remaps` window moves). */
export function apertureRemapNs(cal: Calibration, remaps: number): number {
  return count("remaps", remaps) * param(cal, "apertureRemapNs");
}
