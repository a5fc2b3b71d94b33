// Models: how a memory request (TLP) travels by address: up from the issuer through bridges until
// a peer on the bus claims it (a BAR, or a bridge window: then down to the BAR), or to the root
// complex, which routes it to the host bridge whose aperture holds it and down again. ACS P2P
// Request Redirect on the port (or function) a request leaves by sends peer traffic up to the root
// complex instead.
// Leaves out: the IOMMU (at the root complex the address is taken as a CPU physical address, the
// dma-direct identity), ACS CR/EC/UF and egress vectors; root-bus peers always meet in the root complex.
import { hex } from "../units/size.js";
import { getFunction, hostBridgeOf, parentBridge } from "./build.js";
import { ACS_BITS, type Fabric, type FabricBar, type PciFunction } from "./types.js";

export type HopDirection = "up" | "down" | "across-root-complex" | "across-socket";

export interface Hop {
  node: string;
  direction: HopDirection;
}

export interface RouteClaimed {
  unclaimed: false;
  /** Every node the request enters after leaving the issuer, ending with the target. */
  hops: Hop[];
  target: string;
  bar: number;
  offset: number;
  cpuAddress: number;
  busAddress: number;
  /** ACS redirect sent the request to the root complex; `redirectedAt` is the port (or function). */
  redirected: boolean;
  redirectedAt?: string;
}

export interface RouteUnclaimed {
  unclaimed: true;
  address: number;
  hops: Hop[];
  /** The node where no window or BAR claimed the address. */
  at: string;
  reason: string;
}

export type Route = RouteClaimed | RouteUnclaimed;

/** One request on its way: the hops so far and where ACS redirected it. */
interface RouteWalk {
  fabric: Fabric;
  issuer: PciFunction;
  busAddress: number;
  hops: Hop[];
  redirectedAt?: string;
}

const inRange = (a: number, r: { bus: number; size: number } | undefined) => r !== undefined && a >= r.bus && a < r.bus + r.size;
const claimBar = (func: PciFunction, a: number): FabricBar | undefined => func.bars.find((b) => inRange(a, b));
const claimWindow = (func: PciFunction, a: number) => inRange(a, func.windows.mem) || inRange(a, func.windows.prefetch);
const functionOf = (walk: RouteWalk, id: string) => walk.fabric.byId.get(id) as PciFunction;

export function routeAddress(fabric: Fabric, issuerId: string, busAddress: number): Route {
  const issuer = getFunction(fabric, issuerId, "issuer");
  const walk: RouteWalk = { fabric, issuer, busAddress, hops: [] };
  const own = claimBar(issuer, busAddress);
  if (own) return claimed(walk, issuer, own, busAddress);
  return climb(walk) ?? crossRootComplex(walk);
}

function claimed(walk: RouteWalk, target: PciFunction, bar: FabricBar, a: number): RouteClaimed {
  return {
    unclaimed: false, hops: walk.hops, target: target.id, bar: bar.index, offset: a - bar.bus, cpuAddress: bar.cpu + (a - bar.bus),
    busAddress: a, redirected: walk.redirectedAt !== undefined, redirectedAt: walk.redirectedAt,
  };
}

function unclaimed(walk: RouteWalk, at: string, reason: string): RouteUnclaimed {
  return { unclaimed: true, address: walk.busAddress, hops: walk.hops, at, reason };
}

/** From a node whose window claimed `a`, down to the BAR. */
function descend(walk: RouteWalk, from: { id: string; children: string[] }, a: number): Route {
  for (const child of from.children.map((id) => functionOf(walk, id))) {
    const bar = claimBar(child, a);
    if (bar) {
      walk.hops.push({ node: child.id, direction: "down" });
      return claimed(walk, child, bar, a);
    }
    if (claimWindow(child, a)) {
      walk.hops.push({ node: child.id, direction: "down" });
      return descend(walk, child, a);
    }
  }
  return unclaimed(walk, from.id, `${hex(a)} is inside a window of "${from.id}" but no device below claims it`);
}

/** Up through the hierarchy until a peer claims the address (the route), or to the root complex
 *  (undefined): directly, or because ACS Request Redirect on the way up sent it there. */
function climb(walk: RouteWalk): Route | undefined {
  const { fabric, busAddress } = walk;
  let cur: PciFunction = walk.issuer;
  for (let bridge = parentBridge(fabric, cur); bridge; bridge = parentBridge(fabric, cur)) {
    const peer = bridge.children.map((id) => functionOf(walk, id)).find((s) => s !== cur && (claimBar(s, busAddress) || claimWindow(s, busAddress)));
    if (peer) {
      if (cur.acs && cur.acs.control & ACS_BITS.RR) {
        walk.redirectedAt = cur.id;
        for (let up: PciFunction | null = bridge; up; up = parentBridge(fabric, up)) walk.hops.push({ node: up.id, direction: "up" });
        return undefined;
      }
      const bar = claimBar(peer, busAddress);
      walk.hops.push({ node: peer.id, direction: "down" });
      return bar ? claimed(walk, peer, bar, busAddress) : descend(walk, peer, busAddress);
    }
    if (claimWindow(bridge, busAddress)) return unclaimed(walk, bridge.id, `${hex(busAddress)} is inside a window of "${bridge.id}" but no device below claims it`);
    walk.hops.push({ node: bridge.id, direction: "up" });
    cur = bridge;
  }
  return undefined;
}

/** Root complex: the host bridge whose aperture holds the (CPU physical) address routes it down. */
function crossRootComplex(walk: RouteWalk): Route {
  const { fabric, busAddress } = walk;
  const home = hostBridgeOf(fabric, walk.issuer);
  walk.hops.push({ node: home.id, direction: "across-root-complex" });
  for (const host of fabric.hostBridges) {
    const window = host.windows.find((hw) => busAddress >= hw.cpu && busAddress < hw.cpu + hw.size);
    if (!window) continue;
    if (host !== home) walk.hops.push({ node: host.id, direction: host.numaNode !== home.numaNode ? "across-socket" : "across-root-complex" });
    return descend(walk, host, busAddress + (window.bus - window.cpu));
  }
  return unclaimed(walk, home.id, `no host bridge window claims ${hex(busAddress)} (system memory is not part of the fabric model)`);
}
