// Models: the pci.ids facts an importer needs when a dump gives names instead of numbers: class
// names → class codes, vendor names → vendor ids, and the host-bridge device names that the
// P2PDMA whitelist keys on (reference/p2pdma.md §3.5, drivers/pci/p2pdma.c pci_p2pdma_whitelist[]).
// Leaves out: the rest of pci.ids (a name not listed here leaves the id unknown unless the system's
// pci.ids is given, pci-ids.ts).
import { KNOWN_PARTS } from "./device-memory.js";
import { KNOWN_PLATFORMS } from "./platforms.js";

/** `lspci` class names (pci.ids "C" section, as lspci prints them) → 4-hex-digit class code. */
export const CLASS_CODES: Readonly<Record<string, string>> = {
  "non-vga unclassified device": "0000",
  "vga compatible unclassified device": "0001",
  "scsi storage controller": "0100",
  "ide interface": "0101",
  "raid bus controller": "0104",
  "sata controller": "0106",
  "serial attached scsi controller": "0107",
  "non-volatile memory controller": "0108",
  "mass storage controller": "0180",
  "ethernet controller": "0200",
  "network controller": "0280",
  "infiniband controller": "0207",
  "fabric controller": "0208",
  "vga compatible controller": "0300",
  "xga compatible controller": "0301",
  "3d controller": "0302",
  "display controller": "0380",
  "multimedia controller": "0480",
  "audio device": "0403",
  "host bridge": "0600",
  "isa bridge": "0601",
  "pci bridge": "0604",
  "bridge": "0680",
  "system peripheral": "0880",
  "iommu": "0806",
  "usb controller": "0c03",
  "smbus": "0c05",
  "serial bus controller": "0c80",
  "encryption controller": "1080",
  "signal processing controller": "1180",
  "processing accelerators": "1200",
  "non-essential instrumentation": "1300",
  "coprocessor": "0b40",
  "unassigned class": "ff00",
};

/** Vendor names as lspci prints them (pci.ids) → vendor id. Longest prefix wins. */
export const VENDOR_IDS: ReadonlyArray<readonly [string, string]> = [
  ["Advanced Micro Devices, Inc. [AMD/ATI]", "1002"],
  ["Advanced Micro Devices, Inc. [AMD]", "1022"],
  ["Intel Corporation", "8086"],
  ["NVIDIA Corporation", "10de"],
  ["Mellanox Technologies", "15b3"],
  ["PLX Technology, Inc.", "10b5"],
  ["Broadcom / LSI", "1000"],
  ["Broadcom Inc. and subsidiaries", "14e4"],
  ["Samsung Electronics Co Ltd", "144d"],
  ["Kingston Technology Company, Inc.", "2646"],
  ["ASMedia Technology Inc.", "1b21"],
  ["ASPEED Technology, Inc.", "1a03"],
  ["HighPoint Technologies, Inc.", "1103"],
  ["Micron Technology Inc", "1344"],
  ["SK hynix", "1c5c"],
  ["Sandisk Corp", "15b7"],
  ["Xilinx Corporation", "10ee"],
  ["Google, Inc.", "1ae0"],
  ["Marvell Technology Group Ltd.", "1b4b"],
  ["Huawei Technologies Co., Ltd.", "19e5"],
  ["Chelsio Communications Inc", "1425"],
  ["Solarflare Communications", "1924"],
  ["Habana Labs Ltd.", "1da3"],
  ["Chengdu Haiguang IC Design Co., Ltd.", "1d94"],
  ["Shanghai Zhaoxin Semiconductor Co., Ltd.", "1d17"],
  ["Ampere Computing, LLC", "1def"],
  ["Matrox Electronics Systems Ltd.", "102b"],
  ["Red Hat, Inc.", "1b36"],
];

/**
 * Intel host-bridge / root-port device names (pci.ids, as lspci prints them without -nn) whose ids
 * the P2PDMA whitelist lists (reference/p2pdma.md §3.5). Matched case-insensitively on the device
 * part of the name, after the vendor.
 */
export const INTEL_WHITELIST_NAMES: ReadonlyArray<readonly [RegExp, string]> = [
  [/^Xeon E5\/Core i7 DMI2$/i, "3c00"],
  [/^Xeon E5\/Core i7 DMI2 in PCI Express Mode$/i, "3c01"],
  [/^Xeon E7 v3\/Xeon E5 v3\/Core i7 DMI2$/i, "2f00"],
  [/^Xeon E7 v3\/Xeon E5 v3\/Core i7 PCI Express Root Port 0$/i, "2f01"],
  [/^Sky Lake-E DMI3 Registers$/i, "2020"],
  [/^Sky Lake-E PCI Express Root Port A$/i, "2030"],
  [/^Sky Lake-E PCI Express Root Port B$/i, "2031"],
  [/^Sky Lake-E PCI Express Root Port C$/i, "2032"],
  [/^Sky Lake-E PCI Express Root Port D$/i, "2033"],
  [/^Ice Lake Memory Map\/VT-d$/i, "09a2"],
];

/** The class code for an lspci class name, or undefined when the name is not listed. */
export function classCodeOf(className: string): string | undefined {
  return CLASS_CODES[className.trim().toLowerCase()];
}

/** Splits "Vendor Name Device Name" into vendor id and device part; undefined id when unknown. */
export function splitVendor(name: string): { vendor?: string; device: string } {
  let best: readonly [string, string] | undefined;
  for (const entry of VENDOR_IDS) {
    if (name.startsWith(entry[0]) && (!best || entry[0].length > best[0].length)) best = entry;
  }
  if (!best) return { device: name };
  return { vendor: best[1], device: name.slice(best[0].length).trim() };
}

/**
 * Device id from a device name without -nn: lspci prints "Device 14a4" for ids pci.ids does not
 * name; the whitelisted Intel host-bridge names, the root complexes of platforms.ts and the parts of
 * device-memory.ts are mapped by their pci.ids names.
 */
export function deviceIdFromName(vendor: string | undefined, deviceName: string): string | undefined {
  const m = /^Device ([0-9a-fA-F]{4})$/.exec(deviceName);
  if (m) return m[1].toLowerCase();
  if (vendor === "8086") {
    for (const [re, id] of INTEL_WHITELIST_NAMES) if (re.test(deviceName)) return id;
  }
  if (!vendor) return undefined;
  const named = (list: readonly { vendor: string; device: string; name: string }[]) => list.find((e) => e.vendor === vendor && e.name === deviceName)?.device;
  return named(KNOWN_PARTS) ?? named(KNOWN_PLATFORMS);
}

/** PCIe link speed in GT/s → generation (PCIe base spec: 2.5, 5, 8, 16, 32, 64 GT/s). */
export function genOfSpeed(gts: number): number | undefined {
  const gens: Record<string, number> = { "2.5": 1, "5": 2, "8": 3, "16": 4, "32": 5, "64": 6 };
  return gens[String(gts)];
}

export const LINK_WIDTHS = [1, 2, 4, 8, 12, 16, 32] as const;
export type LinkWidth = (typeof LINK_WIDTHS)[number];

export function isLinkWidth(n: number): n is LinkWidth {
  return (LINK_WIDTHS as readonly number[]).includes(n);
}

/**
 * Class code guessed from a device name when the dump has no class (an `lspci -tv` tree without
 * -vvv blocks): only unambiguous words are used; anything else stays unknown.
 */
export function guessClassFromName(vendor: string | undefined, deviceName: string): string | undefined {
  if (/NVMe|Non-Volatile memory/i.test(deviceName)) return "0108";
  if (/Infiniband/i.test(deviceName)) return "0207";
  if (/Ethernet|ConnectX|BlueField/i.test(deviceName)) return "0200";
  if (/High Definition Audio|HD Audio/i.test(deviceName)) return "0403";
  if (/SATA/i.test(deviceName)) return "0106";
  if (/USB|xHCI/i.test(deviceName)) return "0c03";
  if (/SMBus/i.test(deviceName)) return "0c05";
  if (/LPC Bridge|ISA Bridge/i.test(deviceName)) return "0601";
  if (vendor === "10de" && /\b(?:Tesla|Quadro|GeForce|RTX|TITAN|[A-Z]{2}\d{3}[A-Z]*)\b/.test(deviceName)) return "0302";
  return undefined;
}
