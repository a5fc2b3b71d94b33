// Models: turning a topology (JSON object) into a Fabric: shape check, hierarchy and bus numbers,
// BAR and window rules, resource assignment, defaults, link checks; plus lookups by id or PCI
// address. Every bad input is an InputError naming the field path and value.
// Leaves out: reading files and other formats (load.ts, import/).
import { InputError } from "../units/input-error.js";
import { assignResources } from "./assign.js";
import { applyDefaults } from "./defaults.js";
import { parseTopology } from "./parse.js";
import { formatPciAddress, parsePciAddress } from "./pci-address.js";
import type { TopologySpec } from "./schema.js";
import { buildStructure, type Structure } from "./structure.js";
import type { Fabric, FabricNode, HostBridge, PciFunction } from "./types.js";
import { checkPlacement, checkSpecs } from "./validate.js";

export function buildFabric(input: unknown, source?: string): Fabric {
  const spec = parseTopology(input, source);
  const structure = buildStructure(spec, source);
  checkSpecs(structure, source);
  checkLinks(spec, structure, source);
  assignResources(structure, source);
  checkPlacement(structure, source);
  const machineCpu = applyDefaults(structure, input);
  const byAddress = new Map<string, PciFunction>();
  for (const func of structure.functions) byAddress.set(func.address, func);
  return {
    name: spec.name, description: spec.description, source: spec.source,
    hostBridges: structure.hostBridges, functions: structure.functions, nvswitches: structure.nvswitches,
    nvlinks: spec.links.flatMap((l) => (l.kind === "nvlink" ? [{ a: l.a, b: l.b, count: l.count, gen: l.gen }] : [])),
    socketLinks: spec.links.flatMap((l) => (l.kind === "socket" ? [{ a: l.a, b: l.b, name: l.name, gbps: l.gbps }] : [])),
    machineCpu, byId: structure.byId, byAddress,
  };
}

/** A socket link joins two NUMA nodes; an NVLink joins two different endpoints or nvswitches. */
function checkLinks(spec: TopologySpec, structure: Structure, source?: string): void {
  spec.links.forEach((link, k) => {
    if (link.kind === "socket") {
      if (link.a === link.b) throw new InputError(`links[${k}].b`, link.b, "a socket link joins two different NUMA nodes", source);
      return;
    }
    for (const end of ["a", "b"] as const) {
      const node = structure.byId.get(link[end]);
      if (!node) throw new InputError(`links[${k}].${end}`, link[end], "no node has this id", source);
      if (node.kind !== "endpoint" && node.kind !== "nvswitch") {
        throw new InputError(`links[${k}].${end}`, link[end], `an NVLink joins endpoints or nvswitches, not a ${node.kind}`, source);
      }
    }
    if (link.a === link.b) throw new InputError(`links[${k}].b`, link.b, "an NVLink joins two different nodes", source);
  });
}

/** A node by topology id, or a PCI function by its address ("dddd:bb:dd.f" or "bb:dd.f"). */
export function findNode(fabric: Fabric, idOrAddress: string): FabricNode | undefined {
  const byId = fabric.byId.get(idOrAddress);
  if (byId) return byId;
  const p = parsePciAddress(idOrAddress);
  return p ? fabric.byAddress.get(formatPciAddress(p.domain, p.bus, p.devfn)) : undefined;
}

/** The PCI function `idOrAddress` names; InputError (naming `field`) otherwise. */
export function getFunction(fabric: Fabric, idOrAddress: string, field = "device"): PciFunction {
  const n = findNode(fabric, idOrAddress);
  if (!n) throw new InputError(field, idOrAddress, `no device with this id or PCI address in topology "${fabric.name}"`);
  if (n.kind === "hostBridge" || n.kind === "nvswitch") throw new InputError(field, idOrAddress, `is a ${n.kind}, not a PCI function`);
  return n;
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
