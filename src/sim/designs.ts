// Models: the designs a P2P author compares on one machine (DESIGN §1 step 7, costs.md §6.1): a
// direct peer transfer, a bounce through host RAM (two DMA legs, pipelined or not), and stock HMM
// migrating the pages to RAM before the peer reads them; plus API-level small-copy latency.
// Leaves out: host memory bandwidth limits and the pipeline's chunk-fill term (c / max(B1, B2)).
import type { TopologySpec } from "../fabric/schema.js";
import { InputError } from "../units/input-error.js";
import { param, type Calibration } from "./calibration.js";
import { migrateNs, peerMapNs } from "./hmm-costs.js";
import { buildLinkGraph, pathBetween, type LinkGraph, type SimPath, type TransferKind } from "./paths.js";
import { simulate, type SimResult } from "./simulate.js";

/** Links of a topology under a calibration (both already loaded). */
export function machine(topology: TopologySpec, cal: Calibration): LinkGraph {
  return buildLinkGraph(topology, cal);
}

export interface TransferCost {
  ns: number;
  gbps: number;
  latencyNs: number;
  /** Payload rate of the transfer alone, GB/s. */
  rateGBps: number;
  topoClass: string;
}

/** Time of one transfer alone on `path`: fixed latency + bytes at the path's solo rate. */
export function costTransfer(graph: LinkGraph, path: SimPath, bytes: number): TransferCost {
  if (!(bytes > 0)) throw new InputError("bytes", bytes, "must be > 0");
  let rate = path.capGBps;
  path.resources.forEach((r, k) => {
    rate = Math.min(rate, graph.links[r >> 1].capacityGBps / path.weights[k]);
  });
  const ns = path.latencyNs + bytes / rate;
  return { ns, gbps: bytes / ns, latencyNs: path.latencyNs, rateGBps: rate, topoClass: path.topoClass };
}

export interface BounceCost {
  ns: number;
  gbps: number;
  legs: [SimPath, SimPath];
  sim: SimResult;
}

/**
 * Copy `bytes` from device `a` to device `b` through host RAM of NUMA node `hostNuma` (default: a's):
 * a pushes to RAM with posted writes (D2H), b pulls from RAM with reads (H2D). Pipelined: both legs
 * stream at once and share links (nccl #1086); otherwise the second leg starts when the first ends.
 */
export function bounceCopy(graph: LinkGraph, a: string, b: string, bytes: number, opts: { pipelined?: boolean; hostNuma?: number } = {}): BounceCost {
  const host = `host:${opts.hostNuma ?? graph.numaOf(a)}`;
  const down = pathBetween(graph, a, host, "write", "pcie");
  const up = pathBetween(graph, host, b, "read", "pcie");
  if (opts.pipelined ?? true) {
    const sim = simulate(graph, [{ path: down, bytes, label: "D2H" }, { path: up, bytes, label: "H2D" }]);
    return { ns: sim.makespanNs, gbps: bytes / sim.makespanNs, legs: [down, up], sim };
  }
  const first = simulate(graph, [{ path: down, bytes, label: "D2H" }]);
  const sim = simulate(graph, [{ path: down, bytes, label: "D2H" }, { path: up, bytes, startNs: first.makespanNs, label: "H2D" }]);
  return { ns: sim.makespanNs, gbps: bytes / sim.makespanNs, legs: [down, up], sim };
}

/** API-level latency of a small copy (cudaMemcpy-style, costs.md §2.1): one copy launch plus the
 *  path latency for P2P; two launches, the host staging hand-off and both legs for a bounce. */
export function smallCopyLatencyNs(graph: LinkGraph, a: string, b: string, design: "p2p" | "bounce", kind: TransferKind = "write"): number {
  const cal = graph.calibration;
  if (design === "p2p") return param(cal, "copyLaunchNs") + pathBetween(graph, a, b, kind).latencyNs;
  const host = `host:${graph.numaOf(a)}`;
  return 2 * param(cal, "copyLaunchNs") + param(cal, "hostStagingSyncNs") + pathBetween(graph, a, host, "write", "pcie").latencyNs + pathBetween(graph, host, b, "read", "pcie").latencyNs;
}

export interface DesignComparison {
  bytes: number;
  p2p: { ns: number; gbps: number; topoClass: string } | undefined;
  bounce: { ns: number; gbps: number };
  migrate: { ns: number; gbps: number; ipis: number };
}

/**
 * Device `reader` needs `bytes` that live in device `owner`'s memory:
 * - p2p: peer-map the range, then read it through the owner's BAR (undefined when `p2pSupported` is false);
 * - bounce: the owner copies to RAM, the reader copies from RAM (pipelined);
 * - migrate: stock HMM migrates the pages to RAM (migrate_to_ram), then the reader reads RAM.
 */
export function compareDesigns(graph: LinkGraph, owner: string, reader: string, bytes: number, opts: { p2pSupported?: boolean; pageBytes?: number; remoteCpus?: boolean } = {}): DesignComparison {
  const cal = graph.calibration;
  const pageBytes = opts.pageBytes ?? 4096;
  const pages = Math.ceil(bytes / pageBytes);
  let p2p: DesignComparison["p2p"];
  if (opts.p2pSupported ?? true) {
    const t = costTransfer(graph, pathBetween(graph, owner, reader, "read"), bytes);
    const ns = peerMapNs(cal, 1) + t.ns;
    p2p = { ns, gbps: bytes / ns, topoClass: t.topoClass };
  }
  const b = bounceCopy(graph, owner, reader, bytes);
  const host = `host:${graph.numaOf(owner)}`;
  const d2h = costTransfer(graph, pathBetween(graph, owner, host, "write", "pcie"), bytes);
  const m = migrateNs(cal, pages, { pageBytes, copyGBps: d2h.rateGBps, copyLatencyNs: d2h.latencyNs, batchedFlush: true, remoteCpus: opts.remoteCpus ?? true, mirrors: 1 });
  const read = costTransfer(graph, pathBetween(graph, host, reader, "read", "pcie"), bytes);
  const mns = m.ns + read.ns;
  return { bytes, p2p, bounce: { ns: b.ns, gbps: b.gbps }, migrate: { ns: mns, gbps: bytes / mns, ipis: m.ipis } };
}
