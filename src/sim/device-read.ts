// Models: a device's DMA reads of host memory (costs.md §1.3, §5.1): the latency of one read (the
// path's round trip to memory plus its completions), and the throughput of many outstanding random
// reads, bounded by the requests in flight over the round trip, the link's completions and requests,
// and IOTLB misses (a miss lengthens that read's round trip by a page walk; walks run `iotlbWalkers`
// at a time). Leaves out: DRAM misses vs LLC hits (one memory latency per platform) and IOMMU
// page-walk caches (a miss costs a fixed walk).
import { InputError } from "../units/input-error.js";
import { param } from "./calibration.js";
import { costTransfer } from "./designs.js";
import { iotlbMissProbability } from "./hmm-costs.js";
import type { LinkGraph } from "./link-graph.js";
import { pathBetween } from "./paths.js";
import { completionWireBytes, requestWireBytes } from "./pcie-rate.js";

function size(name: string, bytes: number): number {
  if (!(Number.isSafeInteger(bytes) && bytes > 0)) throw new InputError(name, bytes, "must be a positive integer number of bytes");
  return bytes;
}

/** Median latency of one DMA read of `bytes` by `device` from its node's memory; with an IOMMU window,
 *  a miss adds iotlbMissNs whenever misses are the majority (the median of a two-valued distribution). */
export function dmaReadLatencyNs(g: LinkGraph, device: string, bytes: number, iommuWindowBytes?: number): number {
  size("bytes", bytes);
  const cal = g.calibration;
  const one = costTransfer(g, pathBetween(g, `host:${g.numaOf(device)}`, device, "read"), bytes).ns;
  const miss = iommuWindowBytes !== undefined && iotlbMissProbability(cal, iommuWindowBytes) > 0.5 ? param(cal, "iotlbMissNs") : 0;
  return one + miss;
}

/** Throughput (GB/s) of random `bytes`-sized DMA reads with every tag in flight: the slowest of the
 *  requests in flight over their round trip (a miss lengthens it), the device's link (completions
 *  down, requests up) and the IOTLB's page walks. */
export function randomReadGBps(g: LinkGraph, device: string, bytes: number, iommuWindowBytes?: number): number {
  size("bytes", bytes);
  const cal = g.calibration;
  const path = pathBetween(g, `host:${g.numaOf(device)}`, device, "read");
  const missRate = iommuWindowBytes === undefined ? 0 : iotlbMissProbability(cal, iommuWindowBytes);
  const inFlight = (path.windowBytes / param(cal, "pcieMrrs")) * bytes;
  const byWindow = inFlight / (path.latencyNs + missRate * param(cal, "iotlbMissNs"));
  const own = path.hops.find((h) => h.link === g.upLink.get(device))!;
  const link = g.links[own.link];
  const c = { ...link.pcie!, mps: own.tlpBytes };
  const byLink = bytes / Math.max(completionWireBytes(c, bytes) / link.capacityGBps, requestWireBytes(c, bytes) / link.capacityGBps);
  const byWalks = missRate === 0 ? Infinity : bytes / ((missRate * param(cal, "iotlbMissNs")) / param(cal, "iotlbWalkers"));
  return Math.min(byWindow, byLink, byWalks);
}
