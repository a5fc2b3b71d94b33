// Models: the kit's topology file (the JSON a user writes, or an importer produces) as zod
// schemas: host bridges, PCI functions with BARs, bridge windows, ACS, links, and non-PCIe links.
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
  /** Bits the function advertises in its ACS Capability register. Default: same as control. */
  capability: z.array(AcsFlag).optional(),
  /** Bits set in its ACS Control register (what p2pdma.c and IOMMU grouping read). */
  control: z.array(AcsFlag).default([]),
});

export const LinkStatus = z.strictObject({
  /** PCIe generation 1..6 (2.5, 5, 8, 16, 32, 64 GT/s). */
  gen: z.number().int().min(1).max(6),
  /** Lanes: 1, 2, 4, 8, 16, 32. */
  width: z.union([z.literal(1), z.literal(2), z.literal(4), z.literal(8), z.literal(12), z.literal(16), z.literal(32)]),
});

export const Bar = z.strictObject({
  index: z.number().int().min(0).max(5),
  /** Size in bytes: a power of two, at least 16 (PCI spec); the BAR is naturally aligned. */
  size: Quantity,
  /** CPU physical address of the BAR; omitted means "assign it" (as pci_assign_unassigned_resources). */
  addr: Quantity.optional(),
  is64: z.boolean().default(true),
  prefetchable: z.boolean().default(true),
  /** Sizes a Resizable BAR capability allows (bytes, powers of two). */
  resizable: z.array(Quantity).optional(),
});

export const Window = z.strictObject({
  /** CPU physical base; omitted means "assign it". */
  base: Quantity.optional(),
  size: Quantity,
});

/** A host bridge aperture: CPU range and the bus address it starts at (bus offset = bus - cpu). */
export const HostWindow = z.strictObject({
  cpu: Quantity,
  /** Bus address of the window start; default equal to `cpu` (x86: no translation). */
  bus: Quantity.optional(),
  size: Quantity,
  prefetchable: z.boolean().default(false),
});

export const CpuVendor = z.enum(["intel", "amd", "hygon", "arm", "other"]);

export const HostBridgeNode = z.strictObject({
  kind: z.literal("hostBridge"),
  id: z.string().min(1),
  domain: z.number().int().min(0).max(0xffff).default(0),
  /** Root bus number behind this host bridge. */
  rootBus: z.number().int().min(0).max(255),
  /** NUMA node; default: from any device below that reports one, else 0. */
  numaNode: z.number().int().min(0).optional(),
  /** CPU behind the bridge; `family` is the x86 family (0x17+ for AMD Zen). Default: from the host bridge's vendor. */
  cpu: z.strictObject({
    vendor: CpuVendor,
    family: z.number().int().min(0).optional(),
    model: z.number().int().min(0).optional().describe("x86 model number (/proc/cpuinfo `model`, e.g. 143 = 0x8f Sapphire Rapids); the cost model picks the platform from vendor, family and model"),
    name: z.string().optional().describe("CPU model name as /proc/cpuinfo or lscpu print it (e.g. \"Intel(R) Xeon(R) Platinum 8480+\")"),
  }).optional(),
  /** IOMMU translating DMA from devices below: off, translated DMA domains, or identity (iommu=pt). */
  iommu: z.enum(["off", "dma", "passthrough"]).default("off"),
  /** Memory apertures; default: one 32-bit and one 64-bit prefetchable window, identity mapped. */
  windows: z.array(HostWindow).optional(),
  name: z.string().optional(),
});

const functionFields = {
  /** Name used by scenarios and links: a PCI address dddd:bb:dd.f, or a name such as "gpu0". */
  id: z.string().min(1),
  /** PCI address when `id` is a name; when `id` is itself a PCI address this is taken from it. */
  bdf: PciAddress.optional(),
  /** Id of the parent: a host bridge (root bus device) or a bridge function. */
  parent: z.string().min(1),
  vendor: HexId.optional(),
  device: HexId.optional(),
  /** Class code, 4 hex digits (base class + subclass, e.g. "0302" 3D controller). */
  class: HexId.optional(),
  name: z.string().optional(),
  numaNode: z.number().int().min(0).optional(),
  /** The link above this function (for ports: the link on their downstream side is the child's). */
  link: LinkStatus.optional().describe("the link's capability (LnkCap: the speed and width it works at); for ports, the link on their downstream side"),
  linkCurrent: LinkStatus.optional().describe("the link's status when the machine was dumped (LnkSta); GPUs and NICs idle at 2.5 GT/s, so this is used only when the topology's linkSpeed is \"current\""),
  acs: Acs.optional(),
  bars: z.array(Bar).default([]),
};

const bridgeFields = {
  ...functionFields,
  /** Secondary bus number; default: assigned depth-first as the kernel enumerates. */
  secondaryBus: z.number().int().min(0).max(255).optional(),
  /** Non-prefetchable memory window (32-bit) and prefetchable window (64-bit). */
  windows: z.strictObject({ mem: Window.optional(), prefetch: Window.optional() }).optional(),
};

export const RootPortNode = z.strictObject({ kind: z.literal("rootPort"), ...bridgeFields });
export const SwitchUpstreamNode = z.strictObject({ kind: z.literal("switchUpstream"), ...bridgeFields });
export const SwitchDownstreamNode = z.strictObject({ kind: z.literal("switchDownstream"), ...bridgeFields });
/** A PCI-to-PCI bridge that is not a switch port (PCIe-to-PCI bridges, vendor bridges). */
export const BridgeNode = z.strictObject({ kind: z.literal("bridge"), ...bridgeFields });

export const DeviceRole = z.enum(["gpu", "nic", "nvme", "accelerator", "storage", "nvswitch", "hostFunction", "other"]);

export const EndpointNode = z.strictObject({
  kind: z.literal("endpoint"),
  ...functionFields,
  /** What the device is; default from class and vendor. */
  role: DeviceRole.optional(),
  /** Device-local memory (GPU VRAM, CMB), which BARs may expose in full or through an aperture. */
  memory: Quantity.optional(),
  /** How its driver hands device memory to the kernel (memremap.h MEMORY_DEVICE_PRIVATE or
   *  MEMORY_DEVICE_COHERENT ZONE_DEVICE pages); default: none (the memory is only behind its BARs). */
  zoneDevice: z.enum(["private", "coherent"]).optional(),
  /** Index of the BAR that exposes `memory` to peers (the P2PDMA aperture of issue 5); default: the
   *  largest prefetchable BAR. Smaller than `memory` means an aperture (256 MiB classic BAR). */
  memoryBar: z.number().int().min(0).max(5).optional(),
  /** For an SR-IOV virtual function: the id of its physical function. */
  physfn: z.string().min(1).optional(),
  portGbps: z.number().positive().optional().describe("network port line rate of a NIC, Gb/s (its DMA engines move no faster); default: from the device id where the kit knows it"),
  dmaEngines: z.strictObject({
    count: z.number().int().min(1).describe("engines the device moves data with (copy engines of a GPU, DMA channels)"),
    gbps: z.number().positive().describe("payload rate of one engine, GB/s"),
  }).optional().describe("the device's DMA/copy engines: a transfer it initiates uses one engine, all its transfers share count x gbps; default: no limit of their own"),
});

/** A non-PCIe NVLink switch (an NVSwitch as a fabric element, not its PCI management function). */
export const NvSwitchNode = z.strictObject({
  kind: z.literal("nvswitch"),
  id: z.string().min(1),
  name: z.string().optional(),
  /** The PCI function through which the switch is managed, if the input lists it. */
  pci: PciAddress.optional(),
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
  kind: z.literal("nvlink"),
  a: z.string().min(1),
  b: z.string().min(1),
  /** Bonded links between a and b. */
  count: z.number().int().min(1).default(1),
  /** NVLink generation 1..5. */
  gen: z.number().int().min(1).max(5).optional(),
});

/** The CPU-to-CPU link between NUMA nodes (QPI/UPI, Infinity Fabric/xGMI). */
export const SocketLink = z.strictObject({
  kind: z.literal("socket"),
  a: z.number().int().min(0),
  b: z.number().int().min(0),
  name: z.string().optional(),
  /** Per-direction bandwidth, GB/s. */
  gbps: z.number().positive().optional(),
});

export const Link = z.discriminatedUnion("kind", [NvLink, SocketLink]);

export const Topology = z.strictObject({
  $schema: z.string().optional(),
  name: z.string().min(1),
  description: z.string().optional(),
  /** Where the machine's facts come from (a dump, a paper, a vendor page). */
  source: z.string().optional(),
  nodes: z.array(Node).min(1),
  links: z.array(Link).default([]),
  platform: z.string().min(1).optional().describe("named platform for the cost model (e.g. \"sapphire-rapids\", \"genoa\", \"dgx-h100\"); default: from the host bridges' CPU vendor, family, model and PCIe generation"),
  linkSpeed: z.enum(["capability", "current"]).optional().describe("which link speed the cost model uses: \"capability\" (default, each link's `link`) or \"current\" (`linkCurrent` where given)"),
});

export type TopologyInput = z.input<typeof Topology>;
export type TopologySpec = z.output<typeof Topology>;
export type NodeSpec = z.output<typeof Node>;
export type BarSpec = z.output<typeof Bar>;
export type AcsFlagName = z.output<typeof AcsFlag>;
export type LinkSpec = z.output<typeof Link>;
