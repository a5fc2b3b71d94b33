// Models: the PCI hierarchy of a topology: unique ids, parents that exist and are bridges, no
// cycles, SR-IOV PF links, PCI addresses (given or assigned), and bus numbers assigned depth-first
// as pci_scan_child_bus / pci_scan_bridge do when firmware left them unset. A parent or PF may be
// named by id or by given PCI address, short form included (lookup.ts); it is stored by id.
// Leaves out: addresses and windows (assign.ts), ACS/role/NUMA defaults (defaults.ts).
import { InputError } from "../units/input-error.js";
import { lookupNode, unknownNameReason } from "./lookup.js";
import { formatPciAddress, parsePciAddress, PCI_SLOT } from "./pci-address.js";
import type { NodeSpec, TopologySpec } from "./schema.js";
import type { FabricNode, HostBridge, NvSwitch, PciFunction } from "./types.js";

export interface Structure {
  hostBridges: HostBridge[];
  functions: PciFunction[];
  nvswitches: NvSwitch[];
  byId: Map<string, FabricNode>;
  /** The parsed node spec of each id. */
  specOf: Map<string, NodeSpec>;
}

const BRIDGE_KINDS = new Set(["rootPort", "switchUpstream", "switchDownstream", "bridge"]);

export function isBridgeKind(kind: string): boolean {
  return BRIDGE_KINDS.has(kind);
}

type FunctionSpec = Exclude<NodeSpec, { kind: "hostBridge" } | { kind: "nvswitch" }>;

/** State the structure phases share: the nodes built so far and the bus numbers taken (also the
 *  NodeIndex a parent or PF name is looked up in: given addresses only at that point). */
interface StructureBuild extends Structure {
  source?: string;
  /** Field path that gave each given PCI address (`nodes[3].bdf` or `nodes[3].id`), by id. */
  addressField: Map<string, string>;
  byAddress: Map<string, PciFunction>;
  /** Host bridge or bridge that owns each bus ("domain:bus"). */
  busOwner: Map<string, string>;
  usedBuses: Set<string>;
  childrenOf: Map<string, PciFunction[]>;
}

function fail(build: StructureBuild, field: string, value: unknown, reason: string): never {
  throw new InputError(field, value, reason, build.source);
}

const busKey = (domain: number, bus: number) => `${domain}:${bus}`;
const functionSpec = (build: StructureBuild, func: PciFunction) => build.specOf.get(func.id) as FunctionSpec;

export function buildStructure(spec: TopologySpec, source?: string): Structure {
  const build: StructureBuild = {
    source, hostBridges: [], functions: [], nvswitches: [], byId: new Map(), specOf: new Map(),
    addressField: new Map(), byAddress: new Map(), busOwner: new Map(), usedBuses: new Set(), childrenOf: new Map(),
  };
  spec.nodes.forEach((nodeSpec, index) => addNode(build, nodeSpec, index));
  readGivenAddresses(build);
  resolveReferences(build);
  checkParents(build);
  findHostBridges(build);
  checkVirtualFunctions(build);
  claimGivenBuses(build);
  indexChildren(build);
  for (const host of build.hostBridges) numberBuses(build, host);
  markMultifunction(build.functions);
  const { hostBridges, functions, nvswitches, byId, specOf } = build;
  return { hostBridges, functions, nvswitches, byId, specOf };
}

function addNode(build: StructureBuild, nodeSpec: NodeSpec, index: number): void {
  const prev = build.byId.get(nodeSpec.id);
  if (prev) fail(build, `nodes[${index}].id`, nodeSpec.id, `duplicate id (also nodes[${prev.index}])`);
  let node: FabricNode;
  if (nodeSpec.kind === "hostBridge") {
    node = {
      kind: "hostBridge", id: nodeSpec.id, index, name: nodeSpec.name, domain: nodeSpec.domain, rootBus: nodeSpec.rootBus,
      subordinateBus: nodeSpec.rootBus, numaNode: 0, cpu: { vendor: "other" }, iommu: nodeSpec.iommu, windows: [], children: [],
    };
    build.hostBridges.push(node);
  } else if (nodeSpec.kind === "nvswitch") {
    node = { kind: "nvswitch", id: nodeSpec.id, index, name: nodeSpec.name, pci: nodeSpec.pci };
    build.nvswitches.push(node);
  } else {
    node = newFunction(nodeSpec, index);
    build.functions.push(node);
  }
  build.byId.set(nodeSpec.id, node);
  build.specOf.set(nodeSpec.id, nodeSpec);
}

function newFunction(nodeSpec: FunctionSpec, index: number): PciFunction {
  const func: PciFunction = {
    kind: nodeSpec.kind, id: nodeSpec.id, index, name: nodeSpec.name, address: "", addressGiven: false, domain: 0, bus: -1, devfn: -1,
    parent: nodeSpec.parent, hostBridge: "", children: [], depth: 0, vendor: nodeSpec.vendor?.toLowerCase(),
    device: nodeSpec.device?.toLowerCase(), classCode: nodeSpec.class?.toLowerCase(), numaNode: 0, link: nodeSpec.link, linkCurrent: nodeSpec.linkCurrent, acs: null,
    multifunction: false, bars: [], windows: {},
  };
  if (nodeSpec.kind === "endpoint") {
    func.memory = nodeSpec.memory;
    func.zoneDevice = nodeSpec.zoneDevice;
    if (nodeSpec.memoryBar !== undefined) func.memoryBar = nodeSpec.memoryBar;
    func.physfn = nodeSpec.physfn;
    if (nodeSpec.portGbps !== undefined) func.portGbps = nodeSpec.portGbps;
    if (nodeSpec.dmaEngines) func.dmaEngines = nodeSpec.dmaEngines;
  }
  return func;
}

/** Parents and PFs named by id or given PCI address exist; they are stored by id from here on. */
function resolveReferences(build: StructureBuild): void {
  const resolve = (name: string, field: string): string => {
    const node = lookupNode(build, name, { field, source: build.source });
    if (!node) fail(build, field, name, unknownNameReason(build, name, "no node has this id or PCI address"));
    return node.id;
  };
  for (const func of build.functions) {
    func.parent = resolve(func.parent, `nodes[${func.index}].parent`);
    if (func.physfn !== undefined) func.physfn = resolve(func.physfn, `nodes[${func.index}].physfn`);
  }
}

/** Parents are a host bridge or a bridge function. */
function checkParents(build: StructureBuild): void {
  for (const func of build.functions) {
    const parent = build.byId.get(func.parent)!;
    if (parent.kind === "endpoint" || parent.kind === "nvswitch") {
      const what = parent.kind === "endpoint" ? "an endpoint" : "an nvswitch";
      fail(build, `nodes[${func.index}].parent`, functionSpec(build, func).parent, `the parent is ${what}, not a host bridge or bridge`);
    }
  }
}

/** Every chain of parents reaches a host bridge (no cycles); that host bridge is the function's. */
function findHostBridges(build: StructureBuild): void {
  for (const func of build.functions) {
    const seen = new Set<string>([func.id]);
    let cur: FabricNode = func;
    while (cur.kind !== "hostBridge") {
      const parent: FabricNode = build.byId.get((cur as PciFunction).parent)!;
      if (seen.has(parent.id)) fail(build, `nodes[${func.index}].parent`, functionSpec(build, func).parent, `parent chain loops back to "${parent.id}" (a cycle)`);
      seen.add(parent.id);
      cur = parent;
    }
    func.hostBridge = cur.id;
  }
}

/** SR-IOV: a VF names an endpoint PF (not itself a VF) with the same parent. */
function checkVirtualFunctions(build: StructureBuild): void {
  for (const vf of build.functions) {
    if (vf.physfn === undefined) continue;
    const pf = build.byId.get(vf.physfn)!;
    const field = `nodes[${vf.index}].physfn`;
    const given = (functionSpec(build, vf) as Extract<NodeSpec, { kind: "endpoint" }>).physfn;
    if (pf.kind !== "endpoint" || pf.physfn !== undefined || pf.id === vf.id) {
      fail(build, field, given, "the physical function must be an endpoint that is not a VF");
    } else if (pf.parent !== vf.parent) fail(build, field, given, `the PF's parent "${pf.parent}" differs from the VF's parent "${vf.parent}"`);
  }
}

/** Given PCI addresses: `bdf`, or the id itself when it is a PCI address. */
function readGivenAddresses(build: StructureBuild): void {
  for (const func of build.functions) {
    const nodeSpec = functionSpec(build, func);
    const fromId = parsePciAddress(func.id);
    const fromBdf = nodeSpec.bdf !== undefined ? parsePciAddress(nodeSpec.bdf) : undefined;
    if (nodeSpec.bdf !== undefined && !fromBdf) fail(build, `nodes[${func.index}].bdf`, nodeSpec.bdf, "not a PCI address dddd:bb:dd.f");
    const parts = fromBdf ?? fromId;
    if (!parts) continue;
    if (fromBdf && fromId && formatPciAddress(fromId.domain, fromId.bus, fromId.devfn) !== formatPciAddress(fromBdf.domain, fromBdf.bus, fromBdf.devfn)) {
      fail(build, `nodes[${func.index}].bdf`, nodeSpec.bdf, `differs from the PCI address in the id "${func.id}"`);
    }
    func.domain = parts.domain;
    func.bus = parts.bus;
    func.devfn = parts.devfn;
    func.address = formatPciAddress(parts.domain, parts.bus, parts.devfn);
    func.addressGiven = true;
    const field = fromBdf ? `nodes[${func.index}].bdf` : `nodes[${func.index}].id`;
    build.addressField.set(func.id, field);
    const other = build.byAddress.get(func.address);
    if (other) fail(build, field, fromBdf ? nodeSpec.bdf : func.id, `duplicate PCI address ${func.address} (also nodes[${other.index}])`);
    build.byAddress.set(func.address, func);
  }
}

/** Root buses (one host bridge per domain and root bus), given secondary buses and given addresses' buses. */
function claimGivenBuses(build: StructureBuild): void {
  for (const host of build.hostBridges) {
    const key = busKey(host.domain, host.rootBus);
    const other = build.busOwner.get(key);
    if (other) fail(build, `nodes[${host.index}].rootBus`, host.rootBus, `root bus already belongs to host bridge "${other}"`);
    build.busOwner.set(key, host.id);
    build.usedBuses.add(key);
  }
  for (const func of build.functions) {
    const nodeSpec = functionSpec(build, func);
    if ("secondaryBus" in nodeSpec && nodeSpec.secondaryBus !== undefined) {
      const host = build.byId.get(func.hostBridge) as HostBridge;
      const key = busKey(host.domain, nodeSpec.secondaryBus);
      const other = build.busOwner.get(key);
      if (other) fail(build, `nodes[${func.index}].secondaryBus`, nodeSpec.secondaryBus, `bus already used by "${other}"`);
      build.busOwner.set(key, func.id);
      build.usedBuses.add(key);
    }
    if (func.addressGiven) build.usedBuses.add(busKey(func.domain, func.bus));
  }
}

function indexChildren(build: StructureBuild): void {
  for (const func of build.functions) {
    const list = build.childrenOf.get(func.parent) ?? [];
    list.push(func);
    build.childrenOf.set(func.parent, list);
  }
}

/** Depth-first bus numbering below one host bridge (children in devfn order), as the kernel enumerates. */
interface BusWalk {
  build: StructureBuild;
  host: HostBridge;
  /** Highest bus number handed out so far below the host bridge. */
  last: number;
}

function numberBuses(build: StructureBuild, host: HostBridge): void {
  const walk: BusWalk = { build, host, last: host.rootBus };
  scanBus(walk, host.id, host.rootBus, 0);
  host.subordinateBus = walk.last;
}

function nextFreeBus(walk: BusWalk, owner: PciFunction): number {
  const { build, host } = walk;
  let bus = walk.last + 1;
  while (build.usedBuses.has(busKey(host.domain, bus))) bus++;
  if (bus > 255) fail(build, `nodes[${owner.index}].secondaryBus`, bus, "no bus number left below 256 for this bridge");
  build.usedBuses.add(busKey(host.domain, bus));
  return bus;
}

/** pci_scan_child_bus: the functions on `bus` below `parentId`, then each bridge's bus in turn. */
function scanBus(walk: BusWalk, parentId: string, bus: number, depth: number): void {
  const kids = walk.build.childrenOf.get(parentId) ?? [];
  const usedSlots = checkGivenSlots(walk, kids, parentId, bus);
  assignSlots(walk, kids, usedSlots, bus);
  kids.sort((a, b) => a.bus - b.bus || a.devfn - b.devfn);
  for (const child of kids) {
    child.depth = depth;
    if (!isBridgeKind(child.kind)) continue;
    const secondary = secondaryBusOf(walk, child);
    child.secondaryBus = secondary;
    walk.last = Math.max(walk.last, secondary);
    scanBus(walk, child.id, secondary, depth + 1);
    child.subordinateBus = walk.last;
  }
  const ids = kids.map((k) => k.id);
  if (parentId === walk.host.id) walk.host.children = ids;
  else (walk.build.byId.get(parentId) as PciFunction).children = ids;
}

/** Given addresses on this bus must be in the host bridge's domain and on the bus itself (VFs may sit elsewhere). */
function checkGivenSlots(walk: BusWalk, kids: PciFunction[], parentId: string, bus: number): Set<number> {
  const { build, host } = walk;
  const usedSlots = new Set<number>();
  for (const child of kids) {
    if (!child.addressGiven) continue;
    const field = build.addressField.get(child.id)!;
    if (child.domain !== host.domain) fail(build, field, child.address, `domain differs from host bridge "${host.id}" (domain ${host.domain.toString(16).padStart(4, "0")})`);
    if (child.physfn === undefined && child.bus !== bus) {
      fail(build, field, child.address, `bus ${child.bus.toString(16).padStart(2, "0")} is not the bus ${bus.toString(16).padStart(2, "0")} below "${parentId}"`);
    }
    if (child.bus === bus) usedSlots.add(PCI_SLOT(child.devfn));
  }
  return usedSlots;
}

/** Functions without a given address take the lowest free device number, function 0. */
function assignSlots(walk: BusWalk, kids: PciFunction[], usedSlots: Set<number>, bus: number): void {
  const { build, host } = walk;
  for (const child of kids) {
    if (child.addressGiven) continue;
    let slot = 0;
    while (usedSlots.has(slot)) slot++;
    if (slot > 31) fail(build, `nodes[${child.index}].bdf`, undefined, `no free device number left on bus ${bus}`);
    usedSlots.add(slot);
    child.domain = host.domain;
    child.bus = bus;
    child.devfn = slot << 3;
    child.address = formatPciAddress(child.domain, child.bus, child.devfn);
    build.byAddress.set(child.address, child);
  }
}

/** A bridge's secondary bus: given, else the bus of a child with a given address, else the next free one. */
function secondaryBusOf(walk: BusWalk, bridge: PciFunction): number {
  const { build, host } = walk;
  const nodeSpec = functionSpec(build, bridge);
  const given = "secondaryBus" in nodeSpec ? nodeSpec.secondaryBus : undefined;
  if (given !== undefined) return given;
  const placed = (build.childrenOf.get(bridge.id) ?? []).find((c) => c.addressGiven && c.physfn === undefined);
  if (!placed) return nextFreeBus(walk, bridge);
  const key = busKey(host.domain, placed.bus);
  const other = build.busOwner.get(key);
  if (other && other !== bridge.id) fail(build, build.addressField.get(placed.id)!, placed.address, `bus already used by "${other}"`);
  build.busOwner.set(key, bridge.id);
  return placed.bus;
}

/** Multi-function devices (VFs are never counted: their header reports single function). */
function markMultifunction(functions: PciFunction[]): void {
  const perSlot = new Map<string, number>();
  const slotKey = (func: PciFunction) => `${func.domain}:${func.bus}:${PCI_SLOT(func.devfn)}`;
  for (const func of functions) if (func.physfn === undefined) perSlot.set(slotKey(func), (perSlot.get(slotKey(func)) ?? 0) + 1);
  for (const func of functions) func.multifunction = func.physfn === undefined && (perSlot.get(slotKey(func)) ?? 0) > 1;
}
