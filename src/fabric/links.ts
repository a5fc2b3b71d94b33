// Models: the PCIe links of the tree as the cost model sees them: a physical link joins a port
// (root port, switch downstream port, other bridge) and the function below it, and runs at the
// function's `link` (the capability, the working speed), else its port's; `linkCurrent` likewise
// for the state the dump showed. A switch upstream port's children sit on the switch's internal
// bus (no link), and so do functions on a root bus. The slowest link of a path bounds its bandwidth.
// Leaves out: link widths and speeds the input does not state (the calibration's defaults apply).
import { parentBridge } from "./build.js";
import { LANE_GBPS } from "./import/hwloc-link.js";
import type { Fabric, LinkConfig, PciFunction } from "./types.js";

const PORT_KINDS = new Set(["rootPort", "switchDownstream", "bridge"]);

/** The physical link between `f` and its port: capability and state as the input gives them; undefined when there is none. */
export interface FunctionLink {
  capability?: LinkConfig;
  current?: LinkConfig;
}

export function linkAbove(fabric: Fabric, f: PciFunction): FunctionLink | undefined {
  const port = parentBridge(fabric, f);
  if (!port || !PORT_KINDS.has(port.kind)) return undefined;
  return { capability: f.link ?? port.link, current: f.linkCurrent ?? port.linkCurrent };
}

/** Payload GB/s per direction of a link configuration (lanes × per-lane rate after encoding). */
export function linkGbps(link: LinkConfig): number {
  return (LANE_GBPS[link.gen] ?? 0) * link.width;
}

/** The slowest of `links` (undefined ones skipped); undefined when none is known. */
export function slowestLink(links: readonly (LinkConfig | undefined)[]): LinkConfig | undefined {
  let slowest: LinkConfig | undefined;
  for (const l of links) if (l && (!slowest || linkGbps(l) < linkGbps(slowest))) slowest = l;
  return slowest;
}

/** The links on the tree path between `a` and `b`: above each function up to their lowest common bridge (to the roots when none). */
export function pathLinks(fabric: Fabric, a: PciFunction, b: PciFunction): FunctionLink[] {
  const up = (f: PciFunction): PciFunction[] => {
    const chain: PciFunction[] = [];
    for (let cur: PciFunction | null = f; cur; cur = parentBridge(fabric, cur)) chain.push(cur);
    return chain;
  };
  const chainA = up(a);
  const chainB = up(b);
  const common = chainA.find((x) => chainB.includes(x));
  const below = (chain: PciFunction[]) => (common ? chain.slice(0, chain.indexOf(common)) : chain);
  return [...below(chainA), ...below(chainB)].map((f) => linkAbove(fabric, f)).filter((l): l is FunctionLink => l !== undefined);
}

/** "gen4 x16", and " (now gen1 x16)" when the state read differs from the capability. */
export function formatLink(link: FunctionLink | undefined): string {
  if (!link || (!link.capability && !link.current)) return "link unknown";
  const show = (l: LinkConfig) => `gen${l.gen} x${l.width}`;
  if (!link.capability) return `now ${show(link.current!)} (capability unknown)`;
  const now = link.current && (link.current.gen !== link.capability.gen || link.current.width !== link.capability.width) ? ` (now ${show(link.current)})` : "";
  return `${show(link.capability)}${now}`;
}
