// Models: PCI addresses "dddd:bb:dd.f" (domain, bus, devfn = device << 3 | function), as
// pci_name() prints them. Leaves out: ARI (function numbers above 7).

export interface PciAddressParts {
  domain: number;
  bus: number;
  devfn: number;
  /** False for the short form "bb:dd.f" lspci prints without -D. */
  domainGiven: boolean;
}

const RE = /^(?:([0-9a-f]{4}):)?([0-9a-f]{2}):([0-1][0-9a-f])\.([0-7])$/i;

/** Parses "dddd:bb:dd.f" or "bb:dd.f" (domain 0); undefined when it is not one. */
export function parsePciAddress(text: string): PciAddressParts | undefined {
  const m = RE.exec(text);
  if (!m) return undefined;
  const dev = parseInt(m[3], 16);
  if (dev > 31) return undefined;
  return { domain: m[1] ? parseInt(m[1], 16) : 0, bus: parseInt(m[2], 16), devfn: (dev << 3) | parseInt(m[4], 10), domainGiven: m[1] !== undefined };
}

export function formatPciAddress(domain: number, bus: number, devfn: number): string {
  const hexPad = (value: number, width: number) => value.toString(16).padStart(width, "0");
  return `${hexPad(domain, 4)}:${hexPad(bus, 2)}:${hexPad(devfn >> 3, 2)}.${devfn & 7}`;
}

export const PCI_SLOT = (devfn: number) => devfn >> 3;
