// Models: which kind of PCIe bridge a function is, from the port type the device reports when a
// dump has it (PCIe capability: Root Port / Upstream Port / Downstream Port), else from the
// tree's shape; shared by the lspci and hwloc importers.
// Leaves out: PCI-X and CardBus bridges (they become the generic "bridge" kind).

export type BridgeKind = "rootPort" | "switchUpstream" | "switchDownstream" | "bridge";

export interface ShapeNode {
  /** The function has a secondary bus (a bus range) or children: it is a bridge. */
  isBridge: boolean;
  children: ShapeNode[];
  /** Port type the dump states, when it states one. */
  stated?: BridgeKind;
}

/** Where a bridge sits: on a root bus, or below a bridge of `parentKind`. */
export interface BridgePlace {
  onRootBus: boolean;
  parentKind?: BridgeKind;
}

/**
 * The kind of a bridge: the port type the dump states, else by these rules:
 *  - on the root bus, a bridge is a root port;
 *  - below a switch upstream port, a bridge is a downstream port;
 *  - any other bridge whose children are all bridges (at least one) is a switch upstream port
 *    (a switch shows as USP → several DSPs; a lone PCIe-to-PCI bridge has endpoints below);
 *  - anything else (a bridge with endpoints below, or an empty one) is a generic bridge.
 */
export function inferBridgeKind(node: ShapeNode, place: BridgePlace): BridgeKind {
  if (node.stated) return node.stated;
  if (place.onRootBus) return "rootPort";
  if (place.parentKind === "switchUpstream") return "switchDownstream";
  if (node.children.length > 0 && node.children.every((c) => c.isBridge)) return "switchUpstream";
  return "bridge";
}
