// Models: a device's DMA reads of host memory: the latency of one outstanding read (fixed round trip
// plus the root complex serving one cache line per hostReadLineNs, costs.md §1.3) and the throughput
// of many outstanding random reads, bounded by the link, the root complex and IOTLB misses (§5.1).
// Leaves out: DRAM misses vs LLC hits (warm-cache numbers), and IOMMU page-walk caches.
import { InputError } from "../units/input-error.js";
import { param, type Calibration } from "./calibration.js";
import { iotlbMissProbability } from "./hmm-costs.js";
import { completionWireBytes, requestWireBytes, tlpGBps, type PcieLinkConfig } from "./pcie-rate.js";

const LINE = 64;

function size(name: string, bytes: number): number {
  if (!(Number.isSafeInteger(bytes) && bytes > 0)) throw new InputError(name, bytes, "must be a positive integer number of bytes");
  return bytes;
}

/** Median latency of one DMA read of `bytes` (warm host cache); with an IOMMU window, a miss adds
 *  iotlbMissNs whenever misses are the majority (the median of a two-valued distribution). */
export function dmaReadLatencyNs(cal: Calibration, link: PcieLinkConfig, bytes: number, iommuWindowBytes?: number): number {
  size("bytes", bytes);
  const lines = Math.ceil(bytes / LINE);
  // The last completion still has to cross the link after the root complex served its line.
  const lastCpl = completionWireBytes(link, Math.min(bytes, link.mps)) / tlpGBps(link.gen, link.width, link.mps);
  const serve = Math.max(lines * param(cal, "hostReadLineNs"), lastCpl);
  const miss = iommuWindowBytes !== undefined && iotlbMissProbability(cal, iommuWindowBytes) > 0.5 ? param(cal, "iotlbMissNs") : 0;
  return param(cal, "deviceReadRttNs") + serve + miss;
}

/** Throughput (GB/s) of random `bytes`-sized DMA reads with many outstanding: per read, the slowest of
 *  the link (completions down, requests up), the root complex and the IOTLB miss walks. */
export function randomReadGBps(cal: Calibration, link: PcieLinkConfig, bytes: number, iommuWindowBytes?: number): number {
  size("bytes", bytes);
  const tlp = tlpGBps(link.gen, link.width, link.mps);
  const linkNs = Math.max(completionWireBytes(link, bytes) / tlp, requestWireBytes(link, bytes) / tlp);
  const rcNs = param(cal, "hostReadLineNs");
  const missNs = iommuWindowBytes === undefined ? 0 : (iotlbMissProbability(cal, iommuWindowBytes) * param(cal, "iotlbMissNs")) / param(cal, "iotlbWalkers");
  return bytes / Math.max(linkNs, rcNs, missNs);
}
