// Models: naming a node of a topology: by its id, by its PCI address "dddd:bb:dd.f", or by the
// short form "bb:dd.f" that lspci prints without -D (DESIGN §4: wherever a full address works).
// lspci prints the short form only on machines with one PCI domain (0000), so a short address that
// matches a function in several domains is ambiguous and refused, naming them. An unknown name is
// refused with the close candidates: ids and addresses within two edits of it.
// Leaves out: names by vendor/device id or by class, patterns.
import { InputError } from "../units/input-error.js";
import { nearNames } from "../units/near-names.js";
import { formatPciAddress, parsePciAddress } from "./pci-address.js";
import type { FabricNode, PciFunction } from "./types.js";

/** What a name is looked up in: nodes by id, functions by full PCI address, and the host
 *  bridges (their domains are the machine's PCI domains). */
export interface NodeIndex {
  byId: Map<string, FabricNode>;
  byAddress: Map<string, PciFunction>;
  hostBridges: readonly { domain: number }[];
}

/** Where a failed lookup is reported: the field that held the name, and the input's source. */
export interface LookupField {
  field: string;
  source?: string;
}

/** The node `name` names, or undefined; InputError when it is a short address found in several domains. */
export function lookupNode(index: NodeIndex, name: string, where: LookupField): FabricNode | undefined {
  const byId = index.byId.get(name);
  if (byId) return byId;
  const parts = parsePciAddress(name);
  if (!parts) return undefined;
  if (parts.domainGiven) return index.byAddress.get(formatPciAddress(parts.domain, parts.bus, parts.devfn));
  const found = [...new Set(index.hostBridges.map((h) => h.domain))]
    .map((domain) => index.byAddress.get(formatPciAddress(domain, parts.bus, parts.devfn)))
    .filter((f): f is PciFunction => f !== undefined);
  if (found.length > 1) {
    const list = found.map((f) => f.address).sort().join(", ");
    throw new InputError(where.field, name,
      `ambiguous short PCI address: it names a function in each of several domains (${list}); write the domain, dddd:bb:dd.f`, where.source);
  }
  return found[0];
}

/** `reason` for a name no node has, with the close candidates when there are some. */
export function unknownNameReason(index: NodeIndex, name: string, reason: string): string {
  const near = closeNames(index, name);
  return near.length ? `${reason} (close: ${near.map((n) => JSON.stringify(n)).join(", ")})` : reason;
}

/** Ids and PCI addresses within two edits of `name`; a short address is compared with the
 *  addresses' short forms (and reported in full). */
function closeNames(index: NodeIndex, name: string): string[] {
  const short = parsePciAddress(name)?.domainGiven === false;
  const fullOf = new Map<string, string>();
  for (const address of index.byAddress.keys()) fullOf.set(short ? address.slice(5) : address, address);
  const near = nearNames(name, [...index.byId.keys(), ...fullOf.keys()]);
  return [...new Set(near.map((n) => (index.byId.has(n) ? n : fullOf.get(n) ?? n)))];
}
