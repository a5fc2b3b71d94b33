// Models: which CPU platform a machine is, from the PCI ids of the functions on its root buses (the
// root complex at 00.0, and on AMD the data fabric at 18.0, which tells Rome from Milan): CPU
// vendor, x86 family (and model where one id means one model) and, where the id names exactly one,
// the cost model's platform profile (data/calibration/platforms/<name>.json). Names and ids: pci.ids (pciutils/pciids, commit 006181e2c5d5, vendor 1022 and 8086
// sections); x86 family numbers: reference/p2pdma.md §3.1 (0x17 Zen/Zen2, 0x19 Zen3/Zen4, 0x1a
// Zen5); Intel model numbers: arch/x86/include/asm/intel-family.h (INTEL_SANDYBRIDGE_X 0x2d,
// INTEL_HASWELL_X 0x3f, INTEL_SKYLAKE_X 0x55, shared by Cascade Lake-SP).
// Leaves out: client platforms (Ryzen, Core), non-x86 root complexes, and a model number where one
// root-complex id spans several models (Broadwell Xeon E5/E3/D; Ice Lake-SP and every later Xeon
// share 8086:09a2; Genoa and Bergamo share 1022:14a4).

export interface KnownPlatform {
  vendor: string;
  device: string;
  /** The device's name in pci.ids (lspci prints it without -nn). */
  name: string;
  cpu: { vendor: "intel" | "amd"; family: number; model?: number };
  /** The cost model's platform profile (data/calibration/platforms/<name>.json) the id identifies, when exactly one does. */
  platform?: string;
}

/** Data fabric functions first (more specific than the root complex: Milan keeps Rome's root complex id). */
export const KNOWN_PLATFORMS: readonly KnownPlatform[] = [
  { vendor: "1022", device: "1460", name: "Family 17h (Models 00h-0fh) Data Fabric: Device 18h; Function 0", cpu: { vendor: "amd", family: 0x17 }, platform: "naples" },
  { vendor: "1022", device: "1490", name: "Starship Device 24; Function 0", cpu: { vendor: "amd", family: 0x17 }, platform: "rome" },
  { vendor: "1022", device: "1650", name: "Milan Data Fabric; Function 0", cpu: { vendor: "amd", family: 0x19 }, platform: "milan" },
  { vendor: "1022", device: "14ad", name: "Genoa/Bergamo Data Fabric; Function 0", cpu: { vendor: "amd", family: 0x19 }, platform: "genoa" },
  { vendor: "1022", device: "12c0", name: "Turin Data Fabric; Function 0", cpu: { vendor: "amd", family: 0x1a }, platform: "turin" },
  { vendor: "1022", device: "1450", name: "Family 17h (Models 00h-0fh) Root Complex", cpu: { vendor: "amd", family: 0x17 }, platform: "naples" },
  { vendor: "1022", device: "1480", name: "Starship/Matisse Root Complex", cpu: { vendor: "amd", family: 0x17 }, platform: "rome" },
  { vendor: "1022", device: "14a4", name: "Genoa/Bergamo Root Complex", cpu: { vendor: "amd", family: 0x19 }, platform: "genoa" },
  { vendor: "1022", device: "153a", name: "Turin Root Complex", cpu: { vendor: "amd", family: 0x1a }, platform: "turin" },
  { vendor: "8086", device: "3c00", name: "Xeon E5/Core i7 DMI2", cpu: { vendor: "intel", family: 6, model: 0x2d } },
  { vendor: "8086", device: "2f00", name: "Xeon E7 v3/Xeon E5 v3/Core i7 DMI2", cpu: { vendor: "intel", family: 6, model: 0x3f }, platform: "haswell-ep" },
  { vendor: "8086", device: "6f00", name: "Xeon E7 v4/Xeon E5 v4/Xeon E3 v4/Xeon D DMI2", cpu: { vendor: "intel", family: 6 }, platform: "broadwell-ep" },
  { vendor: "8086", device: "2020", name: "Sky Lake-E DMI3 Registers", cpu: { vendor: "intel", family: 6, model: 0x55 }, platform: "skylake-sp" },
  // Skylake-SP root buses without a 00.0 function start with a root port (p2pdma.md §3.2).
  ...["A", "B", "C", "D"].map((port, k): KnownPlatform => ({
    vendor: "8086", device: `203${k}`, name: `Sky Lake-E PCI Express Root Port ${port}`, cpu: { vendor: "intel", family: 6, model: 0x55 }, platform: "skylake-sp",
  })),
  { vendor: "8086", device: "09a2", name: "Ice Lake Memory Map/VT-d", cpu: { vendor: "intel", family: 6 } },
];

/** A function on a root bus as an importer knows it: ids when it has them, else the device name. */
export interface RootBusFunction {
  vendor?: string;
  device?: string;
  /** The device part of the name, after the vendor ("Genoa/Bergamo Root Complex", "Device 14a4"). */
  deviceName?: string;
}

/** The platform the root bus's functions identify, the table's order deciding; undefined when none. */
export function platformOf(functions: readonly RootBusFunction[]): KnownPlatform | undefined {
  for (const entry of KNOWN_PLATFORMS) {
    const hit = functions.some((f) => f.vendor === entry.vendor && (f.device === entry.device || (f.device === undefined && f.deviceName === entry.name)));
    if (hit) return entry;
  }
  return undefined;
}
