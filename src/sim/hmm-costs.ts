// Models: the time of the software and hardware steps on the HMM / P2PDMA path (costs.md §3, §5,
// §6.2, §6.3): CPU faults, device faults fetched from the fault buffer and serviced in batches
// (a fixed pass per batch plus work per fault), snapshots, notifier callbacks, CPU TLB flushes
// (INVLPG up to the ceiling, a full flush above, a shootdown IPI whose cost grows with the CPUs that
// run the mm), migrate_vma, DMA mapping through an IOMMU and IOTLB misses, peer mapping and BAR
// aperture remaps. Every count is a closed form: no work grows with the bytes or pages.
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

/** Faults the driver takes per batch: uvm_perf_fault_batch_count, no more than the fault buffer holds. */
export function faultBatchSize(cal: Calibration): number {
  return Math.max(1, Math.min(param(cal, "faultBatchMax"), param(cal, "faultBufferEntries")));
}

/** Device faults serviced in batches (uvm_gpu_replayable_faults.c): a pass per batch, work per fault. */
export function deviceFaultNs(cal: Calibration, faults: number): { batches: number; ns: number } {
  const batches = Math.ceil(count("faults", faults) / faultBatchSize(cal));
  return { batches, ns: batches * param(cal, "deviceFaultBatchNs") + faults * param(cal, "deviceFaultPageNs") };
}

/** hmm_range_fault snapshot of `pages` already-present pages. */
export function snapshotNs(cal: Calibration, pages: number): number {
  return count("pages", pages) * param(cal, "snapshotPageNs");
}

/** The other CPUs a multi-threaded process runs on (each gets the shootdown IPI). */
export function otherCpus(cal: Calibration): number {
  return Math.max(0, param(cal, "mmCpus") - 1);
}

/**
 * CPU TLB flush of `pages` pages (arch/x86/mm/tlb.c flush_tlb_mm_range): up to
 * tlb_single_page_flush_ceiling pages one INVLPG each, above it one full flush (charged as the
 * ceiling's worth, the break-even the tunable encodes); when `remote` other CPUs run the mm, one
 * shootdown IPI round whose cost grows with their number (costs.md §3.5).
 */
export function tlbFlushNs(cal: Calibration, pages: number, remote: number): { ipis: number; ns: number } {
  count("pages", pages);
  count("cpus", remote);
  if (pages === 0) return { ipis: 0, ns: 0 };
  const local = Math.min(pages, param(cal, "tlbFlushCeilingPages")) * param(cal, "invlpgNs");
  if (remote === 0) return { ipis: 0, ns: local };
  return { ipis: 1, ns: local + param(cal, "ipiShootdownNs") + remote * param(cal, "ipiPerCpuNs") };
}

/** One invalidation round: each registered interval notifier's callback (device mirrors invalidate
 *  their page tables and device TLBs) plus the CPU TLB flush of the range. */
export function invalidateNs(cal: Calibration, pages: number, mirrors: number, remote: number): number {
  count("mirrors", mirrors);
  return mirrors * (param(cal, "notifierCallbackNs") + param(cal, "deviceTlbInvalidateNs")) + tlbFlushNs(cal, pages, remote).ns;
}

export interface MigrateCost {
  ns: number;
  ipis: number;
  flushes: number;
  copyNs: number;
  flushNs: number;
  notifierNs: number;
}

/**
 * Migrating `pages` pages in one call (migrate_vma_setup / copy / finalize, or migrate_pages): a fixed
 * setup and finalize, per-page unmap/remap work, the copy at `copyGBps` with `copyLatencyNs` per
 * batch, and TLB shootdowns: one per page when unbatched, one per batch of <= migrateBatchMax pages
 * when batched (Huang Ying's migrate_pages batch flushing, Linux 6.3; costs.md §3.4).
 */
export function migrateNs(cal: Calibration, pages: number, opts: { pageBytes?: number; copyGBps: number; copyLatencyNs?: number; batchedFlush: boolean; remote: number; mirrors?: number }): MigrateCost {
  count("pages", pages);
  if (!(opts.copyGBps > 0)) throw new InputError("copyGBps", opts.copyGBps, "must be > 0");
  if (pages === 0) return { ns: 0, ipis: 0, flushes: 0, copyNs: 0, flushNs: 0, notifierNs: 0 };
  const pageBytes = opts.pageBytes ?? 4096;
  const batchMax = param(cal, "migrateBatchMax");
  const batches = Math.ceil(pages / batchMax);
  const copyNs = (pages * pageBytes) / opts.copyGBps + batches * (opts.copyLatencyNs ?? 0);
  let flushNs: number, ipis: number, flushes: number;
  if (opts.batchedFlush) {
    // Full batches and one partial batch, in closed form.
    const full = Math.floor(pages / batchMax), rest = pages - full * batchMax;
    const f = tlbFlushNs(cal, batchMax, opts.remote), r = tlbFlushNs(cal, rest, opts.remote);
    flushNs = full * f.ns + r.ns;
    ipis = full * f.ipis + r.ipis;
    flushes = batches;
  } else {
    const f = tlbFlushNs(cal, 1, opts.remote);
    flushNs = pages * f.ns;
    ipis = pages * f.ipis;
    flushes = pages;
  }
  const notifierNs = (opts.mirrors ?? 0) * batches * (param(cal, "notifierCallbackNs") + param(cal, "deviceTlbInvalidateNs"));
  const ns = param(cal, "migrateSetupNs") + pages * param(cal, "migratePageNs") + copyNs + flushNs + notifierNs + param(cal, "migrateFinalizeNs");
  return { ns, ipis, flushes, copyNs, flushNs, notifierNs };
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
export function peerMapNs(cal: Calibration, ranges: number, pages = 0): number {
  return count("ranges", ranges) * param(cal, "peerMapSetupNs") + count("pages", pages) * param(cal, "devicePteNs");
}

/** Moving a small BAR aperture to expose other device memory (`remaps` window moves). */
export function apertureRemapNs(cal: Calibration, remaps: number): number {
  return count("remaps", remaps) * param(cal, "apertureRemapNs");
}
