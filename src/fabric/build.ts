// Models: turning a topology (JSON object) into a Fabric: shape check, hierarchy and bus numbers,
// BAR and window rules, resource assignment, defaults, link checks; plus lookups by id or PCI
// address, short "bb:dd.f" included (lookup.ts). Every bad input is an InputError naming the
// field path and value.
// Leaves out: reading files and other formats (load.ts, import/).
import { InputError } from "../units/input-error.js";
import { assignResources } from "./assign.js";
import { applyDefaults } from "./defaults.js";
import { parseTopology } from "./parse.js";
import { lookupNode, unknownNameReason, type NodeIndex } from "./lookup.js";
import type { TopologySpec } from "./schema.js";
import { buildStructure } from "./structure.js";
import type { Fabric, FabricNode, HostBridge, NvLinkState, PciFunction } from "./types.js";
import { checkPlacement, checkSpecs } from "./validate.js";

export function buildFabric(input: unknown, source?: string): Fabric {
  const spec = parseTopology(input, source);
  const structure = buildStructure(spec, source);
  checkSpecs(structure, source);
  const byAddress = new Map<string, PciFunction>();
  for (const func of structure.functions) byAddress.set(func.address, func);
  const index: NodeIndex = { byId: structure.byId, byAddress, hostBridges: structure.hostBridges };
  const nvlinks = checkLinks(spec, index, source);
  assignResources(structure, source);
  checkPlacement(structure, source);
  const machineCpu = applyDefaults(structure, input);
  return {
    name: spec.name, description: spec.description, source: spec.source, platform: spec.platform, linkSpeed: spec.linkSpeed ?? "capability",
    hostBridges: structure.hostBridges, functions: structure.functions, nvswitches: structure.nvswitches,
    nvlinks,
    socketLinks: spec.links.flatMap((l) => (l.kind === "socket" ? [{ a: l.a, b: l.b, name: l.name, gbps: l.gbps }] : [])),
    machineCpu, byId: structure.byId, byAddress,
  };
}

/** A socket link joins two NUMA nodes; an NVLink joins two different endpoints or nvswitches, each
 *  named by id or PCI address. Returns the NVLinks with their ends as ids. */
function checkLinks(spec: TopologySpec, index: NodeIndex, source?: string): NvLinkState[] {
  const nvlinks: NvLinkState[] = [];
  spec.links.forEach((link, k) => {
    if (link.kind === "socket") {
      if (link.a === link.b) throw new InputError(`links[${k}].b`, link.b, "a socket link joins two different NUMA nodes", source);
      return;
    }
    const [a, b] = (["a", "b"] as const).map((end) => {
      const field = `links[${k}].${end}`;
      const node = lookupNode(index, link[end], { field, source });
      if (!node) throw new InputError(field, link[end], unknownNameReason(index, link[end], "no node has this id or PCI address"), source);
      if (node.kind !== "endpoint" && node.kind !== "nvswitch") {
        throw new InputError(field, link[end], `an NVLink joins endpoints or nvswitches, not a ${node.kind}`, source);
      }
      return node.id;
    });
    if (a === b) throw new InputError(`links[${k}].b`, link.b, "an NVLink joins two different nodes", source);
    nvlinks.push({ a, b, count: link.count, gen: link.gen });
  });
  return nvlinks;
}

/**
 * A node by topology id, or a PCI function by its address ("dddd:bb:dd.f", or "bb:dd.f" when one
 * domain has a function there); undefined when none. InputError when a short address is ambiguous.
 */
export function findNode(fabric: Fabric, idOrAddress: string): FabricNode | undefined {
  return lookupNode(fabric, idOrAddress, { field: "device" });
}

/** The PCI function `idOrAddress` names; InputError (naming `field`, and close candidates) otherwise. */
export function getFunction(fabric: Fabric, idOrAddress: string, field = "device"): PciFunction {
  const node = lookupNode(fabric, idOrAddress, { field });
  if (!node) {
    throw new InputError(field, idOrAddress, unknownNameReason(fabric, idOrAddress, `no device with this id or PCI address in topology "${fabric.name}"`));
  }
  if (node.kind === "hostBridge" || node.kind === "nvswitch") throw new InputError(field, idOrAddress, `is a ${node.kind}, not a PCI function`);
  return node;
}

export function hostBridgeOf(fabric: Fabric, f: PciFunction): HostBridge {
  return fabric.byId.get(f.hostBridge) as HostBridge;
}

/** The bridge above `f`, or null on a root bus. */
export function parentBridge(fabric: Fabric, f: PciFunction): PciFunction | null {
  const p = fabric.byId.get(f.parent)!;
  return p.kind === "hostBridge" || p.kind === "nvswitch" ? null : p;
}

/** The id a pair matrix shows: the PCI address when the input gave one, else the topology id. */
export function displayId(f: PciFunction): string {
  return f.addressGiven ? f.address : f.id;
}
