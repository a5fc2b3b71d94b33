// Models: what a topology may leave unsaid, filled in as documented here (DESIGN §4):
// - role of an endpoint from its class code (and vendor): 0300/0302 gpu (other for BMC and virtual
//   display vendors: ASPEED, Matrox, QXL, stdvga, VMware), 0380 gpu from NVIDIA/AMD/Intel, 0200/0207
//   nic, 0108 nvme, other 01xx storage, 0680 with vendor 10de nvswitch, 0600 hostFunction, 1200/0b40
//   accelerator, anything else (or no class) other;
// - NUMA node of a host bridge: from the first function below it (depth-first) that reports one,
//   else 0; a function without one takes its host bridge's;
// - CPU of a host bridge: from the vendor of the first device on its root bus: 8086 → intel,
//   1022 → amd (family 0x17 when not given), 1d94 → hygon, else other; the machine CPU that
//   cpu_supports_p2pdma() reads (boot CPU, cpu_data(0)) is the first host bridge that states its
//   CPU, else the first host bridge's default;
// - ACS: a function without `acs` has no ACS capability; `acs.capability` defaults to
//   `acs.control`; when the host bridge's IOMMU is "dma" or "passthrough" and the input gave no
//   `acs.control`, pci_std_enable_acs (drivers/pci/pci.c, p2pdma.md §2.5) sets SV|RR|CR|UF,
//   each only where the capability advertises it (TB is left clear: ATS is not modelled).
// Leaves out: NUMA distances (only the node number); a host bridge's CPU model and name are kept as given.
import type { NodeSpec } from "./schema.js";
import type { Structure } from "./structure.js";
import { ACS_BITS, acsMask, type CpuVendorName, type DeviceRole, type HostBridge, type HostCpuState, type PciFunction } from "./types.js";

/** Vendors whose display functions are BMC or virtual-machine graphics, not GPUs (ASPEED, Matrox,
 *  Red Hat QXL, QEMU stdvga, VMware SVGA). */
const DISPLAY_ONLY_VENDORS: ReadonlySet<string> = new Set(["1a03", "102b", "1b36", "1234", "15ad"]);
/** GPU vendors whose compute parts report a display-controller class (0380: Intel Max, some AMD Instinct). */
const GPU_VENDORS: ReadonlySet<string> = new Set(["10de", "1002", "8086"]);

export function roleFromClass(classCode: string | undefined, vendor: string | undefined): DeviceRole {
  switch (classCode) {
    case "0300":
    case "0302":
      return vendor !== undefined && DISPLAY_ONLY_VENDORS.has(vendor) ? "other" : "gpu";
    case "0380":
      return vendor !== undefined && GPU_VENDORS.has(vendor) ? "gpu" : "other";
    case "0200":
    case "0207":
      return "nic";
    case "0108":
      return "nvme";
    case "0600":
      return "hostFunction";
    case "1200":
    case "0b40":
      return "accelerator";
    case "0680":
      return vendor === "10de" ? "nvswitch" : "other";
  }
  return classCode?.startsWith("01") ? "storage" : "other";
}

export function cpuFromVendor(vendor: string | undefined): { vendor: CpuVendorName; family?: number } {
  if (vendor === "8086") return { vendor: "intel" };
  if (vendor === "1022") return { vendor: "amd", family: 0x17 };
  if (vendor === "1d94") return { vendor: "hygon" };
  return { vendor: "other" };
}

/** Did the raw input give `nodes[i].acs.control`? (zod fills in [] when it is absent.) */
function controlGiven(raw: unknown, index: number): boolean {
  const nodes = (raw as { nodes?: unknown[] } | null)?.nodes;
  const acs = (nodes?.[index] as { acs?: { control?: unknown } } | undefined)?.acs;
  return acs?.control !== undefined;
}

export function applyDefaults(structure: Structure, raw: unknown): HostCpuState {
  const functionOf = (id: string) => structure.byId.get(id) as PciFunction;
  let machineCpu: HostCpuState | undefined;
  for (const host of structure.hostBridges) {
    const hostSpec = structure.specOf.get(host.id) as Extract<NodeSpec, { kind: "hostBridge" }>;
    const first = host.children.map(functionOf).find((func) => func.vendor !== undefined);
    const byVendor = cpuFromVendor(first?.vendor);
    host.cpu = hostSpec.cpu ? { ...hostSpec.cpu, family: hostSpec.cpu.family ?? (hostSpec.cpu.vendor === "amd" ? 0x17 : undefined) } : byVendor;
    if (hostSpec.cpu && !machineCpu) machineCpu = host.cpu;
    host.numaNode = hostSpec.numaNode ?? firstNuma(structure, host) ?? 0;
  }
  machineCpu ??= structure.hostBridges[0]?.cpu ?? { vendor: "other" };

  for (const func of structure.functions) {
    const funcSpec = structure.specOf.get(func.id) as Extract<NodeSpec, { parent: string }>;
    const host = structure.byId.get(func.hostBridge) as HostBridge;
    func.numaNode = funcSpec.numaNode ?? host.numaNode;
    if (func.kind === "endpoint") func.role = (funcSpec as Extract<NodeSpec, { kind: "endpoint" }>).role ?? roleFromClass(func.classCode, func.vendor);
    if (!funcSpec.acs) continue;
    const control = acsMask(funcSpec.acs.control);
    const capability = funcSpec.acs.capability ? acsMask(funcSpec.acs.capability) : control;
    const enable = host.iommu !== "off" && !controlGiven(raw, func.index);
    const requested = ACS_BITS.SV | ACS_BITS.RR | ACS_BITS.CR | ACS_BITS.UF;
    func.acs = { capability, control: enable ? control | (requested & capability) : control };
  }
  return machineCpu;
}

function firstNuma(structure: Structure, host: HostBridge): number | undefined {
  const stack = [...host.children].reverse();
  while (stack.length) {
    const func = structure.byId.get(stack.pop()!) as PciFunction;
    const numaNode = (structure.specOf.get(func.id) as Extract<NodeSpec, { parent: string }>).numaNode;
    if (numaNode !== undefined) return numaNode;
    stack.push(...[...func.children].reverse());
  }
  return undefined;
}
