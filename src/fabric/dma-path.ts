// Models: the way a DMA from one device to another's memory BAR takes (`topo --path A B`): the
// request's hops as address routing gives them (route.ts routeAddress, to the BAR's first bus
// address), each with the PCIe link it crosses (links.ts: capability and the state read), and what
// Linux decides for the pair (p2pdma.ts, B as the provider: map type, distance, rule and reason).
// Leaves out: the IOMMU (the route takes the BAR's bus address as it is), and the link's load.
import { displayId, getFunction } from "./build.js";
import { formatLink, linkAbove, slowestLink, type FunctionLink } from "./links.js";
import { p2pdmaMapType, type P2pdmaResult } from "./p2pdma.js";
import { routeAddress, type HopDirection } from "./route.js";
import { topoClass, type TopoClass } from "./topo-class.js";
import type { Fabric, FabricBar, LinkConfig } from "./types.js";
import { hex } from "../units/size.js";

export interface DmaPathHop {
  /** The node the request leaves and the node it enters. */
  from: string;
  node: string;
  direction: HopDirection;
  /** The PCIe link crossed (none inside a switch, on a root bus, or across the root complex). */
  link?: LinkConfig;
  linkCurrent?: LinkConfig;
}

export interface DmaPath {
  from: string;
  to: string;
  bar: number;
  busAddress: number;
  hops: DmaPathHop[];
  /** The device that claims the address (the target, unless routing fails). */
  claimedBy?: string;
  /** Why no device claims it, when none does. */
  unclaimed?: string;
  /** ACS Request Redirect sent the request to the root complex at this port or function. */
  redirectedAt?: string;
  link?: LinkConfig;
  linkCurrent?: LinkConfig;
  class: TopoClass;
  mapType: P2pdmaResult["mapType"];
  distance: number;
  rule: P2pdmaResult["rule"];
  reason: string;
}

/** The path of a DMA issued by `fromId` to the start of `bar` of `toId` (ids or PCI addresses). */
export function dmaPath(fabric: Fabric, fromId: string, toId: string, bar: FabricBar): DmaPath {
  const from = getFunction(fabric, fromId, "--path");
  const to = getFunction(fabric, toId, "--path");
  const route = routeAddress(fabric, from.id, bar.bus);
  const hops: DmaPathHop[] = [];
  let prev = from.id;
  for (const hop of route.hops) {
    const crossing: FunctionLink | undefined = hop.direction === "up" ? linkOfNode(fabric, prev)
      : hop.direction === "down" ? linkOfNode(fabric, hop.node) : undefined;
    hops.push({
      from: prev, node: hop.node, direction: hop.direction,
      ...(crossing?.capability ? { link: crossing.capability } : {}), ...(crossing?.current ? { linkCurrent: crossing.current } : {}),
    });
    prev = hop.node;
  }
  const verdict = p2pdmaMapType(fabric, to.id, from.id);
  const link = slowestLink(hops.map((h) => h.link));
  const linkCurrent = slowestLink(hops.map((h) => h.linkCurrent));
  return {
    from: displayId(from), to: displayId(to), bar: bar.index, busAddress: bar.bus, hops,
    ...(route.unclaimed ? { unclaimed: route.reason } : { claimedBy: route.target }),
    ...(!route.unclaimed && route.redirectedAt ? { redirectedAt: route.redirectedAt } : {}),
    ...(link ? { link } : {}), ...(linkCurrent ? { linkCurrent } : {}),
    class: topoClass(fabric, from.id, to.id), mapType: verdict.mapType, distance: verdict.mapType === "NOT_SUPPORTED" ? -1 : verdict.distance,
    rule: verdict.rule, reason: verdict.reason,
  };
}

function linkOfNode(fabric: Fabric, id: string): FunctionLink | undefined {
  const node = fabric.byId.get(id);
  return node && node.kind !== "hostBridge" && node.kind !== "nvswitch" ? linkAbove(fabric, node) : undefined;
}

/** The path as text: one line per hop with its link, then the verdict and its reason. */
export function renderDmaPath(fabric: Fabric, path: DmaPath): string {
  const label = (id: string) => {
    const f = fabric.byId.get(id);
    if (!f || f.kind === "hostBridge" || f.kind === "nvswitch") return id;
    const what = f.kind === "endpoint" ? f.role ?? "other" : f.kind;
    return `${id} (${what}${f.name ? `, "${f.name}"` : ""})`;
  };
  const out = [`DMA from ${label(path.from)} to BAR${path.bar} of ${label(path.to)} at bus address ${hex(path.busAddress)}:`];
  const w = Math.max(...path.hops.map((h) => `${h.from} → ${h.node}`.length), 0);
  for (const h of path.hops) {
    const link = h.link || h.linkCurrent ? formatLink({ capability: h.link, current: h.linkCurrent }) : h.direction.startsWith("across") ? "" : "(inside a switch or the root complex: no PCIe link)";
    out.push(`  ${`${h.from} → ${h.node}`.padEnd(w)}  ${h.direction.padEnd(19)}  ${link}`.trimEnd());
  }
  if (path.unclaimed) out.push(`  no device claims the address: ${path.unclaimed}`);
  if (path.redirectedAt) out.push(`  ACS Request Redirect at ${path.redirectedAt} sent the request up to the root complex`);
  out.push(`slowest link: ${formatLink({ capability: path.link, current: path.linkCurrent })}`);
  out.push(`Linux P2PDMA (${path.to} as provider): ${path.mapType}, distance ${path.distance}, rule ${path.rule}; nvidia-smi class ${path.class}`);
  out.push(`reason: ${path.reason}`);
  return out.join("\n") + "\n";
}
