// Models: what a topology may leave unsaid, filled in as documented here (DESIGN §4):
// - role of an endpoint from its class code (and vendor): 0300/0302 gpu, 0200/0207 nic, 0108 nvme,
//   other 01xx storage, 0680 with vendor 10de nvswitch, 0600 hostFunction, 1200/0b40 accelerator,
//   anything else (or no class) other;
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
import type { NodeSpec } from "./schema.js";
import type { Structure } from "./structure.js";
import { ACS_BITS, acsMask, type CpuVendorName, type DeviceRole, type HostBridge, type PciFunction } from "./types.js";

export function roleFromClass(classCode: string | undefined, vendor: string | undefined): DeviceRole {
  switch (classCode) {
    case "0300":
    case "0302":
      return "gpu";
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

export function applyDefaults(s: Structure, raw: unknown): { vendor: CpuVendorName; family?: number } {
  const fn = (id: string) => s.byId.get(id) as PciFunction;
  let machineCpu: { vendor: CpuVendorName; family?: number } | undefined;
  for (const h of s.hostBridges) {
    const hs = s.specOf.get(h.id) as Extract<NodeSpec, { kind: "hostBridge" }>;
    const first = h.children.map(fn).find((f) => f.vendor !== undefined);
    const byVendor = cpuFromVendor(first?.vendor);
    h.cpu = hs.cpu ? { vendor: hs.cpu.vendor, family: hs.cpu.family ?? (hs.cpu.vendor === "amd" ? 0x17 : undefined) } : byVendor;
    if (hs.cpu && !machineCpu) machineCpu = h.cpu;
    h.numaNode = hs.numaNode ?? firstNuma(s, h) ?? 0;
  }
  machineCpu ??= s.hostBridges[0]?.cpu ?? { vendor: "other" };

  for (const f of s.functions) {
    const fsSpec = s.specOf.get(f.id) as Extract<NodeSpec, { parent: string }>;
    const h = s.byId.get(f.hostBridge) as HostBridge;
    f.numaNode = fsSpec.numaNode ?? h.numaNode;
    if (f.kind === "endpoint") f.role = (fsSpec as Extract<NodeSpec, { kind: "endpoint" }>).role ?? roleFromClass(f.classCode, f.vendor);
    if (!fsSpec.acs) continue;
    const control = acsMask(fsSpec.acs.control);
    const capability = fsSpec.acs.capability ? acsMask(fsSpec.acs.capability) : control;
    const enable = h.iommu !== "off" && !controlGiven(raw, f.index);
    const requested = ACS_BITS.SV | ACS_BITS.RR | ACS_BITS.CR | ACS_BITS.UF;
    f.acs = { capability, control: enable ? control | (requested & capability) : control };
  }
  return machineCpu;
}

function firstNuma(s: Structure, h: HostBridge): number | undefined {
  const stack = [...h.children].reverse();
  while (stack.length) {
    const f = s.byId.get(stack.pop()!) as PciFunction;
    const n = (s.specOf.get(f.id) as Extract<NodeSpec, { parent: string }>).numaNode;
    if (n !== undefined) return n;
    stack.push(...[...f.children].reverse());
  }
  return undefined;
}
