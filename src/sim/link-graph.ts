// Models: the shared elements of a machine that transfers compete for, each a resource with a
// capacity per direction (costs.md §6.1): every PCIe link (lanes x rate x encoding, less DLLP and SKP
// overhead at its payload size), every NVLink bundle (NCCL's effective rate per link x links), every
// socket link, the host memory of each NUMA node, each NIC's network port, each device's read tags
// and DMA engines, and a root complex's peer forwarding where a platform gives its rate. A link runs at what
// both ends can do (their LnkCap), or at its dump-time status when the topology says so. An
// integrated endpoint on a root bus attaches to the root complex through an internal port with its
// own `link` (or the default link). Leaves out: switch and root-port internals (non-blocking: their
// ports' links carry the limit); no shipped platform gives a root-complex forwarding rate (none is
// published: the re-packetisation of peer traffic is charged per link instead, paths.ts).
import { buildFabric } from "../fabric/build.js";
import type { TopologySpec } from "../fabric/schema.js";
import type { Fabric, FabricNode, PciFunction } from "../fabric/types.js";
import { InputError } from "../units/input-error.js";
import { param, type Calibration } from "./calibration.js";
import { mpsCap, portGBps, readTags } from "./devices.js";
import { checkPcieConfig, tlpGBps, type PcieGen, type PcieLinkConfig, type PcieWidth } from "./pcie-rate.js";
import type { SimPath } from "./paths.js";
import { forMachine } from "./platform.js";

export type LinkKind = "pcie" | "nvlink" | "socket";

/** One physical link; direction 0 is a -> b (parent -> child for PCIe), 1 is b -> a. */
export interface SimLink {
  id: string;
  kind: LinkKind;
  a: string;
  b: string;
  /** TLP-layer (PCIe) or effective (NVLink, socket) capacity per direction, GB/s = bytes/ns. */
  capacityGBps: number;
  /** Time to cross the link one way (PHY and data link layer, or an NVLink / socket hop), ns. */
  latencyNs: number;
  pcie?: PcieLinkConfig;
  /** Bonded NVLinks in this link. */
  count?: number;
}

/** The resources of a machine: link directions first (2 x link + direction), then one host memory
 *  per NUMA node, one network port per NIC that has a known rate, each endpoint's read tags
 *  (requests it may keep in flight: a read stream holds rate x round trip / request size), each
 *  device's DMA engines when the topology gives them, and each root complex's peer forwarding when
 *  the platform gives it a rate. */
export interface LinkGraph {
  links: SimLink[];
  capacities: Float64Array;
  resourceNames: string[];
  /** The built machine the links come from. */
  fabric: Fabric;
  nodes: Map<string, FabricNode>;
  /** For a PCI function: index of the link above it, if it has one. */
  upLink: Map<string, number>;
  /** Payload size (MPS) each function sends and accepts, B. */
  mps: Map<string, number>;
  /** Resource index of each NUMA node's memory, and of each NIC's network port. */
  memory: Map<number, number>;
  port: Map<string, number>;
  tags: Map<string, number>;
  engines: Map<string, number>;
  /** Root-complex peer forwarding, by host bridge (only when the platform gives a rate). */
  forwarding: Map<string, number>;
  numaOf: (id: string) => number;
  /** The run's parameters for this machine (its platform profile applied, platform.ts). */
  calibration: Calibration;
  /** Paths already built (paths.ts), so transfers on one route share one path (one flow class). */
  routes: Map<string, SimPath>;
}

const PORT_KINDS = new Set(["rootPort", "switchDownstream", "bridge"]);

function isFabric(t: TopologySpec | Fabric): t is Fabric {
  return "byId" in t;
}

/** The speed a link trains to: the lower of both ends' capability, or its status when the
 *  topology says the current speed is to be used (costs.md §1: GPUs idle at 2.5 GT/s). */
function linkSpeed(fabric: Fabric, child: PciFunction, parent: FabricNode | undefined): { gen?: number; width?: number } {
  const port = parent && "link" in parent ? parent : undefined;
  if (fabric.linkSpeed === "current") {
    const current = child.linkCurrent ?? port?.linkCurrent;
    if (current) return current;
  }
  const ends = [child.link, port?.link].filter((l): l is { gen: number; width: number } => l !== undefined);
  if (ends.length === 0) return {};
  return { gen: Math.min(...ends.map((l) => l.gen)), width: Math.min(...ends.map((l) => l.width)) };
}

/** Payload size of a function: its own cap, no more than its upstream port's setting (the Linux
 *  default bus policy) and the configured limit `pcieMps`. */
function payloadSizes(fabric: Fabric, cal: Calibration): Map<string, number> {
  const out = new Map<string, number>();
  const of = (f: PciFunction): number => {
    const known = out.get(f.id);
    if (known !== undefined) return known;
    const parent = fabric.byId.get(f.parent);
    const above = parent && parent.kind !== "hostBridge" && parent.kind !== "nvswitch" ? of(parent) : param(cal, "rootPortMps");
    const mps = Math.min(mpsCap(cal, f), above, param(cal, "pcieMps"));
    out.set(f.id, mps);
    return mps;
  };
  for (const f of fabric.functions) of(f);
  return out;
}

/** The link above function f (an internal port when f sits on a root bus), with its payload size. */
function pcieLink(fabric: Fabric, cal: Calibration, f: PciFunction, mps: number): SimLink {
  const parent = fabric.byId.get(f.parent);
  const internal = parent?.kind === "hostBridge";
  const speed = linkSpeed(fabric, f, parent);
  const pcie: PcieLinkConfig = {
    gen: (speed.gen ?? param(cal, "pcieDefaultGen")) as PcieGen,
    width: (speed.width ?? param(cal, "pcieDefaultWidth")) as PcieWidth,
    mps: Math.max(128, mps),
    mrrs: param(cal, "pcieMrrs"),
    flitHeaderBytes: param(cal, "flitHeaderBytes"),
  };
  checkPcieConfig(pcie, `nodes[${f.id}].link`);
  const id = internal ? `internal:${f.parent}-${f.id}` : `pcie:${f.parent}-${f.id}`;
  return { id, kind: "pcie", a: f.parent, b: f.id, capacityGBps: tlpGBps(pcie.gen, pcie.width, pcie.mps), latencyNs: param(cal, "pcieLinkNs"), pcie };
}

/**
 * Builds the resources of a machine under a calibration: a built Fabric, or a topology object that
 * the fabric layer builds first. The calibration is resolved for the machine's platform here.
 */
export function buildLinkGraph(topo: TopologySpec | Fabric, calibration: Calibration): LinkGraph {
  const fabric = isFabric(topo) ? topo : buildFabric(topo, "topology");
  const cal = forMachine(calibration, fabric);
  const nodes = fabric.byId;
  const links: SimLink[] = [];
  const upLink = new Map<string, number>();
  const mps = payloadSizes(fabric, cal);
  for (const f of fabric.functions) {
    const parent = nodes.get(f.parent);
    // A physical link joins a port (root port, switch downstream port, bridge) and what sits below it;
    // an endpoint on a root bus reaches the root complex through an internal port.
    const internal = parent?.kind === "hostBridge" && f.kind === "endpoint";
    if (!internal && (!parent || !PORT_KINDS.has(parent.kind))) continue;
    upLink.set(f.id, links.length);
    links.push(pcieLink(fabric, cal, f, mps.get(f.id)!));
  }
  fabric.nvlinks.forEach((l, i) => {
    if (l.gen === undefined) throw new InputError(`links[${i}].gen`, l.gen, "costing an NVLink needs its generation");
    const perLink = param(cal, `nvlink${l.gen}GBps` as "nvlink1GBps");
    links.push({ id: `nvlink:${l.a}-${l.b}`, kind: "nvlink", a: l.a, b: l.b, capacityGBps: perLink * l.count, latencyNs: param(cal, "nvlinkHopNs"), count: l.count });
  });
  for (const l of fabric.socketLinks) {
    links.push({ id: `socket:${l.a}-${l.b}`, kind: "socket", a: `numa${l.a}`, b: `numa${l.b}`, capacityGBps: l.gbps ?? param(cal, "socketGBps"), latencyNs: param(cal, "socketHopNs") });
  }
  const capacities: number[] = [];
  const resourceNames: string[] = [];
  for (const l of links) {
    capacities.push(l.capacityGBps, l.capacityGBps);
    resourceNames.push(`${l.id} ${directionName(l.kind, 0)}`, `${l.id} ${directionName(l.kind, 1)}`);
  }
  const memory = new Map<number, number>();
  for (const numa of [...new Set([...fabric.hostBridges.map((h) => h.numaNode), ...fabric.functions.map((f) => f.numaNode)])].sort((x, y) => x - y)) {
    memory.set(numa, capacities.length);
    capacities.push(param(cal, "memoryGBps"));
    resourceNames.push(`memory:numa${numa}`);
  }
  const port = new Map<string, number>();
  for (const f of fabric.functions) {
    const rate = f.kind === "endpoint" ? portGBps(cal, f) : undefined;
    if (rate === undefined) continue;
    port.set(f.id, capacities.length);
    capacities.push(rate);
    resourceNames.push(`port:${f.id}`);
  }
  const tags = new Map<string, number>();
  for (const f of fabric.functions) {
    if (f.kind !== "endpoint") continue;
    tags.set(f.id, capacities.length);
    capacities.push(readTags(cal, f));
    resourceNames.push(`tags:${f.id}`);
  }
  const engines = new Map<string, number>();
  for (const f of fabric.functions) {
    if (!f.dmaEngines) continue;
    engines.set(f.id, capacities.length);
    capacities.push(f.dmaEngines.count * f.dmaEngines.gbps);
    resourceNames.push(`engines:${f.id}`);
  }
  const forwarding = new Map<string, number>();
  if (param(cal, "rcP2pGBps") > 0) {
    for (const h of fabric.hostBridges) {
      forwarding.set(h.id, capacities.length);
      capacities.push(param(cal, "rcP2pGBps"));
      resourceNames.push(`forwarding:${h.id}`);
    }
  }
  // The fabric resolved every node's NUMA node (a host bridge's from the devices below it, DESIGN §4).
  const numaOf = (id: string): number => {
    const n = nodes.get(id);
    return n && "numaNode" in n ? n.numaNode : 0;
  };
  return {
    links, capacities: Float64Array.from(capacities), resourceNames, fabric, nodes, upLink, mps, memory, port, tags, engines, forwarding, numaOf, calibration: cal, routes: new Map(),
  };
}

/** PCIe direction 0 is parent -> child (down); other links name their ends' order. */
export function directionName(kind: LinkKind, dir: number): string {
  if (kind === "pcie") return dir ? "up" : "down";
  return dir ? "b->a" : "a->b";
}
