// Models: the cost of migrating a range between host RAM (the device's NUMA node) and a device, as the
// parts a driver pays (costs.md §3.2, §3.4, §6.2): device faults serviced in batches (fault-driven),
// migrate_vma setup / per-page unmap-remap / copy / TLB flush / finalize, notifier callbacks, and the
// DMA mapping of the system pages for the copy engine (nouveau_dmem_copy_one maps each page).
// Leaves out: the UVM prefetcher's density rule (fault-driven migrates exactly the faulted pages).
import { InputError } from "../units/input-error.js";
import { param } from "./calibration.js";
import { costTransfer } from "./designs.js";
import { cpuFaultNs, deviceFaultNs, dmaMapNs, migrateNs } from "./hmm-costs.js";
import { pathBetween, type LinkGraph, type SimPath } from "./paths.js";

export type MigrationDirection = "toDevice" | "toRam";

export interface MigrationOptions {
  device: string;
  direction: MigrationDirection;
  bytes: number;
  /** Migration granularity (4 KiB base pages, 64 KiB UVM big pages, 2 MiB THP): default 4096. */
  pageBytes?: number;
  /** "prefetch": one migrate_vma call over the range (cudaMemPrefetchAsync, HMM migrate ioctl);
   *  "fault": each page is faulted (device faults in batches, or CPU faults one by one). Default prefetch. */
  mode?: "prefetch" | "fault";
  /** Other CPUs run the mm, so each flush sends a shootdown IPI (default true). */
  remoteCpus?: boolean;
  /** Whether the fault-driven mode charges the faults themselves (false: the caller counts them). Default true. */
  chargeFaults?: boolean;
  /** Interval notifiers on the range (mirrors invalidated per migrate batch; default 0). */
  mirrors?: number;
}

/** Time of each part of a migration, ns; `ns` is their sum. */
export interface MigrationCost {
  ns: number;
  pages: number;
  bytes: number;
  /** migrate_vma calls (one per fault batch, or per CPU fault, when fault-driven). */
  calls: number;
  faultBatches: number;
  ipis: number;
  parts: { fault: number; setup: number; pages: number; copy: number; flush: number; notifier: number; finalize: number; dmaMap: number };
  /** The copy's path (the device's DMA engine pushes to RAM, or pulls from RAM). */
  path: SimPath;
  /** The copy's payload rate alone on that path, GB/s. */
  rateGBps: number;
}

/** Whether DMA by `device` is translated by an IOMMU (its host bridge's `iommu` is "dma"). */
export function iommuTranslates(graph: LinkGraph, device: string): boolean {
  const n = graph.nodes.get(device);
  if (!n || n.kind === "hostBridge" || n.kind === "nvswitch") return false;
  const hb = graph.nodes.get(n.hostBridge);
  return hb?.kind === "hostBridge" && hb.iommu === "dma";
}

/** The DMA-engine path of a copy between the device and its NUMA node's RAM. */
export function migrationPath(graph: LinkGraph, device: string, direction: MigrationDirection): SimPath {
  const host = `host:${graph.numaOf(device)}`;
  return direction === "toRam" ? pathBetween(graph, device, host, "write") : pathBetween(graph, host, device, "read");
}

/** Cost of migrating `bytes` between RAM and `device`, split into the parts a trace shows. */
export function migrationCost(graph: LinkGraph, opts: MigrationOptions): MigrationCost {
  const cal = graph.calibration;
  const pageBytes = opts.pageBytes ?? 4096;
  if (!(Number.isSafeInteger(pageBytes) && pageBytes >= 4096 && pageBytes % 4096 === 0)) throw new InputError("granularity", pageBytes, "must be a multiple of 4 KiB");
  if (!(Number.isSafeInteger(opts.bytes) && opts.bytes > 0)) throw new InputError("bytes", opts.bytes, "must be a positive whole number of bytes");
  const pages = Math.ceil(opts.bytes / pageBytes);
  const path = migrationPath(graph, opts.device, opts.direction);
  const t = costTransfer(graph, path, pages * pageBytes);
  const remoteCpus = opts.remoteCpus ?? true;
  const mirrors = opts.mirrors ?? 0;
  const fault = opts.mode === "fault";
  // Fault-driven to the device: each batch of <= faultBatchMax device faults is serviced, then migrated
  // by its own call. Fault-driven to RAM: each CPU fault on a device-private entry migrates its one
  // page (do_swap_page -> pgmap->ops->migrate_to_ram, mm/memory.c).
  const cpuFaults = fault && opts.direction === "toRam";
  const perCall = !fault ? pages : cpuFaults ? 1 : param(cal, "faultBatchMax");
  const calls = Math.ceil(pages / perCall);
  const iommu = iommuTranslates(graph, opts.device);
  const parts = { fault: 0, setup: 0, pages: 0, copy: 0, flush: 0, notifier: 0, finalize: 0, dmaMap: 0 };
  let ipis = 0;
  for (let left = pages; left > 0; left -= perCall) {
    const n = Math.min(left, perCall);
    const m = migrateNs(cal, n, { pageBytes, copyGBps: t.rateGBps, copyLatencyNs: t.latencyNs, batchedFlush: true, remoteCpus, mirrors });
    const notifier = m.ns - m.copyNs - param(cal, "migrateSetupNs") - n * param(cal, "migratePageNs") - param(cal, "migrateFinalizeNs");
    parts.setup += param(cal, "migrateSetupNs");
    parts.pages += n * param(cal, "migratePageNs");
    parts.copy += m.copyNs;
    parts.finalize += param(cal, "migrateFinalizeNs");
    // migrateNs folds flush and notifier together; split them by recomputing the notifier term.
    const notify = mirrors * Math.ceil(n / param(cal, "migrateBatchMax")) * (param(cal, "notifierCallbackNs") + param(cal, "deviceTlbInvalidateNs"));
    parts.notifier += notify;
    parts.flush += notifier - notify;
    ipis += m.ipis;
    const charge = opts.chargeFaults ?? true;
    if (charge && cpuFaults) parts.fault += cpuFaultNs(cal, 1);
    else if (charge && fault) parts.fault += deviceFaultNs(cal, n).ns;
    // The driver maps each system page (one segment per folio) for its copy engine; only an IOMMU
    // in DMA mode costs time (dma-direct just computes the bus address).
    if (iommu) {
      const d = dmaMapNs(cal, n, true);
      parts.dmaMap += d.map + d.unmap;
    }
  }
  const ns = parts.fault + parts.setup + parts.pages + parts.copy + parts.flush + parts.notifier + parts.finalize + parts.dmaMap;
  return { ns, pages, bytes: pages * pageBytes, calls, faultBatches: fault ? calls : 0, ipis, parts, path, rateGBps: t.rateGBps };
}
