// Models: the PCI hierarchy of a topology: unique ids, parents that exist and are bridges, no
// cycles, SR-IOV PF links, PCI addresses (given or assigned), and bus numbers assigned depth-first
// as pci_scan_child_bus / pci_scan_bridge do when firmware left them unset.
// Leaves out: addresses and windows (assign.ts), ACS/role/NUMA defaults (defaults.ts).
import { InputError } from "../units/input-error.js";
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

export function buildStructure(spec: TopologySpec, source?: string): Structure {
  const fail = (field: string, value: unknown, reason: string): never => {
    throw new InputError(field, value, reason, source);
  };
  const byId = new Map<string, FabricNode>();
  const specOf = new Map<string, NodeSpec>();
  const hostBridges: HostBridge[] = [];
  const functions: PciFunction[] = [];
  const nvswitches: NvSwitch[] = [];

  spec.nodes.forEach((n, index) => {
    const prev = byId.get(n.id);
    if (prev) fail(`nodes[${index}].id`, n.id, `duplicate id (also nodes[${prev.index}])`);
    let node: FabricNode;
    if (n.kind === "hostBridge") {
      node = {
        kind: "hostBridge", id: n.id, index, name: n.name, domain: n.domain, rootBus: n.rootBus,
        subordinateBus: n.rootBus, numaNode: 0, cpu: { vendor: "other" }, iommu: n.iommu, windows: [], children: [],
      };
      hostBridges.push(node);
    } else if (n.kind === "nvswitch") {
      node = { kind: "nvswitch", id: n.id, index, name: n.name, pci: n.pci };
      nvswitches.push(node);
    } else {
      node = {
        kind: n.kind, id: n.id, index, name: n.name, address: "", addressGiven: false, domain: 0, bus: -1, devfn: -1,
        parent: n.parent, hostBridge: "", children: [], depth: 0, vendor: n.vendor?.toLowerCase(),
        device: n.device?.toLowerCase(), classCode: n.class?.toLowerCase(), numaNode: 0, link: n.link, acs: null,
        multifunction: false, bars: [], windows: {},
      };
      if (n.kind === "endpoint") {
        node.memory = n.memory;
        node.zoneDevice = n.zoneDevice;
        if (n.memoryBar !== undefined) node.memoryBar = n.memoryBar;
        node.physfn = n.physfn;
      }
      functions.push(node);
    }
    byId.set(n.id, node);
    specOf.set(n.id, n);
  });

  // Parents: exist, and are a host bridge or a bridge function.
  for (const f of functions) {
    const p = byId.get(f.parent);
    if (!p) fail(`nodes[${f.index}].parent`, f.parent, "no node has this id");
    else if (p.kind === "endpoint" || p.kind === "nvswitch") {
      fail(`nodes[${f.index}].parent`, f.parent, `the parent is ${p.kind === "endpoint" ? "an endpoint" : "an nvswitch"}, not a host bridge or bridge`);
    }
  }
  // Cycles: every chain of parents must reach a host bridge.
  for (const f of functions) {
    const seen = new Set<string>([f.id]);
    let cur: FabricNode = f;
    while (cur.kind !== "hostBridge") {
      const p: FabricNode = byId.get((cur as PciFunction).parent)!;
      if (seen.has(p.id)) fail(`nodes[${f.index}].parent`, f.parent, `parent chain loops back to "${p.id}" (a cycle)`);
      seen.add(p.id);
      cur = p;
    }
    f.hostBridge = cur.id;
  }
  // SR-IOV: a VF names an endpoint PF (not itself a VF) with the same parent.
  for (const f of functions) {
    if (f.physfn === undefined) continue;
    const pf = byId.get(f.physfn);
    const field = `nodes[${f.index}].physfn`;
    if (!pf) fail(field, f.physfn, "no node has this id");
    else if (pf.kind !== "endpoint" || pf.physfn !== undefined || pf.id === f.id) fail(field, f.physfn, "the physical function must be an endpoint that is not a VF");
    else if (pf.parent !== f.parent) fail(field, f.physfn, `the PF's parent "${pf.parent}" differs from the VF's parent "${f.parent}"`);
  }

  // Given PCI addresses: `bdf`, or the id itself when it is a PCI address.
  const addrField = new Map<string, string>();
  const byAddress = new Map<string, PciFunction>();
  for (const f of functions) {
    const s = specOf.get(f.id) as FunctionSpec;
    const fromId = parsePciAddress(f.id);
    const fromBdf = s.bdf !== undefined ? parsePciAddress(s.bdf) : undefined;
    if (s.bdf !== undefined && !fromBdf) fail(`nodes[${f.index}].bdf`, s.bdf, "not a PCI address dddd:bb:dd.f");
    const parts = fromBdf ?? fromId;
    if (!parts) continue;
    if (fromBdf && fromId && formatPciAddress(fromId.domain, fromId.bus, fromId.devfn) !== formatPciAddress(fromBdf.domain, fromBdf.bus, fromBdf.devfn)) {
      fail(`nodes[${f.index}].bdf`, s.bdf, `differs from the PCI address in the id "${f.id}"`);
    }
    f.domain = parts.domain;
    f.bus = parts.bus;
    f.devfn = parts.devfn;
    f.address = formatPciAddress(parts.domain, parts.bus, parts.devfn);
    f.addressGiven = true;
    const field = fromBdf ? `nodes[${f.index}].bdf` : `nodes[${f.index}].id`;
    addrField.set(f.id, field);
    const other = byAddress.get(f.address);
    if (other) fail(field, fromBdf ? s.bdf : f.id, `duplicate PCI address ${f.address} (also nodes[${other.index}])`);
    byAddress.set(f.address, f);
  }

  // Host bridges: one per (domain, root bus).
  const busOwner = new Map<string, string>();
  const busKey = (domain: number, bus: number) => `${domain}:${bus}`;
  for (const h of hostBridges) {
    const k = busKey(h.domain, h.rootBus);
    const other = busOwner.get(k);
    if (other) fail(`nodes[${h.index}].rootBus`, h.rootBus, `root bus already belongs to host bridge "${other}"`);
    busOwner.set(k, h.id);
  }
  const usedBuses = new Set<string>(busOwner.keys());
  for (const f of functions) {
    const s = specOf.get(f.id) as FunctionSpec;
    if ("secondaryBus" in s && s.secondaryBus !== undefined) {
      const h = byId.get(f.hostBridge) as HostBridge;
      const k = busKey(h.domain, s.secondaryBus);
      const other = busOwner.get(k);
      if (other) fail(`nodes[${f.index}].secondaryBus`, s.secondaryBus, `bus already used by "${other}"`);
      busOwner.set(k, f.id);
      usedBuses.add(k);
    }
    if (f.addressGiven) usedBuses.add(busKey(f.domain, f.bus));
  }

  const childrenOf = new Map<string, PciFunction[]>();
  for (const f of functions) {
    const list = childrenOf.get(f.parent) ?? [];
    list.push(f);
    childrenOf.set(f.parent, list);
  }

  // Depth-first numbering (children in devfn order), as the kernel enumerates.
  for (const h of hostBridges) {
    let last = h.rootBus;
    const nextBus = (owner: PciFunction): number => {
      let b = last + 1;
      while (usedBuses.has(busKey(h.domain, b))) b++;
      if (b > 255) fail(`nodes[${owner.index}].secondaryBus`, b, "no bus number left below 256 for this bridge");
      usedBuses.add(busKey(h.domain, b));
      return b;
    };
    const scan = (parentId: string, bus: number, depth: number): void => {
      const kids = childrenOf.get(parentId) ?? [];
      const usedSlots = new Set<number>();
      for (const c of kids) {
        if (!c.addressGiven) continue;
        if (c.domain !== h.domain) fail(addrField.get(c.id)!, c.address, `domain differs from host bridge "${h.id}" (domain ${h.domain.toString(16).padStart(4, "0")})`);
        if (c.physfn === undefined && c.bus !== bus) {
          fail(addrField.get(c.id)!, c.address, `bus ${c.bus.toString(16).padStart(2, "0")} is not the bus ${bus.toString(16).padStart(2, "0")} below "${parentId}"`);
        }
        if (c.bus === bus) usedSlots.add(PCI_SLOT(c.devfn));
      }
      for (const c of kids) {
        if (c.addressGiven) continue;
        let slot = 0;
        while (usedSlots.has(slot)) slot++;
        if (slot > 31) fail(`nodes[${c.index}].bdf`, undefined, `no free device number left on bus ${bus}`);
        usedSlots.add(slot);
        c.domain = h.domain;
        c.bus = bus;
        c.devfn = slot << 3;
        c.address = formatPciAddress(c.domain, c.bus, c.devfn);
        byAddress.set(c.address, c);
      }
      kids.sort((a, b) => a.bus - b.bus || a.devfn - b.devfn);
      for (const c of kids) {
        c.depth = depth;
        if (!isBridgeKind(c.kind)) continue;
        const s = specOf.get(c.id) as FunctionSpec;
        let sec = "secondaryBus" in s ? s.secondaryBus : undefined;
        if (sec === undefined) {
          const given = (childrenOf.get(c.id) ?? []).find((g) => g.addressGiven && g.physfn === undefined);
          if (given) {
            sec = given.bus;
            const k = busKey(h.domain, sec);
            const other = busOwner.get(k);
            if (other && other !== c.id) fail(addrField.get(given.id)!, given.address, `bus already used by "${other}"`);
            busOwner.set(k, c.id);
          } else sec = nextBus(c);
        }
        c.secondaryBus = sec;
        last = Math.max(last, sec);
        scan(c.id, sec, depth + 1);
        c.subordinateBus = last;
      }
      if (parentId === h.id) h.children = kids.map((k) => k.id);
      else (byId.get(parentId) as PciFunction).children = kids.map((k) => k.id);
    };
    scan(h.id, h.rootBus, 0);
    h.subordinateBus = last;
  }

  // Multi-function devices (VFs are never counted: their header reports single function).
  const perSlot = new Map<string, number>();
  const slotKey = (f: PciFunction) => `${f.domain}:${f.bus}:${PCI_SLOT(f.devfn)}`;
  for (const f of functions) if (f.physfn === undefined) perSlot.set(slotKey(f), (perSlot.get(slotKey(f)) ?? 0) + 1);
  for (const f of functions) f.multifunction = f.physfn === undefined && (perSlot.get(slotKey(f)) ?? 0) > 1;

  return { hostBridges, functions, nvswitches, byId, specOf };
}
