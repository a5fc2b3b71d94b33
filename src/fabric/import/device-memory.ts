// Models: the device memory an importer gives a GPU or accelerator of a dump (an lspci dump says
// nothing of VRAM): what the dump itself says (hwloc's CUDA memory size or GPU model name), else
// its size from a table of known parts by PCI vendor:device, else the size of its largest prefetchable BAR (a
// resizable BAR at its full size shows all of VRAM; a 256 MiB classic BAR understates it), handed
// to the kernel as ZONE_DEVICE private pages (memremap.h MEMORY_DEVICE_PRIVATE, as the HMM GPU
// drivers do). Every assumption is reported as one note naming the device, the size and its source,
// and an overlay (fabric/overlay.ts) changes any of them.
// Sources of the table: ids and names from pci.ids (pciutils/pciids, commit 006181e2c5d5, where the
// name states the size, e.g. "GA100 [A100 SXM4 80GB]"); sizes the name does not state from the
// vendor's product datasheet named per entry; measured where a published dump shows it.
// Leaves out: device memory of NICs and NVMe drives (a CMB is not modelled), integrated GPUs (no
// VRAM of their own) and BMC display functions, and parts not in the table (their BAR decides).
import { formatSize, GiB } from "../../units/size.js";
import type { TopologyInput } from "../schema.js";
import { roleFromClass } from "../defaults.js";
import { note, type ImportOptions } from "./warnings.js";

type NodeInput = TopologyInput["nodes"][number];
type EndpointInput = Extract<NodeInput, { kind: "endpoint" }>;

export interface KnownPart {
  vendor: string;
  device: string;
  /** The part's name in pci.ids (as lspci prints it after the vendor). */
  name: string;
  /** Memory per PCI function, bytes. */
  memory: number;
  /** Where the size comes from. */
  source: string;
}

const PCI_IDS = "pci.ids name";
/** Known parts: NVIDIA data-center and workstation GPUs, AMD Instinct, Intel Data Center GPU Max. */
export const KNOWN_PARTS: readonly KnownPart[] = [
  { vendor: "10de", device: "1db8", name: "GV100GL [Tesla V100 SXM3 32GB]", memory: 32 * GiB, source: "NVIDIA DGX-2 hwloc export (GPUModel \"Tesla V100-SXM3-32GB-H\" on 10de:1db8)" },
  { vendor: "10de", device: "1eb8", name: "TU104GL [Tesla T4]", memory: 16 * GiB, source: "NVIDIA T4 datasheet: 16 GB GDDR6" },
  { vendor: "10de", device: "20b0", name: "GA100 [A100 SXM4 40GB]", memory: 40 * GiB, source: PCI_IDS },
  { vendor: "10de", device: "20b1", name: "GA100 [A100 PCIe 40GB]", memory: 40 * GiB, source: PCI_IDS },
  { vendor: "10de", device: "20b2", name: "GA100 [A100 SXM4 80GB]", memory: 80 * GiB, source: PCI_IDS },
  { vendor: "10de", device: "20b5", name: "GA100 [A100 PCIe 80GB]", memory: 80 * GiB, source: PCI_IDS },
  { vendor: "10de", device: "20f1", name: "GA100 [A100 PCIe 40GB]", memory: 40 * GiB, source: PCI_IDS },
  { vendor: "10de", device: "2230", name: "GA102GL [RTX A6000]", memory: 48 * GiB, source: "NVIDIA RTX A6000 datasheet: 48 GB GDDR6" },
  { vendor: "10de", device: "2235", name: "GA102GL [A40]", memory: 48 * GiB, source: "NVIDIA A40 datasheet: 48 GB GDDR6" },
  { vendor: "10de", device: "2236", name: "GA102GL [A10]", memory: 24 * GiB, source: "NVIDIA A10 datasheet: 24 GB GDDR6" },
  { vendor: "10de", device: "2321", name: "GH100 [H100L 94GB]", memory: 94 * GiB, source: PCI_IDS },
  { vendor: "10de", device: "2330", name: "GH100 [H100 SXM5 80GB]", memory: 80 * GiB, source: PCI_IDS },
  { vendor: "10de", device: "2331", name: "GH100 [H100 PCIe]", memory: 80 * GiB, source: "NVIDIA H100 PCIe product brief: 80 GB HBM2e" },
  { vendor: "10de", device: "2335", name: "GH100 [H200 SXM 141GB]", memory: 141 * GiB, source: PCI_IDS },
  { vendor: "10de", device: "2684", name: "AD102 [GeForce RTX 4090]", memory: 24 * GiB, source: "NVIDIA GeForce RTX 4090 specifications: 24 GB GDDR6X" },
  { vendor: "10de", device: "26b1", name: "AD102GL [RTX 6000 Ada Generation]", memory: 48 * GiB, source: "nvidia-smi 49140MiB on the ASUS ESC8000A-E12 (data/topologies/asus-esc8000a-e12.source.md); NVIDIA RTX 6000 Ada datasheet: 48 GB GDDR6" },
  { vendor: "10de", device: "26b5", name: "AD102GL [L40]", memory: 48 * GiB, source: "NVIDIA L40 datasheet: 48 GB GDDR6" },
  { vendor: "10de", device: "26b9", name: "AD102GL [L40S]", memory: 48 * GiB, source: "NVIDIA L40S datasheet: 48 GB GDDR6" },
  { vendor: "10de", device: "27b8", name: "AD104GL [L4]", memory: 24 * GiB, source: "NVIDIA L4 datasheet: 24 GB GDDR6" },
  { vendor: "1002", device: "740c", name: "Aldebaran [Instinct MI250X/MI250]", memory: 64 * GiB, source: "AMD Instinct MI250X/MI250 datasheet: 128 GB HBM2e over two GCDs, each its own PCI function" },
  { vendor: "1002", device: "740f", name: "Aldebaran/MI210", memory: 64 * GiB, source: "AMD Instinct MI210 datasheet: 64 GB HBM2e" },
  { vendor: "1002", device: "74a1", name: "Aqua Vanjaram [Instinct MI300X]", memory: 192 * GiB, source: "AMD Instinct MI300X datasheet: 192 GB HBM3" },
  { vendor: "8086", device: "0bd5", name: "Ponte Vecchio 1T", memory: 128 * GiB, source: "Intel Data Center GPU Max 1550 specifications: 128 GB HBM2e" },
];

/** Vendors of discrete GPUs, whose largest prefetchable BAR stands for their VRAM when the part is not known. */
const DISCRETE_GPU_VENDORS = new Set(["10de", "1002"]);

/** What was assumed for one device. */
export interface MemoryAssumption {
  id: string;
  memory: number;
  /** Where the size comes from ("known part 10de:26b1 ...", "hwloc CUDAGlobalMemorySize", "BAR1 size"). */
  from: string;
  zoneDevice: "private" | "coherent";
}

/** The known part with these ids, or (for a dump without ids) with this device name after the vendor. */
export function knownPart(vendor: string | undefined, device: string | undefined, deviceName?: string): KnownPart | undefined {
  if (!vendor) return undefined;
  return KNOWN_PARTS.find((p) => p.vendor === vendor && (device !== undefined ? p.device === device : p.name === deviceName));
}

/**
 * Gives each GPU or accelerator endpoint of `nodes` device memory and ZONE_DEVICE private pages,
 * unless the node states them; returns one assumption per device given something. `sizeFrom` is
 * what the dump said of an endpoint's memory (hwloc), by id.
 */
export function assumeDeviceMemory(nodes: NodeInput[], sizeFrom: ReadonlyMap<string, string> = new Map()): MemoryAssumption[] {
  const out: MemoryAssumption[] = [];
  for (const node of nodes) {
    if (node.kind !== "endpoint" || node.physfn !== undefined || node.zoneDevice !== undefined) continue;
    const role = node.role ?? roleFromClass(node.class?.toLowerCase(), node.vendor?.toLowerCase());
    if (role !== "gpu" && role !== "accelerator") continue;
    const found = memoryOf(node, role, sizeFrom.get(node.id));
    if (!found) continue;
    node.memory = found.memory;
    node.zoneDevice = "private";
    out.push({ id: node.id, memory: found.memory, from: found.from, zoneDevice: "private" });
  }
  return out;
}

function memoryOf(node: EndpointInput, role: string, said: string | undefined): { memory: number; from: string } | undefined {
  const vendor = node.vendor?.toLowerCase();
  if (typeof node.memory === "number") return { memory: node.memory, from: said ?? "the topology" };
  const part = knownPart(vendor, node.device?.toLowerCase());
  if (part) return { memory: part.memory, from: `known part ${part.vendor}:${part.device} ${part.name} (${part.source})` };
  if (role !== "accelerator" && !(vendor && DISCRETE_GPU_VENDORS.has(vendor))) return undefined;
  let largest: { index: number; size: number } | undefined;
  for (const bar of node.bars ?? []) {
    const size = typeof bar.size === "number" ? bar.size : undefined;
    if (size !== undefined && bar.prefetchable !== false && (!largest || size > largest.size)) largest = { index: bar.index, size };
  }
  return largest ? { memory: largest.size, from: `the size of its largest prefetchable BAR (BAR${largest.index}); not a known part` } : undefined;
}

/**
 * Assumes device memory for `nodes` (assumeDeviceMemory), reports each device through
 * `options.onNote`, and returns the sentence for the topology's description (undefined: none).
 */
export function reportDeviceMemory(nodes: NodeInput[], source: string, options: ImportOptions, sizeFrom?: ReadonlyMap<string, string>): string | undefined {
  const assumed = assumeDeviceMemory(nodes, sizeFrom);
  for (const a of assumed) {
    note(options, source, a.id, formatSize(a.memory),
      `device memory ${formatSize(a.memory)} from ${a.from}, handed to the kernel as ZONE_DEVICE ${a.zoneDevice} pages; an overlay ({ "devices": { "${a.id}": { "memory", "zoneDevice" } } }) changes it`);
  }
  if (assumed.length === 0) return undefined;
  const groups = new Map<string, string[]>();
  for (const a of assumed) {
    const key = `${formatSize(a.memory)} from ${a.from}`;
    groups.set(key, [...(groups.get(key) ?? []), a.id]);
  }
  const parts = [...groups].map(([what, ids]) => `${ids.join(", ")}: ${what}`);
  return `Device memory assumed (ZONE_DEVICE private; an overlay changes it): ${parts.join("; ")}.`;
}
