// Models: the kit's topology file (the JSON a user writes, or an importer produces) as zod
// schemas: host bridges, PCI functions with BARs, bridge windows, ACS, links, and non-PCIe links.
// Every field carries a description (`.describe()`), which the emitted JSON Schema
// (data/schema/topology.schema.json) shows to editors.
// Leaves out: the cross-field rules (overlap, windows, parents), which fabric/validate.ts checks
// after the shape is known, and everything derived (routing, map types), which is computed.
import { z } from "zod";
import { parseQuantity } from "../units/size.js";

/** A size or address: number, "0x..." or "256MiB"; must be a safe integer (< 2^53). */
export const Quantity = z
  .union([z.number(), z.string()])
  .transform((v, ctx) => {
    const n = parseQuantity(v);
    if (n === undefined) {
      ctx.addIssue({
        code: "custom",
        message: `not a size or address below 2^53 (a number, "0x..." or "256MiB"): ${JSON.stringify(v)}`,
      });
      return z.NEVER;
    }
    return n;
  });

/** PCI address "dddd:bb:dd.f" (domain optional: "bb:dd.f" means domain 0000). */
export const PciAddress = z
  .string()
  .regex(/^([0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}:[0-1][0-9a-fA-F]\.[0-7]$/, "a PCI address dddd:bb:dd.f");

const HexId = z.string().regex(/^[0-9a-fA-F]{4}$/, "4 hex digits");

/** ACS control/capability bits by name (include/uapi/linux/pci_regs.h PCI_ACS_*). */
export const AcsFlag = z.enum(["SV", "TB", "RR", "CR", "UF", "EC", "DT"]);

export const Acs = z.strictObject({
  capability: z.array(AcsFlag).optional()
    .describe("Bits the function advertises in its ACS Capability register (SV, TB, RR, CR, UF, EC, DT). Default: the same as `control`."),
  control: z.array(AcsFlag).default([])
    .describe("Bits set in its ACS Control register, which drivers/pci/p2pdma.c (RR, CR, EC redirect peer traffic) and IOMMU grouping read."),
});

/** A PCIe link configuration: generation and lane count. */
export const LinkStatus = z.strictObject({
  gen: z.number().int().min(1).max(6).describe("PCIe generation 1..6 (2.5, 5, 8, 16, 32, 64 GT/s per lane)."),
  width: z.union([z.literal(1), z.literal(2), z.literal(4), z.literal(8), z.literal(12), z.literal(16), z.literal(32)])
    .describe("Lanes: 1, 2, 4, 8, 12, 16 or 32."),
});

export const Bar = z.strictObject({
  index: z.number().int().min(0).max(5).describe("BAR number 0..5 (a 64-bit BAR takes the register after it too)."),
  size: Quantity.describe("Size in bytes (a number, \"0x...\" or \"256MiB\"): a power of two, at least 16 (PCI spec); the BAR is naturally aligned."),
  addr: Quantity.optional()
    .describe("CPU physical address of the BAR; omitted means \"assign it\", as pci_assign_unassigned_resources does."),
  is64: z.boolean().default(true).describe("A 64-bit memory BAR (may sit above 4 GiB); false: a 32-bit BAR. Default true."),
  prefetchable: z.boolean().default(true).describe("Prefetchable memory (lives in a bridge's prefetchable window). Default true."),
  resizable: z.array(Quantity).optional()
    .describe("Sizes the function's Resizable BAR capability allows for this BAR (bytes, powers of two)."),
});

export const Window = z.strictObject({
  base: Quantity.optional().describe("CPU physical base of the window; omitted means \"assign it\"."),
  size: Quantity.describe("Window size in bytes (1 MiB granularity, as bridges decode it)."),
});

/** A host bridge aperture: CPU range and the bus address it starts at (bus offset = bus - cpu). */
export const HostWindow = z.strictObject({
  cpu: Quantity.describe("CPU physical start of the aperture."),
  bus: Quantity.optional().describe("PCI bus address of the aperture start; default equal to `cpu` (x86: no translation)."),
  size: Quantity.describe("Aperture size in bytes."),
  prefetchable: z.boolean().default(false).describe("The aperture takes prefetchable BARs and windows. Default false."),
});

export const CpuVendor = z.enum(["intel", "amd", "hygon", "arm", "other"]);

/** The CPU behind a host bridge: what cpu_supports_p2pdma() and the cost model read. */
export const HostCpu = z.strictObject({
  vendor: CpuVendor.describe("CPU vendor: intel, amd, hygon, arm or other (the x86 vendor cpu_data(0) holds)."),
  family: z.number().int().min(0).optional()
    .describe("x86 family number (0x17 Zen/Zen2, 0x19 Zen3/Zen4, 0x1a Zen5; 6 for Intel Core/Xeon). Default for amd: 0x17."),
  model: z.number().int().min(0).optional()
    .describe("x86 model number (Intel: 0x55 Skylake-SP, 0x6a Ice Lake-SP, 0x8f Sapphire Rapids; AMD: 0x11 Genoa)."),
  name: z.string().optional().describe("CPU model name as the system reports it (hwloc CPUModel, /proc/cpuinfo model name)."),
});

export const HostBridgeNode = z.strictObject({
  kind: z.literal("hostBridge").describe("A PCI host bridge: a root bus of the root complex."),
  id: z.string().min(1).describe("Name of the host bridge, used as `parent` by the functions on its root bus."),
  domain: z.number().int().min(0).max(0xffff).default(0).describe("PCI domain (segment) number. Default 0."),
  rootBus: z.number().int().min(0).max(255).describe("Root bus number behind this host bridge."),
  numaNode: z.number().int().min(0).optional()
    .describe("NUMA node of the host bridge; default: from any device below that reports one, else 0."),
  cpu: HostCpu.optional()
    .describe("CPU behind the bridge (vendor, x86 family and model, name). Default: from the vendor of the first device on the root bus (8086 intel, 1022 amd family 0x17, 1d94 hygon)."),
  iommu: z.enum(["off", "dma", "passthrough"]).default("off")
    .describe("IOMMU translating DMA from devices below: off, translated DMA domains (dma), or identity (passthrough, iommu=pt). Default off."),
  windows: z.array(HostWindow).optional()
    .describe("Memory apertures; default: one 32-bit and one 64-bit prefetchable window, identity mapped."),
  name: z.string().optional().describe("Human-readable name (the root complex device name)."),
});

const functionFields = {
  id: z.string().min(1).describe("Name used by scenarios and links: a PCI address dddd:bb:dd.f, or a name such as \"gpu0\"."),
  bdf: PciAddress.optional().describe("PCI address dddd:bb:dd.f when `id` is a name; when `id` is itself a PCI address this is taken from it."),
  parent: z.string().min(1)
    .describe("The parent: a host bridge (for functions on the root bus) or a bridge function, by id or PCI address (\"bb:dd.f\" too)."),
  vendor: HexId.optional().describe("PCI vendor id, 4 hex digits (10de NVIDIA, 15b3 Mellanox, 8086 Intel, 1022 AMD)."),
  device: HexId.optional().describe("PCI device id, 4 hex digits."),
  class: HexId.optional().describe("Class code, 4 hex digits: base class + subclass (0302 3D controller, 0200 Ethernet, 0108 NVMe)."),
  name: z.string().optional().describe("Human-readable device name (as lspci or pci.ids prints it)."),
  numaNode: z.number().int().min(0).optional().describe("NUMA node of the function; default: its host bridge's."),
  link: LinkStatus.optional()
    .describe("The link above this function at its capability, the speed it works at (the lower of both ends' LnkCap); for a port, also the link below it when its child states none."),
  linkCurrent: LinkStatus.optional()
    .describe("The link's state when the machine was read (LnkSta): an idle GPU or NIC trains down to 2.5 GT/s, so this is not its working speed unless the topology's `linkSpeed` is \"current\"."),
  acs: Acs.optional().describe("ACS extended capability; absent: the function has none."),
  bars: z.array(Bar).default([]).describe("Memory BARs (I/O BARs and expansion ROMs are not modelled)."),
};

const bridgeFields = {
  ...functionFields,
  secondaryBus: z.number().int().min(0).max(255).optional()
    .describe("Secondary bus number; default: assigned depth-first as the kernel enumerates."),
  windows: z.strictObject({
    mem: Window.optional().describe("Non-prefetchable memory window (32-bit)."),
    prefetch: Window.optional().describe("Prefetchable memory window (64-bit)."),
  }).optional().describe("Bridge forwarding windows; default: assigned to cover what is below."),
};

export const RootPortNode = z.strictObject({ kind: z.literal("rootPort").describe("A PCIe root port."), ...bridgeFields });
export const SwitchUpstreamNode = z.strictObject({ kind: z.literal("switchUpstream").describe("A PCIe switch upstream port."), ...bridgeFields });
export const SwitchDownstreamNode = z.strictObject({ kind: z.literal("switchDownstream").describe("A PCIe switch downstream port."), ...bridgeFields });
/** A PCI-to-PCI bridge that is not a switch port (PCIe-to-PCI bridges, vendor bridges). */
export const BridgeNode = z.strictObject({
  kind: z.literal("bridge").describe("A PCI-to-PCI bridge that is not a switch port (PCIe-to-PCI bridges, vendor bridges)."),
  ...bridgeFields,
});

export const DeviceRole = z.enum(["gpu", "nic", "nvme", "accelerator", "storage", "nvswitch", "hostFunction", "other"]);

export const EndpointNode = z.strictObject({
  kind: z.literal("endpoint").describe("A PCI endpoint function (a device)."),
  ...functionFields,
  role: DeviceRole.optional()
    .describe("What the device is: gpu, nic, nvme, accelerator, storage, nvswitch, hostFunction or other. Default from class and vendor."),
  memory: Quantity.optional()
    .describe("Device-local memory in bytes (GPU VRAM, CMB), which BARs may expose in full or through an aperture."),
  zoneDevice: z.enum(["private", "coherent"]).optional()
    .describe("How its driver hands device memory to the kernel: memremap.h MEMORY_DEVICE_PRIVATE or MEMORY_DEVICE_COHERENT ZONE_DEVICE pages; absent: none (the memory is only behind its BARs)."),
  memoryBar: z.number().int().min(0).max(5).optional()
    .describe("Index of the BAR that exposes `memory` to peers (its P2PDMA aperture); default: the largest prefetchable BAR. Smaller than `memory` means an aperture (a 256 MiB classic BAR)."),
  physfn: z.string().min(1).optional()
    .describe("For an SR-IOV virtual function: its physical function, by id or PCI address."),
  portGbps: z.number().positive().optional().describe("Network port line rate of a NIC, Gb/s (its DMA engines move no faster); default: from the device id where the kit knows it."),
  dmaEngines: z.strictObject({
    count: z.number().int().min(1).describe("Engines the device moves data with (copy engines of a GPU, DMA channels)."),
    gbps: z.number().positive().describe("Payload rate of one engine, GB/s."),
  }).optional().describe("The device's DMA/copy engines: a transfer it initiates uses one engine, all its transfers share count x gbps; default: no limit of their own."),
});

/** A non-PCIe NVLink switch (an NVSwitch as a fabric element, not its PCI management function). */
export const NvSwitchNode = z.strictObject({
  kind: z.literal("nvswitch").describe("An NVLink switch as a fabric element (not its PCI management function)."),
  id: z.string().min(1).describe("Name of the switch, used by NVLink links."),
  name: z.string().optional().describe("Human-readable name."),
  pci: PciAddress.optional().describe("The PCI function through which the switch is managed, if the input lists it."),
});

export const Node = z.discriminatedUnion("kind", [
  HostBridgeNode,
  RootPortNode,
  SwitchUpstreamNode,
  SwitchDownstreamNode,
  BridgeNode,
  EndpointNode,
  NvSwitchNode,
]);

export const NvLink = z.strictObject({
  kind: z.literal("nvlink").describe("Bonded NVLinks between two devices or NVSwitches."),
  a: z.string().min(1).describe("One end: an endpoint or nvswitch, by id or PCI address."),
  b: z.string().min(1).describe("The other end: an endpoint or nvswitch, by id or PCI address."),
  count: z.number().int().min(1).default(1).describe("Bonded links between a and b. Default 1."),
  gen: z.number().int().min(1).max(5).optional().describe("NVLink generation 1..5 (the cost model needs it)."),
});

/** The CPU-to-CPU link between NUMA nodes (QPI/UPI, Infinity Fabric/xGMI). */
export const SocketLink = z.strictObject({
  kind: z.literal("socket").describe("The CPU-to-CPU link between two NUMA nodes (QPI/UPI, Infinity Fabric/xGMI)."),
  a: z.number().int().min(0).describe("One NUMA node."),
  b: z.number().int().min(0).describe("The other NUMA node."),
  name: z.string().optional().describe("Name of the interconnect (\"UPI\", \"xGMI\")."),
  gbps: z.number().positive().optional().describe("Per-direction bandwidth, GB/s."),
});

export const Link = z.discriminatedUnion("kind", [NvLink, SocketLink]);

export const Topology = z.strictObject({
  $schema: z.string().optional().describe("Path or URL of this JSON Schema (for editors)."),
  name: z.string().min(1).describe("Name of the machine."),
  description: z.string().optional().describe("What the machine is, and what an importer assumed."),
  source: z.string().optional().describe("Where the machine's facts come from (a dump, a paper, a vendor page)."),
  platform: z.string().optional()
    .describe("Named platform the cost model may pick parameters by (e.g. \"genoa\", \"skylake-sp\"); importers set it from the root complex's PCI ids."),
  linkSpeed: z.enum(["capability", "current"]).optional()
    .describe("Which PCIe link speed models the machine: \"capability\" (default: `link`, the speed links train to under load) or \"current\" (`linkCurrent`, as read when the machine was dumped)."),
  nodes: z.array(Node).min(1).describe("Host bridges, PCI functions and NVSwitches."),
  links: z.array(Link).default([]).describe("Links outside PCIe: NVLinks and CPU socket links."),
});

export type TopologyInput = z.input<typeof Topology>;
export type TopologySpec = z.output<typeof Topology>;
export type NodeSpec = z.output<typeof Node>;
export type BarSpec = z.output<typeof Bar>;
export type AcsFlagName = z.output<typeof AcsFlag>;
export type LinkSpec = z.output<typeof Link>;
