// Models: where a transfer's bytes go: the physical links (PCIe per function, NVLink, socket) of a
// topology and the path between two devices or a device and host memory, with the hop latencies and
// per-link wire overheads the cost model charges (costs.md §1, §4, §6.1). Paths follow the PCI tree up
// to the lowest common bridge (a switch turns traffic around; otherwise the root complex forwards it).
// The graph is built from the fabric layer's Fabric (one notion of topology); a peer request that
// the fabric's address routing redirects (ACS P2P Request Redirect) goes through the root complex.
// Leaves out: IOMMU groups; links internal to a root complex or switch are not bandwidth-limited,
// only charged a hop latency.
import { InputError } from "../units/input-error.js";
import { buildFabric } from "../fabric/build.js";
import { routeAddress } from "../fabric/route.js";
import type { TopologySpec } from "../fabric/schema.js";
import type { Fabric, FabricNode, PciFunction } from "../fabric/types.js";
import { param, type Calibration } from "./calibration.js";
import {
  checkPcieConfig, completionChunk, readGBps, tlpGBps, writeGBps, MRD_BYTES, CPLD_OVERHEAD, MWR_OVERHEAD,
  type PcieGen, type PcieLinkConfig, type PcieWidth,
} from "./pcie-rate.js";

export type LinkKind = "pcie" | "nvlink" | "socket";

/** One physical link; direction 0 is a -> b (parent -> child for PCIe), 1 is b -> a. */
export interface SimLink {
  id: string;
  kind: LinkKind;
  a: string;
  b: string;
  /** TLP-layer (PCIe) or effective (NVLink, socket) capacity per direction, GB/s = bytes/ns. */
  capacityGBps: number;
  pcie?: PcieLinkConfig;
  /** Bonded NVLinks in this link. */
  count?: number;
}

/** posted write (initiator pushes), non-posted read (initiator pulls). */
export type TransferKind = "write" | "read";

/** A costed route: resources are link*2+direction, with wire bytes per payload byte on each. */
export interface SimPath {
  from: string;
  to: string;
  kind: TransferKind;
  /** nvidia-smi style class: PIX/PXB/PHB/NODE/SYS for PCIe, NV<n> for NVLink, HOST for memory. */
  topoClass: string;
  resources: number[];
  weights: number[];
  /** Payload rate this transfer cannot exceed even alone (protocol, read window, platform), GB/s. */
  capGBps: number;
  /** Fixed latency before the last byte lands (hops, read round trip), ns. */
  latencyNs: number;
}

/** The links of a topology and what routing needs from it. */
export interface LinkGraph {
  links: SimLink[];
  /** The built machine the links come from. */
  fabric: Fabric;
  nodes: Map<string, FabricNode>;
  /** For a PCI function: index of the link above it, if it owns one. */
  upLink: Map<string, number>;
  numaOf: (id: string) => number;
  calibration: Calibration;
}

const PORT_KINDS = new Set(["rootPort", "switchDownstream", "bridge"]);

function pcieConfigFor(node: PciFunction, parent: FabricNode | undefined, cal: Calibration): PcieLinkConfig {
  const above = parent && "link" in parent ? parent.link : undefined;
  const link = node.link ?? above;
  const c: PcieLinkConfig = {
    gen: (link?.gen ?? param(cal, "pcieDefaultGen")) as PcieGen,
    width: (link?.width ?? param(cal, "pcieDefaultWidth")) as PcieWidth,
    mps: param(cal, "pcieMps"),
    mrrs: param(cal, "pcieMrrs"),
    flitHeaderBytes: param(cal, "flitHeaderBytes"),
  };
  checkPcieConfig(c, `nodes[${node.id}].link`);
  return c;
}

function parentOf(n: FabricNode): string | undefined {
  return n.kind === "hostBridge" || n.kind === "nvswitch" ? undefined : n.parent;
}

function isFabric(t: TopologySpec | Fabric): t is Fabric {
  return "byId" in t;
}

/**
 * Builds the link list of a machine under a calibration: a built Fabric, or a topology object that
 * the fabric layer builds first (so its checks, defaults and NUMA resolution apply).
 */
export function buildLinkGraph(topo: TopologySpec | Fabric, cal: Calibration): LinkGraph {
  const fabric = isFabric(topo) ? topo : buildFabric(topo, "topology");
  const nodes = fabric.byId;
  const links: SimLink[] = [];
  const upLink = new Map<string, number>();
  for (const n of fabric.functions) {
    const parent = nodes.get(n.parent);
    // A physical link joins a port (root port, switch downstream port, bridge) and what sits below it.
    if (!parent || !PORT_KINDS.has(parent.kind)) continue;
    const pcie = pcieConfigFor(n, parent, cal);
    upLink.set(n.id, links.length);
    links.push({ id: `pcie:${n.parent}-${n.id}`, kind: "pcie", a: n.parent, b: n.id, capacityGBps: tlpGBps(pcie.gen, pcie.width, pcie.mps), pcie });
  }
  fabric.nvlinks.forEach((l, i) => {
    if (l.gen === undefined) throw new InputError(`links[${i}].gen`, l.gen, "costing an NVLink needs its generation");
    const perLink = param(cal, `nvlink${l.gen}GBps` as "nvlink1GBps");
    links.push({ id: `nvlink:${l.a}-${l.b}`, kind: "nvlink", a: l.a, b: l.b, capacityGBps: perLink * l.count, count: l.count });
  });
  for (const l of fabric.socketLinks) {
    links.push({ id: `socket:${l.a}-${l.b}`, kind: "socket", a: `numa${l.a}`, b: `numa${l.b}`, capacityGBps: l.gbps ?? param(cal, "socketGBps") });
  }
  // The fabric resolved every node's NUMA node (a host bridge's from the devices below it, DESIGN §4).
  const numaOf = (id: string): number => {
    const n = nodes.get(id);
    return n && "numaNode" in n ? n.numaNode : 0;
  };
  return { links, fabric, nodes, upLink, numaOf, calibration: cal };
}

function chain(g: LinkGraph, id: string): string[] {
  const out: string[] = [];
  let cur: string | undefined = id;
  while (cur !== undefined) {
    const n = g.nodes.get(cur);
    if (!n) throw new InputError("device", cur, "no node with this id in the topology");
    out.push(cur);
    cur = parentOf(n);
    if (out.length > 256) throw new InputError("nodes", id, "parent chain has a cycle");
  }
  return out;
}

/** Builds path state incrementally: a resource list with weights, latency and the solo payload rate. */
class PathBuilder {
  resources: number[] = [];
  weights: number[] = [];
  latencyNs = 0;
  soloGBps = Infinity;
  constructor(private readonly g: LinkGraph, private readonly kind: TransferKind) {}

  /** Adds the link with `dataDir` the direction the payload flows on it. */
  addLink(linkIndex: number, dataDir: 0 | 1): void {
    const l = this.g.links[linkIndex];
    if (l.kind === "pcie" && l.pcie) {
      const c = l.pcie;
      if (this.kind === "write") {
        this.push(linkIndex * 2 + dataDir, (c.mps + (c.gen === 6 ? c.flitHeaderBytes ?? 16 : MWR_OVERHEAD)) / c.mps);
        this.soloGBps = Math.min(this.soloGBps, writeGBps(c));
      } else {
        const cpl = completionChunk(c);
        this.push(linkIndex * 2 + dataDir, (cpl + (c.gen === 6 ? c.flitHeaderBytes ?? 16 : CPLD_OVERHEAD)) / cpl);
        this.push(linkIndex * 2 + (1 - dataDir), (c.gen === 6 ? c.flitHeaderBytes ?? 16 : MRD_BYTES) / c.mrrs);
        this.soloGBps = Math.min(this.soloGBps, readGBps(c));
      }
    } else {
      this.push(linkIndex * 2 + dataDir, 1);
      this.soloGBps = Math.min(this.soloGBps, l.capacityGBps);
      this.latencyNs += param(this.g.calibration, l.kind === "nvlink" ? "nvlinkHopNs" : "socketHopNs");
    }
  }

  private push(resource: number, weight: number): void {
    const at = this.resources.indexOf(resource);
    if (at >= 0) this.weights[at] += weight;
    else {
      this.resources.push(resource);
      this.weights.push(weight);
    }
  }
}

function findSocketLink(g: LinkGraph, from: number, to: number): [number, 0 | 1] {
  const i = g.links.findIndex((l) => l.kind === "socket" && ((l.a === `numa${from}` && l.b === `numa${to}`) || (l.a === `numa${to}` && l.b === `numa${from}`)));
  if (i < 0) throw new InputError("links", `numa${from}-numa${to}`, "no socket link joins these NUMA nodes");
  return [i, g.links[i].a === `numa${from}` ? 0 : 1];
}

/** Host memory of NUMA node n is named "host:n" ("host" = node 0). */
function hostNuma(id: string): number | undefined {
  const m = /^host(?::(\d+))?$/.exec(id);
  return m ? Number(m[1] ?? 0) : undefined;
}

function nvlinkBetween(g: LinkGraph, a: string, b: string): number {
  return g.links.findIndex((l) => l.kind === "nvlink" && ((l.a === a && l.b === b) || (l.a === b && l.b === a)));
}

/**
 * The path of a transfer from `from` to `to` (device ids, or "host:<numa>"). `kind` "write": the
 * initiator at `from` pushes posted writes; "read": the initiator at `to` pulls with non-posted reads.
 * `via` "nvlink" prefers a direct NVLink or a shared NVSwitch; "pcie" forces the PCI tree.
 */
export function pathBetween(g: LinkGraph, from: string, to: string, kind: TransferKind, via: "auto" | "nvlink" | "pcie" = "auto"): SimPath {
  const cal = g.calibration;
  if (from === to) throw new InputError("to", to, "a transfer needs two different ends");
  const b = new PathBuilder(g, kind);
  const hostFrom = hostNuma(from), hostTo = hostNuma(to);
  if (via !== "pcie" && hostFrom === undefined && hostTo === undefined) {
    const direct = nvlinkBetween(g, from, to);
    if (direct >= 0) {
      b.addLink(direct, g.links[direct].a === from ? 0 : 1);
      return finish(g, b, from, to, kind, `NV${countOf(g, direct)}`, false);
    }
    for (const [i, l] of g.links.entries()) {
      if (l.kind !== "nvlink") continue;
      const sw = l.a === from ? l.b : l.b === from ? l.a : undefined;
      if (sw === undefined || g.nodes.get(sw)?.kind !== "nvswitch") continue;
      const second = nvlinkBetween(g, sw, to);
      if (second < 0) continue;
      b.addLink(i, l.a === from ? 0 : 1);
      b.addLink(second, g.links[second].a === sw ? 0 : 1);
      return finish(g, b, from, to, kind, `NV${Math.min(countOf(g, i), countOf(g, second))}`, false);
    }
    if (via === "nvlink") throw new InputError("via", via, `no NVLink path between ${from} and ${to}`);
  }
  if (hostFrom !== undefined && hostTo !== undefined) throw new InputError("to", to, "host-to-host copies are not PCIe transfers");
  const devFrom = hostFrom === undefined ? chain(g, from) : undefined;
  const devTo = hostTo === undefined ? chain(g, to) : undefined;
  if (!devFrom || !devTo) {
    // Device <-> host memory: up (or down) the device's links, then across sockets if needed.
    const dev = (devFrom ?? devTo)!;
    const memNuma = (hostFrom ?? hostTo)!;
    const toHost = devFrom !== undefined;
    const numa = g.numaOf(dev[0]);
    if (toHost) {
      climb(g, b, dev, dev.length - 1, 1);
      if (numa !== memNuma) crossSockets(g, b, numa, memNuma);
    } else {
      if (numa !== memNuma) crossSockets(g, b, memNuma, numa);
      climb(g, b, dev, dev.length - 1, 0);
    }
    b.latencyNs += switchesOn(g, dev, dev.length - 1) * param(cal, "switchHopNs");
    return finish(g, b, from, to, kind, numa === memNuma ? "HOST" : "HOST-SYS", false);
  }
  const setTo = new Set(devTo);
  let lcaIdx = devFrom.findIndex((id) => setTo.has(id));
  let topoClass: string;
  let throughRc = false;
  const topoLca = lcaIdx >= 0 ? g.nodes.get(devFrom[lcaIdx])! : undefined;
  // ACS P2P Request Redirect sends the request up to the root complex (fabric/route.ts): the data
  // then turns around there, while nvidia-smi's class still names the topology (costs.md §6.1).
  if (topoLca && topoLca.kind !== "hostBridge" && redirected(g, kind === "write" ? from : to, kind === "write" ? to : from)) {
    lcaIdx = devFrom.length - 1;
  }
  if (lcaIdx >= 0) {
    const lca = devFrom[lcaIdx];
    climb(g, b, devFrom, lcaIdx, 1);
    climb(g, b, devTo, devTo.indexOf(lca), 0);
    const lcaNode = g.nodes.get(lca)!;
    let switches = switchesOn(g, devFrom, lcaIdx) + switchesOn(g, devTo, devTo.indexOf(lca));
    if (lcaNode.kind === "switchUpstream" || lcaNode.kind === "switchDownstream") switches += 1;
    b.latencyNs += switches * param(cal, "switchHopNs");
    if (lcaNode.kind === "hostBridge") {
      throughRc = true;
      b.latencyNs += param(cal, "rootComplexHopNs");
    }
    const topoIdx = devFrom.indexOf(topoLca!.id);
    topoClass = topoLca!.kind === "hostBridge" ? "PHB" : bridgesBelow(g, devFrom, topoIdx) + bridgesBelow(g, devTo, devTo.indexOf(topoLca!.id)) <= 1 ? "PIX" : "PXB";
  } else {
    // Different host bridges: the root complex forwards; across sockets the socket link carries it.
    throughRc = true;
    climb(g, b, devFrom, devFrom.length - 1, 1);
    const na = g.numaOf(from), nb = g.numaOf(to);
    if (na !== nb) crossSockets(g, b, na, nb);
    climb(g, b, devTo, devTo.length - 1, 0);
    b.latencyNs += (switchesOn(g, devFrom, devFrom.length - 1) + switchesOn(g, devTo, devTo.length - 1)) * param(cal, "switchHopNs");
    b.latencyNs += 2 * param(cal, "rootComplexHopNs");
    topoClass = na === nb ? "NODE" : "SYS";
  }
  return finish(g, b, from, to, kind, topoClass, throughRc);
}

/** Whether the fabric's address routing redirects a request from `issuer` to `target`'s first
 *  memory BAR to the root complex (ACS RR, drivers/pci/p2pdma.c pci_p2pdma_distance). */
function redirected(g: LinkGraph, issuer: string, target: string): boolean {
  const t = g.nodes.get(target);
  const bar = t && t.kind !== "hostBridge" && t.kind !== "nvswitch" ? t.bars.find((x) => x.size > 0) : undefined;
  if (!bar) return false;
  const r = routeAddress(g.fabric, issuer, bar.bus);
  return !r.unclaimed && r.redirected;
}

function countOf(g: LinkGraph, linkIndex: number): number {
  return g.links[linkIndex].count ?? 1;
}

/** Adds the links from chain[0] up to chain[stop] (exclusive), data going up (1) or down (0). */
function climb(g: LinkGraph, b: PathBuilder, ch: string[], stop: number, dir: 0 | 1): void {
  for (let i = 0; i < stop; i++) {
    const li = g.upLink.get(ch[i]);
    if (li !== undefined) b.addLink(li, dir);
  }
}

function crossSockets(g: LinkGraph, b: PathBuilder, from: number, to: number): void {
  const [li, dir] = findSocketLink(g, from, to);
  b.addLink(li, dir);
}

/** Switches whose upstream port lies strictly below the turnaround point on this side. */
function switchesOn(g: LinkGraph, ch: string[], stop: number): number {
  let n = 0;
  for (let i = 0; i < stop; i++) if (g.nodes.get(ch[i])?.kind === "switchUpstream") n++;
  return n;
}

function bridgesBelow(g: LinkGraph, ch: string[], stop: number): number {
  let n = 0;
  for (let i = 1; i < stop; i++) if (g.nodes.get(ch[i])?.kind === "switchUpstream") n++;
  return n;
}

function finish(g: LinkGraph, b: PathBuilder, from: string, to: string, kind: TransferKind, topoClass: string, throughRc: boolean): SimPath {
  const cal = g.calibration;
  let cap = b.soloGBps;
  const pcie = b.resources.some((r) => g.links[r >> 1].kind === "pcie");
  if (pcie) cap *= param(cal, "hostDmaEfficiency");
  if (throughRc) cap *= param(cal, "rcP2pFactor");
  if (kind === "read" && pcie) {
    // Non-posted PCIe reads: at most readOutstandingBytes in flight per round trip (costs.md §1.5, §6.1).
    cap = Math.min(cap, param(cal, "readOutstandingBytes") / param(cal, "deviceReadRttNs"));
    b.latencyNs = 2 * b.latencyNs + param(cal, "deviceReadRttNs");
  }
  return { from, to, kind, topoClass, resources: b.resources, weights: b.weights, capGBps: cap, latencyNs: b.latencyNs };
}
