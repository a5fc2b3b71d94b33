// Models: how a memory request (TLP) travels by address: up from the issuer through bridges until
// a peer on the bus claims it (a BAR, or a bridge window: then down to the BAR), or to the root
// complex, which routes it to the host bridge whose aperture holds it and down again. ACS P2P
// Request Redirect on the port (or function) a request leaves by sends peer traffic up to the root
// complex instead. Simplified: at the root complex the address is taken as a CPU physical address
// (dma-direct identity; the IOMMU is modelled elsewhere), CR/EC/UF/egress vectors are not modelled,
// and root-bus peers always meet in the root complex.
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

const inRange = (a: number, r: { bus: number; size: number } | undefined) => r !== undefined && a >= r.bus && a < r.bus + r.size;
const claimBar = (f: PciFunction, a: number): FabricBar | undefined => f.bars.find((b) => inRange(a, b));
const claimWindow = (f: PciFunction, a: number) => inRange(a, f.windows.mem) || inRange(a, f.windows.prefetch);

export function routeAddress(fabric: Fabric, issuerId: string, busAddress: number): Route {
  const issuer = getFunction(fabric, issuerId, "issuer");
  const hops: Hop[] = [];
  const fn = (id: string) => fabric.byId.get(id) as PciFunction;
  const hex = (n: number) => `0x${n.toString(16)}`;
  let redirectedAt: string | undefined;

  const claimed = (f: PciFunction, bar: FabricBar, a: number): RouteClaimed => ({
    unclaimed: false, hops, target: f.id, bar: bar.index, offset: a - bar.bus, cpuAddress: bar.cpu + (a - bar.bus),
    busAddress: a, redirected: redirectedAt !== undefined, redirectedAt,
  });
  const unclaimed = (at: string, reason: string): RouteUnclaimed => ({ unclaimed: true, address: busAddress, hops, at, reason });

  /** From a node whose window claimed `a`, down to the BAR. */
  const descend = (from: { id: string; children: string[] }, a: number): Route => {
    for (const c of from.children.map(fn)) {
      const bar = claimBar(c, a);
      if (bar) {
        hops.push({ node: c.id, direction: "down" });
        return claimed(c, bar, a);
      }
      if (claimWindow(c, a)) {
        hops.push({ node: c.id, direction: "down" });
        return descend(c, a);
      }
    }
    return unclaimed(from.id, `${hex(a)} is inside a window of "${from.id}" but no device below claims it`);
  };

  const own = claimBar(issuer, busAddress);
  if (own) return claimed(issuer, own, busAddress);

  // Up through the hierarchy until a peer claims the address or the root complex is reached.
  let cur: PciFunction = issuer;
  for (let p = parentBridge(fabric, cur); p; p = parentBridge(fabric, cur)) {
    const peer = p.children.map(fn).find((s) => s !== cur && (claimBar(s, busAddress) || claimWindow(s, busAddress)));
    if (peer) {
      if (cur.acs && cur.acs.control & ACS_BITS.RR) {
        redirectedAt = cur.id;
        for (let x: PciFunction | null = p; x; x = parentBridge(fabric, x)) hops.push({ node: x.id, direction: "up" });
        break;
      }
      const bar = claimBar(peer, busAddress);
      hops.push({ node: peer.id, direction: "down" });
      return bar ? claimed(peer, bar, busAddress) : descend(peer, busAddress);
    }
    if (claimWindow(p, busAddress)) return unclaimed(p.id, `${hex(busAddress)} is inside a window of "${p.id}" but no device below claims it`);
    hops.push({ node: p.id, direction: "up" });
    cur = p;
  }

  // Root complex: the host bridge whose aperture holds the (CPU physical) address routes it down.
  const home = hostBridgeOf(fabric, issuer);
  hops.push({ node: home.id, direction: "across-root-complex" });
  for (const h of fabric.hostBridges) {
    const w = h.windows.find((hw) => busAddress >= hw.cpu && busAddress < hw.cpu + hw.size);
    if (!w) continue;
    if (h !== home) hops.push({ node: h.id, direction: h.numaNode !== home.numaNode ? "across-socket" : "across-root-complex" });
    return descend(h, busAddress + (w.bus - w.cpu));
  }
  return unclaimed(home.id, `no host bridge window claims ${hex(busAddress)} (system memory is not part of the fabric model)`);
}
