// Models: the designs a P2P author compares for moving bytes on one machine (DESIGN §1 step 7,
// costs.md §6.1), each as the flows it puts on the machine and the fixed costs a program sees around
// them: "dma" (a device's DMA engine between its memory and pinned host RAM: a CUDA copy from pinned
// memory, an RDMA NIC's DMA), "p2p" (the reader pulls the owner's memory over NVLink, or over PCIe when
// the P2PDMA map type allows), "bounce" (the owner pushes into a pinned RAM buffer while the reader
// pulls it, chunk by chunk, each chunk handed over by a staging synchronisation) and "migrate" (HMM
// migrate_vma, fault-driven or prefetched; stock HMM moves a device's pages to RAM before a peer reads
// them). Leaves out: page-table work of pinned buffers (registered once, not per copy).
import { p2pdmaMapType } from "../fabric/p2pdma.js";
import { InputError } from "../units/input-error.js";
import { param } from "./calibration.js";
import { launchNs } from "./devices.js";
import { dmaMapNs, peerMapNs } from "./hmm-costs.js";
import type { TopologySpec } from "../fabric/schema.js";
import type { Calibration } from "./calibration.js";
import { buildLinkGraph, type LinkGraph } from "./link-graph.js";
import { migrationCost, soloGBps, type MigrationCost } from "./migration.js";
import { hostNuma, iommuTranslates, packetNs, pathBetween, type SimPath } from "./paths.js";
import { simulate, type SimResult, type Transfer } from "./simulate.js";

export type DesignName = "dma" | "p2p" | "bounce" | "migrate";

/** One transfer to price: ends are device ids or "host:<numa>" (host RAM of that node). */
export interface DesignRequest {
  design: DesignName;
  from: string;
  to: string;
  bytes: number;
  /** p2p: the interconnect ("auto": NVLink where the pair has it, as CUDA chooses). */
  via?: "auto" | "pcie" | "nvlink";
  /** p2p: "p2pdma" fails where the kernel's P2PDMA map type is NOT_SUPPORTED; "fabric" costs what the hardware routes. */
  rule?: "p2pdma" | "fabric";
  /** migrate: fault-driven or one prefetch call; the page size each fault or call moves. */
  mode?: "fault" | "prefetch";
  pageBytes?: number;
}

/** The flows of one design (times from the design's start) and what its result reports. */
export interface DesignPlan {
  flows: Transfer[];
  interconnect: "pcie" | "nvlink" | "host";
  topoClass?: string;
  mapType?: string;
  /** The design's fixed costs (launch, mapping, staging, software parts of a migration), ns. */
  fixedNs: number;
}

/** A design the machine refuses (P2PDMA NOT_SUPPORTED), with the reason. */
export class DesignRefused extends Error {}

function device(g: LinkGraph, id: string, field: string) {
  const n = g.nodes.get(id);
  if (!n || n.kind !== "endpoint") throw new InputError(field, id, `not an endpoint of topology "${g.fabric.name}"`);
  return n;
}

/** A device's DMA engine between its memory and pinned host RAM: it writes to RAM, reads from RAM. */
function dmaPlan(g: LinkGraph, r: DesignRequest): DesignPlan {
  const toRam = hostNuma(r.to) !== undefined;
  const dev = device(g, toRam ? r.from : r.to, toRam ? "from" : "to");
  const path = toRam ? pathBetween(g, r.from, r.to, "write") : pathBetween(g, r.from, r.to, "read");
  const launch = launchNs(g.calibration, dev);
  return { flows: [{ path, bytes: r.bytes, startNs: launch, label: toRam ? "DMA to RAM" : "DMA from RAM" }], interconnect: "pcie", topoClass: path.topoClass, fixedNs: launch };
}

/** The reader `to` pulls `from`'s memory: NVLink, or PCIe through the owner's BAR when P2PDMA maps it
 *  (pci_p2pdma_map_type(provider = the owner, client = the reader)); through the host bridge the
 *  pages are IOMMU-mapped (reference/p2pdma.md: pci_p2pdma_map_segment vs dma_map_sgtable). */
function p2pPlan(g: LinkGraph, r: DesignRequest): DesignPlan {
  const cal = g.calibration;
  const reader = device(g, r.to, "to");
  device(g, r.from, "from");
  const path = pathBetween(g, r.from, r.to, "read", r.via ?? "auto");
  const mapType = p2pdmaMapType(g.fabric, r.from, r.to).mapType;
  let fixedNs = launchNs(cal, reader);
  if (path.interconnect === "pcie") {
    if (mapType === "NOT_SUPPORTED" && (r.rule ?? "p2pdma") === "p2pdma") {
      throw new DesignRefused(`"p2p" is not supported between ${r.from} and ${r.to} (P2PDMA map type NOT_SUPPORTED; "rule": "fabric" costs what the hardware routes)`);
    }
    fixedNs += peerMapNs(cal, 1);
    if (mapType === "THRU_HOST_BRIDGE" && iommuTranslates(g, r.to)) {
      const m = dmaMapNs(cal, Math.ceil(r.bytes / param(cal, "iommuPageBytes")), true);
      fixedNs += m.map + m.unmap;
    }
  }
  return { flows: [{ path, bytes: r.bytes, startNs: fixedNs, label: "p2p read" }], interconnect: path.interconnect, topoClass: path.topoClass, mapType, fixedNs };
}

/** Through pinned RAM of the owner's node: both legs stream at once, chunk by chunk; the reader's leg
 *  starts after the first chunk landed and its hand-off, and every later chunk pays a hand-off too
 *  (t = L + N / min(B1, B2) + c / B1 + chunks x sync, costs.md §6.1). */
function bouncePlan(g: LinkGraph, r: DesignRequest): DesignPlan {
  const cal = g.calibration;
  const owner = device(g, r.from, "from");
  device(g, r.to, "to");
  const host = `host:${g.numaOf(r.from)}`;
  const down = pathBetween(g, r.from, host, "write");
  const up = pathBetween(g, host, r.to, "read");
  const chunk = Math.min(r.bytes, param(cal, "stagingChunkBytes"));
  const chunks = Math.ceil(r.bytes / chunk);
  const sync = param(cal, "hostStagingSyncNs");
  const launch = launchNs(cal, owner);
  const firstChunk = down.latencyNs + packetNs(g, down, chunk) + chunk / soloGBps(g, down);
  return {
    flows: [
      { path: down, bytes: r.bytes, startNs: launch, label: "bounce D2H" },
      { path: up, bytes: r.bytes, startNs: launch + firstChunk + sync, tailNs: (chunks - 1) * sync, label: "bounce H2D" },
    ],
    interconnect: "pcie", topoClass: pathBetween(g, r.from, r.to, "read", "pcie").topoClass, fixedNs: launch + chunks * sync,
  };
}

/** A migration's copy as a flow: its software parts before (faults, setup, page work, mapping) and after. */
function migrationFlow(m: MigrationCost, label: string, startNs = 0): Transfer {
  const before = m.parts.fault + m.parts.setup + m.parts.pages + m.parts.dmaMap;
  const after = m.fixedNs - before - m.path.latencyNs;
  return { path: m.path, bytes: m.bytes, startNs: startNs + before, tailNs: Math.max(0, after), label };
}

/** HMM: RAM <-> device by migrate_vma; device -> device as stock HMM does it: the owner's pages go to
 *  RAM, then the reader pulls them from RAM. */
function migratePlan(g: LinkGraph, r: DesignRequest): DesignPlan {
  const fromRam = hostNuma(r.from), toRam = hostNuma(r.to);
  const opts = { bytes: r.bytes, pageBytes: r.pageBytes, mode: r.mode ?? "prefetch" };
  if (fromRam !== undefined) {
    const m = migrationCost(g, { device: device(g, r.to, "to").id, direction: "toDevice", ramNuma: fromRam, ...opts });
    return { flows: [migrationFlow(m, "migrate to device")], interconnect: "pcie", topoClass: m.path.topoClass, fixedNs: m.fixedNs };
  }
  const out = migrationCost(g, { device: device(g, r.from, "from").id, direction: "toRam", ramNuma: toRam, ...opts });
  if (toRam !== undefined) return { flows: [migrationFlow(out, "migrate to RAM")], interconnect: "pcie", topoClass: out.path.topoClass, fixedNs: out.fixedNs };
  const reader = device(g, r.to, "to");
  const read = pathBetween(g, `host:${g.numaOf(r.from)}`, reader.id, "read");
  return {
    flows: [migrationFlow(out, "migrate to RAM"), { path: read, bytes: r.bytes, after: 0, label: "read RAM" }],
    interconnect: "pcie", topoClass: out.path.topoClass, fixedNs: out.fixedNs,
  };
}

/** The flows and fixed costs of one design (DesignRefused when the machine would refuse it). */
export function planDesign(g: LinkGraph, r: DesignRequest): DesignPlan {
  if (!(Number.isSafeInteger(r.bytes) && r.bytes > 0)) throw new InputError("bytes", r.bytes, "must be a positive whole number of bytes");
  if (r.from === r.to) throw new InputError("to", r.to, "a transfer needs two different ends");
  const ram = hostNuma(r.from) !== undefined || hostNuma(r.to) !== undefined;
  switch (r.design) {
    case "dma":
      if (!ram) throw new InputError("design", r.design, `"dma" moves bytes between a device and RAM: one end is "ram" or "ram:N"`);
      return dmaPlan(g, r);
    case "p2p":
    case "bounce":
      if (ram) throw new InputError("design", r.design, `"${r.design}" needs two devices (RAM and a device is "dma" or "migrate")`);
      return r.design === "p2p" ? p2pPlan(g, r) : bouncePlan(g, r);
    case "migrate":
      return migratePlan(g, r);
  }
}

export interface TransferCost {
  ns: number;
  gbps: number;
  latencyNs: number;
  /** Payload rate of the transfer alone, GB/s. */
  rateGBps: number;
  topoClass: string;
}

/** Time of one transfer alone on `path`: latency + whole packets + bytes at the path's solo rate. */
export function costTransfer(graph: LinkGraph, path: SimPath, bytes: number): TransferCost {
  if (!(bytes > 0)) throw new InputError("bytes", bytes, "must be > 0");
  const rate = soloGBps(graph, path);
  const ns = path.latencyNs + packetNs(graph, path, bytes) + bytes / rate;
  return { ns, gbps: bytes / ns, latencyNs: path.latencyNs, rateGBps: rate, topoClass: path.topoClass };
}

/** The resources of a topology under a calibration (both already loaded). */
export function machine(topology: TopologySpec, cal: Calibration): LinkGraph {
  return buildLinkGraph(topology, cal);
}

export interface DesignCost {
  /** What the program sees: from the design's start to its last flow's end, ns. */
  ns: number;
  gbps: number;
  plan: DesignPlan;
  sim: SimResult;
}

/** One design alone on the machine: its flows simulated (DesignRefused when the machine refuses it). */
export function costDesign(g: LinkGraph, r: DesignRequest): DesignCost {
  const plan = planDesign(g, r);
  const sim = simulate(g, plan.flows);
  return { ns: sim.makespanNs, gbps: r.bytes / sim.makespanNs, plan, sim };
}

/** Copy `bytes` from device `a` to device `b` through pinned RAM of a's node (the "bounce" design). */
export function bounceCopy(g: LinkGraph, a: string, b: string, bytes: number): DesignCost {
  return costDesign(g, { design: "bounce", from: a, to: b, bytes });
}

/** API-level latency of a one-byte copy from `a` to `b` (costs.md §2.1): a P2P read or a bounce. */
export function smallCopyLatencyNs(g: LinkGraph, a: string, b: string, design: "p2p" | "bounce"): number {
  return costDesign(g, { design, from: a, to: b, bytes: 1, rule: "fabric" }).ns;
}

export interface DesignComparison {
  bytes: number;
  /** Undefined where P2PDMA refuses the pair. */
  p2p: { ns: number; gbps: number; topoClass: string } | undefined;
  bounce: { ns: number; gbps: number };
  migrate: { ns: number; gbps: number };
}

/** Device `reader` needs `bytes` that live in device `owner`'s memory: a P2P read, a bounce through
 *  RAM, or stock HMM migrating the pages to RAM before the reader reads them. */
export function compareDesigns(g: LinkGraph, owner: string, reader: string, bytes: number, opts: { pageBytes?: number } = {}): DesignComparison {
  const at = (design: DesignName) => costDesign(g, { design, from: owner, to: reader, bytes, pageBytes: opts.pageBytes });
  let p2p: DesignComparison["p2p"];
  try {
    const c = at("p2p");
    p2p = { ns: c.ns, gbps: c.gbps, topoClass: c.plan.topoClass ?? "" };
  } catch (e) {
    if (!(e instanceof DesignRefused)) throw e;
  }
  const bounce = at("bounce"), migrate = at("migrate");
  return { bytes, p2p, bounce: { ns: bounce.ns, gbps: bounce.gbps }, migrate: { ns: migrate.ns, gbps: migrate.gbps } };
}
