// Models: ACS as two kernel consumers read it (p2pdma.md §2.0, §2.5): the P2PDMA redirect test
// (pci_bridge_has_acs_redir: any of RR/CR/EC in ACS Control) and IOMMU grouping
// (drivers/pci/pci.c pci_acs_enabled / pci_acs_path_enabled with REQ_ACS_FLAGS = SV|RR|CR|UF, and
// drivers/iommu/iommu.c pci_device_group). Leaves out: ACS quirks (pci_dev_specific_acs_*), DMA
// aliases (pci_for_each_dma_alias), conventional PCI devices (all functions are PCIe here).
import { getFunction, parentBridge } from "./build.js";
import { PCI_SLOT } from "./pci-address.js";
import { ACS_BITS, type Fabric, type PciFunction } from "./types.js";

const REDIR = ACS_BITS.RR | ACS_BITS.CR | ACS_BITS.EC;
export const REQ_ACS_FLAGS = ACS_BITS.SV | ACS_BITS.RR | ACS_BITS.CR | ACS_BITS.UF;

/** pci_bridge_has_acs_redir(): an ACS capability whose Control has RR, CR or EC. */
export function hasAcsRedirect(f: PciFunction): boolean {
  return f.acs !== null && (f.acs.control & REDIR) !== 0;
}

/** pci_acs_flags_enabled(): features the capability lacks count as hard-wired on, except EC. */
function acsFlagsEnabled(f: PciFunction, flags: number): boolean {
  if (!f.acs) return false;
  const wanted = flags & (f.acs.capability | ACS_BITS.EC);
  return (f.acs.control & wanted) === wanted;
}

/** pci_acs_enabled(): PCIe-to-PCI bridges never; downstream/root ports by their registers;
 *  endpoints and upstream ports only when multi-function, else trivially isolated. */
export function acsEnabled(f: PciFunction, flags = REQ_ACS_FLAGS): boolean {
  switch (f.kind) {
    case "bridge":
      return false;
    case "rootPort":
    case "switchDownstream":
      return acsFlagsEnabled(f, flags);
    default:
      return f.multifunction ? acsFlagsEnabled(f, flags) : true;
  }
}

/** pci_acs_path_enabled(start, NULL, flags): start and every bridge above it to the root bus. */
export function acsPathEnabled(fabric: Fabric, start: PciFunction, flags = REQ_ACS_FLAGS): boolean {
  for (let p: PciFunction | null = start; p; p = parentBridge(fabric, p)) {
    if (!acsEnabled(p, flags)) return false;
  }
  return true;
}

/**
 * IOMMU groups as pci_device_group() forms them: walk up from the function's bus while the bridge
 * above is not ACS-isolated up to the root (the function joins that bridge's group), then join
 * non-isolated functions of the same slot (get_pci_function_alias_group). Host bridges whose
 * IOMMU is "off" form no groups. Returns groups of function ids, in input order.
 */
export function iommuGroups(fabric: Fabric): string[][] {
  const grouped = fabric.functions.filter((f) => fabric.hostBridges.find((h) => h.id === f.hostBridge)!.iommu !== "off");
  const parent = new Map<string, string>(grouped.map((f) => [f.id, f.id]));
  const find = (id: string): string => {
    let r = id;
    while (parent.get(r) !== r) r = parent.get(r)!;
    parent.set(id, r);
    return r;
  };
  const union = (a: string, b: string) => {
    const ra = find(a), rb = find(b);
    if (ra !== rb) parent.set(rb, ra);
  };
  for (const f of grouped) {
    // The first bridge up decides: if it is not isolated up to the root, its group (formed by
    // the same walk from it, as bridges are probed first) takes the function.
    const up = parentBridge(fabric, f);
    const joined = up !== null && !acsPathEnabled(fabric, up);
    if (joined) union(up.id, f.id);
    if (joined || !f.multifunction || acsEnabled(f)) continue;
    for (const g of grouped) {
      if (g !== f && g.domain === f.domain && g.bus === f.bus && PCI_SLOT(g.devfn) === PCI_SLOT(f.devfn) && !acsEnabled(g)) union(f.id, g.id);
    }
  }
  const groups = new Map<string, string[]>();
  for (const f of grouped) {
    const r = find(f.id);
    groups.set(r, [...(groups.get(r) ?? []), f.id]);
  }
  return [...groups.values()];
}

/** The IOMMU group (ids) holding `device`, or undefined when its host bridge has no IOMMU. */
export function iommuGroupOf(fabric: Fabric, device: string): string[] | undefined {
  const f = getFunction(fabric, device);
  return iommuGroups(fabric).find((g) => g.includes(f.id));
}
