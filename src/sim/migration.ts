// Models: the cost of migrating a range between host RAM and a device, as the parts a driver pays
// (costs.md §3.2, §3.4, §6.2): device faults serviced in batches (fault-driven to the device), one
// CPU fault and one migrate_vma call per page (fault-driven back to RAM, do_swap_page ->
// migrate_to_ram), or one call over the range (prefetch: cudaMemPrefetchAsync, the HMM migrate
// ioctl); migrate_vma setup, per-page unmap/remap, the copy by the device's DMA engine, batched TLB
// shootdowns, notifier callbacks and finalize; and the DMA mapping of the system pages under an IOMMU
// (nouveau_dmem_copy_one maps each page). Every part is a closed form in the number of calls.
// Leaves out: the UVM prefetcher's density rule (`granularity` says how much one fault migrates).
import { InputError } from "../units/input-error.js";
import { param } from "./calibration.js";
import { cpuFaultNs, deviceFaultNs, dmaMapNs, faultBatchSize, migrateNs, otherCpus } from "./hmm-costs.js";
import type { LinkGraph } from "./link-graph.js";
import { iommuTranslates, pathBetween, type SimPath } from "./paths.js";

export type MigrationDirection = "toDevice" | "toRam";

export interface MigrationOptions {
  device: string;
  direction: MigrationDirection;
  bytes: number;
  /** Migration granularity (4 KiB base pages, 64 KiB UVM big pages, 2 MiB THP): default 4096. */
  pageBytes?: number;
  /** "prefetch": one migrate_vma call over the range; "fault": each page is faulted (device faults in
   *  batches, or CPU faults one by one). Default prefetch. */
  mode?: "prefetch" | "fault";
  /** Whether the fault-driven mode charges the faults themselves (false: the caller counts them). Default true. */
  chargeFaults?: boolean;
  /** Interval notifiers on the range (mirrors invalidated per migrate batch; default 0). */
  mirrors?: number;
  /** NUMA node of the RAM end (default: the device's own). */
  ramNuma?: number;
}

/** Time of each part of a migration, ns; `ns` is their sum with the copy at its solo rate. */
export interface MigrationCost {
  ns: number;
  pages: number;
  bytes: number;
  /** migrate_vma calls (one per fault batch, or per CPU fault, when fault-driven). */
  calls: number;
  faultBatches: number;
  ipis: number;
  parts: { fault: number; setup: number; pages: number; copy: number; flush: number; notifier: number; finalize: number; dmaMap: number };
  /** Everything but the copy's bytes: the software parts and the copy's latency once per call. */
  fixedNs: number;
  /** The copy's path (the device's DMA engine pushes to RAM, or pulls from RAM). */
  path: SimPath;
  /** The copy's payload rate alone on that path, GB/s. */
  rateGBps: number;
}

/** The DMA-engine path of a copy between the device and RAM of NUMA node `ramNuma` (default its own). */
export function migrationPath(graph: LinkGraph, device: string, direction: MigrationDirection, ramNuma = graph.numaOf(device)): SimPath {
  const host = `host:${ramNuma}`;
  return direction === "toRam" ? pathBetween(graph, device, host, "write") : pathBetween(graph, host, device, "read");
}

/** Payload rate of a path alone: its own cap and each resource's capacity over its load. */
export function soloGBps(graph: LinkGraph, path: SimPath): number {
  let rate = path.capGBps;
  path.resources.forEach((r, k) => {
    rate = Math.min(rate, graph.capacities[r] / path.weights[k]);
  });
  return rate;
}

/** Cost of migrating `bytes` between RAM and `device`, split into the parts a trace shows. */
export function migrationCost(graph: LinkGraph, opts: MigrationOptions): MigrationCost {
  const cal = graph.calibration;
  const pageBytes = opts.pageBytes ?? 4096;
  if (!(Number.isSafeInteger(pageBytes) && pageBytes >= 4096 && pageBytes % 4096 === 0)) throw new InputError("granularity", pageBytes, "must be a multiple of 4 KiB");
  if (!(Number.isSafeInteger(opts.bytes) && opts.bytes > 0)) throw new InputError("bytes", opts.bytes, "must be a positive whole number of bytes");
  const pages = Math.ceil(opts.bytes / pageBytes);
  const path = migrationPath(graph, opts.device, opts.direction, opts.ramNuma);
  const rateGBps = soloGBps(graph, path);
  const fault = opts.mode === "fault";
  const cpuFaults = fault && opts.direction === "toRam";
  const perCall = !fault ? pages : cpuFaults ? 1 : faultBatchSize(cal);
  const full = Math.floor(pages / perCall), rest = pages - full * perCall;
  const calls = full + (rest > 0 ? 1 : 0);
  const copyOpts = { pageBytes, copyGBps: rateGBps, copyLatencyNs: path.latencyNs, batchedFlush: true, remote: otherCpus(cal), mirrors: opts.mirrors ?? 0 };
  const one = migrateNs(cal, perCall, copyOpts), last = migrateNs(cal, rest, copyOpts);
  const sum = (k: "copyNs" | "flushNs" | "notifierNs" | "ipis") => full * one[k] + last[k];
  const charge = opts.chargeFaults ?? true;
  const faultNs = !charge || !fault ? 0 : cpuFaults ? cpuFaultNs(cal, pages) : deviceFaultNs(cal, pages).ns;
  // The driver maps each system page (one segment per folio) for its copy engine; only an IOMMU in
  // DMA mode costs time (dma-direct just computes the bus address).
  let dmaMap = 0;
  if (iommuTranslates(graph, opts.device)) {
    const m = dmaMapNs(cal, perCall, true), r = dmaMapNs(cal, rest, true);
    dmaMap = full * (m.map + m.unmap) + r.map + r.unmap;
  }
  const parts = {
    fault: faultNs, setup: calls * param(cal, "migrateSetupNs"), pages: pages * param(cal, "migratePageNs"), copy: sum("copyNs"),
    flush: sum("flushNs"), notifier: sum("notifierNs"), finalize: calls * param(cal, "migrateFinalizeNs"), dmaMap,
  };
  const ns = parts.fault + parts.setup + parts.pages + parts.copy + parts.flush + parts.notifier + parts.finalize + parts.dmaMap;
  const copyBytes = pages * pageBytes;
  return {
    ns, pages, bytes: copyBytes, calls, faultBatches: fault && !cpuFaults ? calls : 0, ipis: sum("ipis"), parts,
    fixedNs: ns - copyBytes / rateGBps, path, rateGBps,
  };
}
