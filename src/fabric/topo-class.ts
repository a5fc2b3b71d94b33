// Models: the `nvidia-smi topo -m` class of a device pair with the rule set of p2pdma.md §6.3
// (legend §6.1): X, NV<n>, PIX, PXB, PHB, NODE, SYS. NV<n>: n = the bonded links of `a` whose far
// end is `b` or an NVSwitch from which `b` is reachable through NVSwitches (DGX-2: NV6 everywhere).
// PIX/PXB count switches crossed up to and down from the lowest common bridge: a switch is its
// upstream port with its downstream ports; a root port or other bridge counts as one.
// Leaves out: NVIDIA's own algorithm (not public), NVML_TOPOLOGY_INTERNAL boards.
import { findNode, getFunction, parentBridge } from "./build.js";
import type { Fabric, PciFunction } from "./types.js";

export type TopoClass = "X" | "PIX" | "PXB" | "PHB" | "NODE" | "SYS" | `NV${number}`;

/** Bonded NVLinks of `a` that reach `b`, directly or through NVSwitch nodes (ids or PCI addresses). */
export function nvlinkCount(fabric: Fabric, aName: string, bName: string): number {
  const a = findNode(fabric, aName)?.id ?? aName;
  const b = findNode(fabric, bName)?.id ?? bName;
  const switches = new Set(fabric.nvswitches.map((s) => s.id));
  const neighbours = (id: string) => fabric.nvlinks.flatMap((l) => (l.a === id ? [l.b] : l.b === id ? [l.a] : []));
  const reachesB = (sw: string): boolean => {
    const seen = new Set([sw]);
    const todo = [sw];
    while (todo.length) {
      const cur = todo.pop()!;
      for (const next of neighbours(cur)) {
        if (next === b) return true;
        if (switches.has(next) && !seen.has(next)) {
          seen.add(next);
          todo.push(next);
        }
      }
    }
    return false;
  };
  let bonded = 0;
  for (const link of fabric.nvlinks) {
    const far = link.a === a ? link.b : link.b === a ? link.a : undefined;
    if (far === undefined) continue;
    if (far === b || (switches.has(far) && reachesB(far))) bonded += link.count;
  }
  return bonded;
}

/** The bridges above `f` (its physical parent chain; a VF sits where its PF does). */
function bridgesAbove(fabric: Fabric, f: PciFunction): PciFunction[] {
  const out: PciFunction[] = [];
  for (let bridge = parentBridge(fabric, f); bridge; bridge = parentBridge(fabric, bridge)) out.push(bridge);
  return out;
}

/** One switch = its upstream port and downstream ports; any other bridge is its own unit. */
function switchUnit(fabric: Fabric, bridge: PciFunction): string {
  if (bridge.kind === "switchDownstream") {
    const up = parentBridge(fabric, bridge);
    if (up?.kind === "switchUpstream") return up.id;
  }
  return bridge.id;
}

/** The PCIe part of the class (ignores NVLink): PIX, PXB, PHB, NODE or SYS (X for one function). */
export function pcieTopoClass(fabric: Fabric, aId: string, bId: string): TopoClass {
  const a = getFunction(fabric, aId, "a");
  const b = getFunction(fabric, bId, "b");
  if (a === b) return "X";
  const upA = bridgesAbove(fabric, a);
  const upB = bridgesAbove(fabric, b);
  const i = upA.findIndex((bridge) => upB.includes(bridge));
  if (i >= 0) {
    const common = upA[i];
    const crossed = new Set([...upA.slice(0, i + 1), ...upB.slice(0, upB.indexOf(common))].map((bridge) => switchUnit(fabric, bridge)));
    return crossed.size <= 1 ? "PIX" : "PXB";
  }
  if (a.hostBridge === b.hostBridge) return "PHB";
  return a.numaNode === b.numaNode ? "NODE" : "SYS";
}

/** nvidia-smi topo -m class of the pair (ids or PCI addresses). */
export function topoClass(fabric: Fabric, aId: string, bId: string): TopoClass {
  const a = getFunction(fabric, aId, "a");
  const b = getFunction(fabric, bId, "b");
  if (a === b) return "X";
  const nv = nvlinkCount(fabric, a.id, b.id);
  return nv > 0 ? `NV${nv}` : pcieTopoClass(fabric, a.id, b.id);
}
