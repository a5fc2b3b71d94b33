// Models: where a transfer's bytes go and what they pay on the way (costs.md §1, §4, §6.1): the links
// between two devices or a device and host memory (NVLink where the pair has it, else the PCI tree up
// to the lowest common bridge, where a switch turns the traffic around; otherwise through the root
// complex, and across sockets), the TLPs on each link (payload at most the path's MPS, reads split by
// the read request size, peer traffic through an Intel root complex cut to 64 B TLPs), and the
// latency of each hop. A read's rate is bounded by its requests in flight over the path's own round
// trip; writes are posted. A peer request that ACS redirects goes up to the root complex. NVLink
// through NVSwitches is striped over every NVLink bundle of the sender that reaches the receiver (a
// GPU spreads its traffic over all its ports: the 6 NVSwitches of a DGX-2 baseboard), across
// baseboards over the switches' trunks.
// Leaves out: IOMMU translation on the path (hmm-costs.ts prices mapping and IOTLB misses) and
// posted-write flow-control credits (receivers advertise enough to cover their link); NVLink stripes
// are split in proportion to their narrowest bundle, not by NVSwitch address interleaving.
import { routeAddress } from "../fabric/route.js";
import { nvlinkCount, pcieTopoClass } from "../fabric/topo-class.js";
import type { PciFunction } from "../fabric/types.js";
import { InputError } from "../units/input-error.js";
import { param } from "./calibration.js";
import { readTags } from "./devices.js";
import type { LinkGraph } from "./link-graph.js";
import { CPLD_OVERHEAD, MRD_BYTES, MWR_OVERHEAD, type PcieLinkConfig } from "./pcie-rate.js";

/** posted write (initiator pushes), non-posted read (initiator pulls). */
export type TransferKind = "write" | "read";

/** One link a path crosses: payload goes in `dir`; on PCIe, in TLPs of `tlpBytes`, read requests
 *  of `requestBytes` going the other way. `side` says which side of the root complex it is on. */
export interface PathHop {
  link: number;
  dir: 0 | 1;
  tlpBytes: number;
  requestBytes: number;
  side: "initiator" | "target";
  /** Which of the parallel routes the payload is striped over the hop is on (0 when there is one). */
  stripe: number;
  /** Fraction of the payload crossing the hop (1 unless striped). */
  share: number;
}

/** A costed route: the resources a transfer's payload loads (wire bytes per payload byte on each),
 *  the latency it pays, and the rate it cannot exceed even alone. */
export interface SimPath {
  from: string;
  to: string;
  kind: TransferKind;
  /** The device whose engine moves the bytes (writes: `from`; reads: `to`). */
  initiator: string;
  /** nvidia-smi style class: PIX/PXB/PHB/NODE/SYS for PCIe, NV<n> for NVLink, HOST / HOST-SYS for memory. */
  topoClass: string;
  interconnect: "pcie" | "nvlink";
  hops: PathHop[];
  throughRootComplex: boolean;
  resources: number[];
  weights: number[];
  /** Fraction of the payload each resource carries (parallel to `resources`): 1 on a link it crosses,
   *  a stripe's share on striped NVLink, 0 on a read's request direction and the initiator's tags. */
  shares: number[];
  /** A rate the transfer cannot exceed of its own: one DMA engine's, when the topology gives the
   *  initiator's engines (a read's window is the initiator's tags, a resource its reads share). GB/s. */
  capGBps: number;
  /** One way from the initiator's engine to the far end, ns. */
  oneWayNs: number;
  /** From the last byte leaving the bottleneck to the transfer's completion: one way for a write,
   *  the round trip for a read (its first completion arrives after it), ns. Never 0. */
  latencyNs: number;
  /** Bytes the initiator may keep requested at once (tags x request size), or 0 for a write. */
  windowBytes: number;
}

/** Route state while a path is built: hops, what its latency is made of, and its extra resources. */
class RouteBuilder {
  readonly hops: PathHop[] = [];
  readonly extra: number[] = [];
  switches = 0;
  rootComplex = 0;
  throughRootComplex = false;
  side: "initiator" | "target" = "initiator";
  constructor(readonly g: LinkGraph, readonly switchHopNs: number) {}

  link(link: number, dir: 0 | 1, stripe = 0, share = 1): void {
    this.hops.push({ link, dir, tlpBytes: 0, requestBytes: 0, side: this.side, stripe, share });
  }

  /** Links from chain[0] up to chain[stop] (exclusive), data going up (1) or down (0). */
  climb(ch: readonly string[], stop: number, dir: 0 | 1): void {
    const order = dir === 1 ? ch.slice(0, stop) : ch.slice(0, stop).reverse();
    for (const id of order) {
      const li = this.g.upLink.get(id);
      if (li !== undefined) this.link(li, dir);
    }
  }

  /** Into the root complex: to memory, or (`peer`) turning around towards another device, which makes
   *  the hops after it the target's side. */
  crossRootComplex(peer: boolean): void {
    this.rootComplex++;
    if (!peer) return;
    this.throughRootComplex = true;
    this.side = "target";
  }

  crossSockets(from: number, to: number): void {
    const g = this.g;
    const i = g.links.findIndex((l) => l.kind === "socket" && ((l.a === `numa${from}` && l.b === `numa${to}`) || (l.a === `numa${to}` && l.b === `numa${from}`)));
    if (i < 0) throw new InputError("links", `numa${from}-numa${to}`, "no socket link joins these NUMA nodes");
    this.link(i, g.links[i].a === `numa${from}` ? 0 : 1);
  }
}

/** Host memory of NUMA node n is named "host:n" ("host" = node 0). */
export function hostNuma(id: string): number | undefined {
  const m = /^host(?::(\d+))?$/.exec(id);
  return m ? Number(m[1] ?? 0) : undefined;
}

function chain(g: LinkGraph, id: string): string[] {
  const out: string[] = [];
  let cur: string | undefined = id;
  while (cur !== undefined) {
    const n = g.nodes.get(cur);
    if (!n) throw new InputError("device", cur, "no node with this id in the topology");
    if (n.kind === "nvswitch") throw new InputError("device", cur, "an NVSwitch is not a transfer end");
    out.push(cur);
    cur = n.kind === "hostBridge" ? undefined : n.parent;
    if (out.length > 256) throw new InputError("nodes", id, "parent chain has a cycle");
  }
  return out;
}

function fn(g: LinkGraph, id: string): PciFunction | undefined {
  const n = g.nodes.get(id);
  return n && n.kind !== "hostBridge" && n.kind !== "nvswitch" ? n : undefined;
}

/** Switch latency by the generation of the links around it (costs.md §1.4: Gen3 PEX9700 ~150 ns,
 *  Gen4 PEX88000 105 ns, reused for Gen5). */
function switchHopNs(g: LinkGraph, ch: readonly string[]): number {
  const cal = g.calibration;
  const gens = ch.map((id) => g.upLink.get(id)).filter((li): li is number => li !== undefined).map((li) => g.links[li].pcie?.gen ?? 4);
  return gens.length > 0 && Math.max(...gens) <= 3 ? param(cal, "switchHopGen3Ns") : param(cal, "switchHopNs");
}

/** Switches whose upstream port lies strictly below the turnaround point on this side. */
function switchesBelow(g: LinkGraph, ch: readonly string[], stop: number): number {
  let n = 0;
  for (let i = 0; i < stop; i++) if (g.nodes.get(ch[i])?.kind === "switchUpstream") n++;
  return n;
}

/** NVLink bundles (link indices) at each node: its neighbour across each. */
function nvlinkNeighbours(g: LinkGraph): Map<string, Array<{ link: number; far: string }>> {
  const out = new Map<string, Array<{ link: number; far: string }>>();
  g.links.forEach((l, link) => {
    if (l.kind !== "nvlink") return;
    for (const [x, far] of [[l.a, l.b], [l.b, l.a]]) {
      const list = out.get(x);
      if (list) list.push({ link, far });
      else out.set(x, [{ link, far }]);
    }
  });
  return out;
}

/** The NVLink routes from `from` to `to`, as link sequences: each bundle joining them directly, and for
 *  each bundle `from` has into an NVSwitch the route through the fewest switches (trunks between
 *  baseboards included) to a bundle into `to`. */
function nvlinkStripes(g: LinkGraph, from: string, to: string): number[][] {
  const switches = new Set(g.fabric.nvswitches.map((s) => s.id));
  const near = nvlinkNeighbours(g);
  const stripes: number[][] = [];
  for (const first of near.get(from) ?? []) {
    if (first.far === to) {
      stripes.push([first.link]);
      continue;
    }
    if (!switches.has(first.far)) continue;
    // Breadth first through the switches; `via` holds the bundle each switch was reached by.
    const via = new Map<string, number>([[first.far, first.link]]);
    const todo = [first.far];
    let last = -1;
    for (let i = 0; i < todo.length && last < 0; i++) {
      for (const e of near.get(todo[i])!) {
        if (e.far === to) {
          last = e.link;
          break;
        }
        if (switches.has(e.far) && !via.has(e.far)) {
          via.set(e.far, e.link);
          todo.push(e.far);
        }
      }
    }
    if (last < 0) continue;
    const route = [last];
    for (let at = g.links[last].a === to ? g.links[last].b : g.links[last].a; at !== from; ) {
      const li = via.get(at)!;
      route.push(li);
      at = g.links[li].a === at ? g.links[li].b : g.links[li].a;
    }
    stripes.push(route.reverse());
  }
  return stripes;
}

/** NVLink, direct or through NVSwitch nodes, the payload striped over every route (nvlinkStripes) in
 *  proportion to its narrowest bundle; undefined when the pair has none. */
function nvlinkRoute(g: LinkGraph, from: string, to: string): { b: RouteBuilder; topoClass: string } | undefined {
  const count = nvlinkCount(g.fabric, from, to);
  if (count === 0) return undefined;
  const stripes = nvlinkStripes(g, from, to);
  const narrowest = stripes.map((r) => Math.min(...r.map((li) => g.links[li].capacityGBps)));
  const total = narrowest.reduce((x, y) => x + y, 0);
  const b = new RouteBuilder(g, 0);
  stripes.forEach((route, k) => {
    let at = from;
    for (const li of route) {
      const l = g.links[li];
      b.link(li, l.a === at ? 0 : 1, k, narrowest[k] / total);
      at = l.a === at ? l.b : l.a;
    }
  });
  return { b, topoClass: `NV${count}` };
}

/** Device <-> host memory: the device's links, the root complex, across sockets if the memory is on
 *  another node, then that node's memory. */
function hostRoute(g: LinkGraph, device: string, numa: number, toHost: boolean): { b: RouteBuilder; topoClass: string } {
  const dev = chain(g, device);
  if (!g.memory.has(numa)) throw new InputError("ram", `ram:${numa}`, `no NUMA node ${numa} in topology "${g.fabric.name}"`);
  const b = new RouteBuilder(g, switchHopNs(g, dev));
  const local = g.numaOf(device);
  if (toHost) b.climb(dev, dev.length - 1, 1);
  b.crossRootComplex(false);
  if (local !== numa) toHost ? b.crossSockets(local, numa) : b.crossSockets(numa, local);
  if (!toHost) b.climb(dev, dev.length - 1, 0);
  b.switches = switchesBelow(g, dev, dev.length - 1);
  b.extra.push(g.memory.get(numa)!);
  return { b, topoClass: local === numa ? "HOST" : "HOST-SYS" };
}

/** Whether the fabric's address routing redirects a request from `issuer` to `target`'s first
 *  memory BAR to the root complex (ACS RR, drivers/pci/p2pdma.c pci_p2pdma_distance). */
function redirected(g: LinkGraph, issuer: string, target: string): boolean {
  const t = fn(g, target);
  const bar = t?.bars.find((x) => x.size > 0);
  if (!bar) return false;
  const r = routeAddress(g.fabric, issuer, bar.bus);
  return !r.unclaimed && r.redirected;
}

/** Device -> device over PCIe: up to the lowest common bridge (a switch turns it around) or through the
 *  root complex (and the socket link when the devices are on different nodes). Hops are listed from
 *  the writer's side for a write, from the reader's side for a read. */
function treeRoute(g: LinkGraph, from: string, to: string, kind: TransferKind): { b: RouteBuilder; topoClass: string } {
  const initiator = kind === "write" ? from : to;
  const target = kind === "write" ? to : from;
  const up = chain(g, initiator), down = chain(g, target);
  const b = new RouteBuilder(g, Math.min(switchHopNs(g, up), switchHopNs(g, down)));
  // Data flows from `from` to `to`: on the initiator's links up for a write, down for a read.
  const initDir: 0 | 1 = kind === "write" ? 1 : 0, targetDir: 0 | 1 = kind === "write" ? 0 : 1;
  let lca = up.findIndex((id) => down.includes(id));
  const common = lca >= 0 ? g.nodes.get(up[lca])! : undefined;
  // ACS P2P Request Redirect sends the request up to the root complex (fabric/route.ts): the data then
  // turns around there, while nvidia-smi's class still names the topology (costs.md §6.1).
  if (common && common.kind !== "hostBridge" && redirected(g, initiator, target)) lca = up.length - 1;
  const topoClass = pcieTopoClass(g.fabric, from, to);
  if (lca >= 0 && g.nodes.get(up[lca])!.kind !== "hostBridge") {
    const turn = g.nodes.get(up[lca])!;
    b.climb(up, lca, initDir);
    b.side = "target";
    b.climb(down, down.indexOf(up[lca]), targetDir);
    b.switches = switchesBelow(g, up, lca) + switchesBelow(g, down, down.indexOf(up[lca]));
    if (turn.kind === "switchUpstream" || turn.kind === "switchDownstream") b.switches++;
    return { b, topoClass };
  }
  // Through the root complex, across sockets when the devices' nodes differ.
  b.climb(up, up.length - 1, initDir);
  b.crossRootComplex(true);
  const ni = g.numaOf(initiator), nt = g.numaOf(target);
  if (ni !== nt) kind === "write" ? b.crossSockets(ni, nt) : b.crossSockets(nt, ni);
  b.climb(down, down.length - 1, targetDir);
  b.switches = switchesBelow(g, up, up.length - 1) + switchesBelow(g, down, down.length - 1);
  return { b, topoClass };
}

/** PCIe TLP sizes on each hop: payload at most the path's MPS (a completion never larger than its
 *  request); through an Intel root complex, peer TLPs are cut to rcP2pTlpBytes: a write's on the
 *  target side, a read's requests on the target side and its completions on both (NCCL topo.h:
 *  "Intel CPUs convert GPU P2P traffic into 64B PCIe TLPs", costs.md §4.3). */
function sizeTlps(g: LinkGraph, b: RouteBuilder, kind: TransferKind): void {
  const cal = g.calibration;
  let mps = 4096;
  for (const h of b.hops) {
    const c = g.links[h.link].pcie;
    if (c) mps = Math.min(mps, c.mps);
  }
  const mrrs = param(cal, "pcieMrrs");
  const cut = b.throughRootComplex ? param(cal, "rcP2pTlpBytes") : Infinity;
  for (const h of b.hops) {
    if (!g.links[h.link].pcie) continue;
    const payload = kind === "read" ? Math.min(mps, mrrs) : mps;
    const cutHere = kind === "read" || h.side === "target";
    h.tlpBytes = cutHere ? Math.min(payload, cut) : payload;
    h.requestBytes = kind === "read" ? (h.side === "target" ? Math.min(mrrs, cut) : mrrs) : 0;
  }
}

function headerBytes(c: PcieLinkConfig, nonFlit: number): number {
  return c.gen === 6 ? (c.flitHeaderBytes ?? 16) : nonFlit;
}

/** Resources, wire bytes per payload byte and payload shares: a PCIe hop's data direction carries
 *  (payload + header) per TLP, a read's request direction one MRd per request (no payload); NVLink
 *  its stripe's share; socket, memory and port carry 1. */
function loads(g: LinkGraph, b: RouteBuilder, kind: TransferKind): { resources: number[]; weights: number[]; shares: number[] } {
  const resources: number[] = [];
  const weights: number[] = [];
  const shares: number[] = [];
  const add = (r: number, w: number, share: number) => {
    const at = resources.indexOf(r);
    if (at >= 0) {
      weights[at] += w;
      shares[at] += share;
    } else {
      resources.push(r);
      weights.push(w);
      shares.push(share);
    }
  };
  for (const h of b.hops) {
    const c = g.links[h.link].pcie;
    if (!c) {
      add(2 * h.link + h.dir, h.share, h.share);
      continue;
    }
    add(2 * h.link + h.dir, (h.share * (h.tlpBytes + headerBytes(c, kind === "write" ? MWR_OVERHEAD : CPLD_OVERHEAD))) / h.tlpBytes, h.share);
    if (kind === "read") add(2 * h.link + (1 - h.dir), (h.share * headerBytes(c, MRD_BYTES)) / h.requestBytes, 0);
  }
  for (const r of b.extra) add(r, 1, 1);
  return { resources, weights, shares };
}

/** One-way latency: the engine's issue, each link (of the slowest stripe), switch, root complex and
 *  socket crossing. */
function oneWay(g: LinkGraph, b: RouteBuilder): number {
  const cal = g.calibration;
  const stripeNs: number[] = [0];
  for (const h of b.hops) stripeNs[h.stripe] = (stripeNs[h.stripe] ?? 0) + g.links[h.link].latencyNs;
  return param(cal, "deviceDmaIssueNs") + b.switches * b.switchHopNs + b.rootComplex * param(cal, "rootComplexHopNs") + Math.max(...stripeNs);
}

function finish(g: LinkGraph, b: RouteBuilder, ends: { from: string; to: string; kind: TransferKind; topoClass: string; interconnect: "pcie" | "nvlink"; completer: "memory" | "device" }): SimPath {
  const cal = g.calibration;
  const { from, to, kind } = ends;
  const initiator = kind === "write" ? from : to;
  sizeTlps(g, b, kind);
  const { resources, weights, shares } = loads(g, b, kind);
  const oneWayNs = oneWay(g, b);
  let latencyNs = oneWayNs, windowBytes = 0;
  const add = (r: number, w: number, share = 1) => {
    resources.push(r);
    weights.push(w);
    shares.push(share);
  };
  if (kind === "read") {
    // A read waits for its completer and comes back the same way. By Little's law a read stream at
    // rate x keeps x x round trip / request size requests in flight: the initiator's tags are a
    // resource its reads share, so tags x request size over the round trip bounds one stream and
    // all of them together (costs.md §1.5, §6.1).
    const issue = param(cal, "deviceDmaIssueNs");
    latencyNs = issue + 2 * (oneWayNs - issue) + param(cal, ends.completer === "memory" ? "memoryReadNs" : "barReadNs");
    const tags = g.tags.get(initiator);
    if (ends.interconnect === "pcie" && tags !== undefined) {
      const requestBytes = b.hops.find((h) => h.side === "initiator" && h.requestBytes > 0)?.requestBytes ?? param(cal, "pcieMrrs");
      windowBytes = g.capacities[tags] * requestBytes;
      add(tags, latencyNs / requestBytes, 0);
    }
  }
  // A NIC's network port feeds or drains its DMA, whichever end of the transfer it is.
  for (const end of [from, to]) {
    const port = g.port.get(end);
    if (port !== undefined && !resources.includes(port)) add(port, 1);
  }
  // Peer traffic is forwarded by the root complex of each host bridge it crosses.
  if (b.throughRootComplex) {
    for (const end of [from, to]) {
      const hb = fn(g, end)?.hostBridge;
      const r = hb === undefined ? undefined : g.forwarding.get(hb);
      if (r !== undefined && !resources.includes(r)) add(r, 1);
    }
  }
  // The initiator's engines: a transfer uses one (its rate caps it), all its transfers share them.
  const engines = g.engines.get(initiator);
  if (engines !== undefined) add(engines, 1);
  const engine = fn(g, initiator)?.dmaEngines;
  return {
    from, to, kind, initiator, topoClass: ends.topoClass, interconnect: ends.interconnect, hops: b.hops,
    throughRootComplex: b.throughRootComplex, resources, weights, shares, capGBps: engine?.gbps ?? Infinity, oneWayNs, latencyNs, windowBytes,
  };
}

/**
 * The path of a transfer from `from` to `to` (device ids, or "host:<numa>"). `kind` "write": the
 * device at `from` pushes posted writes; "read": the device at `to` pulls with non-posted reads.
 * `via` "nvlink" requires NVLink, "pcie" forces the PCI tree, "auto" takes NVLink where the pair has it.
 */
export function pathBetween(g: LinkGraph, from: string, to: string, kind: TransferKind, via: "auto" | "nvlink" | "pcie" = "auto"): SimPath {
  const key = `${from}|${to}|${kind}|${via}`;
  let path = g.routes.get(key);
  if (!path) g.routes.set(key, (path = route(g, from, to, kind, via)));
  return path;
}

function route(g: LinkGraph, from: string, to: string, kind: TransferKind, via: "auto" | "nvlink" | "pcie"): SimPath {
  if (from === to) throw new InputError("to", to, "a transfer needs two different ends");
  const hostFrom = hostNuma(from), hostTo = hostNuma(to);
  if (hostFrom !== undefined && hostTo !== undefined) throw new InputError("to", to, "host-to-host copies are not device transfers");
  if (hostFrom !== undefined || hostTo !== undefined) {
    const device = hostFrom === undefined ? from : to;
    if ((kind === "write") !== (hostTo !== undefined)) throw new InputError("kind", kind, `host memory does not initiate DMA: a ${hostTo !== undefined ? "device-to-host copy is the device's write" : "host-to-device copy is the device's read"}`);
    const { b, topoClass } = hostRoute(g, device, (hostFrom ?? hostTo)!, hostTo !== undefined);
    return finish(g, b, { from, to, kind, topoClass, interconnect: "pcie", completer: "memory" });
  }
  if (via !== "pcie") {
    const nv = nvlinkRoute(g, from, to);
    if (nv) return finish(g, nv.b, { from, to, kind, topoClass: nv.topoClass, interconnect: "nvlink", completer: "device" });
    if (via === "nvlink") throw new InputError("via", via, `no NVLink path between ${from} and ${to}`);
  }
  const { b, topoClass } = treeRoute(g, from, to, kind);
  return finish(g, b, { from, to, kind, topoClass, interconnect: "pcie", completer: "device" });
}

/** Whole packets: the fluid rate charges each payload byte its share of a TLP header; a transfer
 *  pays whole headers (a 4-byte write is one 28-byte TLP). The difference, at the slowest link, ns. */
export function packetNs(g: LinkGraph, path: SimPath, bytes: number): number {
  let worst = 0;
  for (const h of path.hops) {
    const l = g.links[h.link];
    if (!l.pcie) continue;
    const hdr = headerBytes(l.pcie, path.kind === "write" ? MWR_OVERHEAD : CPLD_OVERHEAD);
    const extra = Math.ceil(bytes / h.tlpBytes) * hdr - (bytes * hdr) / h.tlpBytes;
    worst = Math.max(worst, extra / l.capacityGBps);
  }
  return worst;
}

/** Whether DMA by `device` is translated by an IOMMU (its host bridge's `iommu` is "dma"). */
export function iommuTranslates(g: LinkGraph, device: string): boolean {
  const f = fn(g, device);
  if (!f) return false;
  const hb = g.nodes.get(f.hostBridge);
  return hb?.kind === "hostBridge" && hb.iommu === "dma";
}
