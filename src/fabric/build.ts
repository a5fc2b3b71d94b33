// Models: turning a topology (JSON object) into a Fabric: shape check, hierarchy and bus numbers,
// BAR and window rules, resource assignment, defaults, link checks; plus lookups by id or PCI
// address. Every bad input is an InputError naming the field path and value.
// Leaves out: reading files and other formats (load.ts, import/).
import { InputError } from "../units/input-error.js";
import { assignResources } from "./assign.js";
import { applyDefaults } from "./defaults.js";
import { parseTopology } from "./parse.js";
import { formatPciAddress, parsePciAddress } from "./pci-address.js";
import type { NodeSpec } from "./schema.js";
import { buildStructure, type Structure } from "./structure.js";
import type { Fabric, FabricNode, HostBridge, PciFunction } from "./types.js";
import { checkPlacement, checkSpecs } from "./validate.js";

export function buildFabric(input: unknown, source?: string): Fabric {
  const spec = parseTopology(input, source);
  const s = buildStructure(spec, source);
  checkSpecs(s, source);
  spec.links.forEach((l, k) => {
    if (l.kind === "socket") {
      if (l.a === l.b) throw new InputError(`links[${k}].b`, l.b, "a socket link joins two different NUMA nodes", source);
      return;
    }
    for (const end of ["a", "b"] as const) {
      const n = s.byId.get(l[end]);
      if (!n) throw new InputError(`links[${k}].${end}`, l[end], "no node has this id", source);
      if (n.kind !== "endpoint" && n.kind !== "nvswitch") {
        throw new InputError(`links[${k}].${end}`, l[end], `an NVLink joins endpoints or nvswitches, not a ${n.kind}`, source);
      }
    }
    if (l.a === l.b) throw new InputError(`links[${k}].b`, l.b, "an NVLink joins two different nodes", source);
  });
  assignResources(s, source);
  checkPlacement(s, source);
  const machineCpu = applyDefaults(s, input);
  copyCostFields(s);
  const byAddress = new Map<string, PciFunction>();
  for (const f of s.functions) byAddress.set(f.address, f);
  return {
    name: spec.name, description: spec.description, source: spec.source,
    hostBridges: s.hostBridges, functions: s.functions, nvswitches: s.nvswitches,
    nvlinks: spec.links.flatMap((l) => (l.kind === "nvlink" ? [{ a: l.a, b: l.b, count: l.count, gen: l.gen }] : [])),
    socketLinks: spec.links.flatMap((l) => (l.kind === "socket" ? [{ a: l.a, b: l.b, name: l.name, gbps: l.gbps }] : [])),
    machineCpu, byId: s.byId, byAddress, platform: spec.platform, linkSpeed: spec.linkSpeed ?? "capability",
  };
}

/** The inputs only the cost model reads: a host CPU's model and name, a link's dump-time status, a NIC's
 *  port rate, a device's DMA engines. */
function copyCostFields(s: Structure): void {
  for (const h of s.hostBridges) {
    const cpu = (s.specOf.get(h.id) as Extract<NodeSpec, { kind: "hostBridge" }>).cpu;
    if (cpu?.model !== undefined) h.cpu.model = cpu.model;
    if (cpu?.name !== undefined) h.cpu.name = cpu.name;
  }
  for (const f of s.functions) {
    const spec = s.specOf.get(f.id) as Extract<NodeSpec, { parent: string }>;
    if (spec.linkCurrent) f.linkCurrent = spec.linkCurrent;
    if (spec.kind === "endpoint" && spec.portGbps !== undefined) f.portGbps = spec.portGbps;
    if (spec.kind === "endpoint" && spec.dmaEngines) f.dmaEngines = spec.dmaEngines;
  }
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
