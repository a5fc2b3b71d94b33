// Models: the built machine (DESIGN §3: plain objects, few of them): host bridges with their
// apertures, PCI functions (ports, bridges, endpoints) with BARs at CPU and bus addresses, bridge
// windows, ACS registers, NVSwitches, NVLinks and socket links, plus lookups by id and PCI address.
// Leaves out: I/O port space, expansion ROMs, bus-number ranges beyond secondary/subordinate.
import type { AcsFlagName } from "./schema.js";

export type FunctionKind = "rootPort" | "switchUpstream" | "switchDownstream" | "bridge" | "endpoint";
export type DeviceRole = "gpu" | "nic" | "nvme" | "accelerator" | "storage" | "nvswitch" | "hostFunction" | "other";
export type CpuVendorName = "intel" | "amd" | "hygon" | "arm" | "other";
export type IommuMode = "off" | "dma" | "passthrough";
/** Which link speed models the machine: the capability (`link`) or the state read (`linkCurrent`). */
export type LinkSpeedMode = "capability" | "current";

/** The CPU behind a host bridge: vendor, x86 family and model, and its name when known. */
export interface HostCpuState {
  vendor: CpuVendorName;
  family?: number;
  model?: number;
  name?: string;
}

/** A PCIe link configuration. */
export interface LinkConfig {
  gen: number;
  width: number;
}

/** The CPU behind a host bridge: vendor, x86 family and model, and its name, as far as the input says. */
export interface HostCpu {
  vendor: CpuVendorName;
  family?: number;
  model?: number;
  name?: string;
}

/** A range of the address map: CPU physical start, PCI bus start (bus = cpu + bus offset), size. */
export interface AddressRange {
  cpu: number;
  bus: number;
  size: number;
}

export interface FabricBar extends AddressRange {
  index: number;
  is64: boolean;
  prefetchable: boolean;
  /** Sizes the Resizable BAR capability allows (empty when the BAR is not resizable). */
  resizable: number[];
}

/** ACS extended capability: bit masks of PCI_ACS_* (include/uapi/linux/pci_regs.h). */
export interface AcsState {
  capability: number;
  control: number;
}

export interface HostWindowState extends AddressRange {
  prefetchable: boolean;
  /** True when the topology gave no windows and the model chose this one. */
  assigned: boolean;
}

export interface HostBridge {
  kind: "hostBridge";
  id: string;
  /** Index of the node in the input's `nodes` array (for error paths). */
  index: number;
  name?: string;
  domain: number;
  rootBus: number;
  subordinateBus: number;
  numaNode: number;
  cpu: HostCpuState;
  iommu: IommuMode;
  windows: HostWindowState[];
  /** Ids of the devices on the root bus, in devfn order (pci_host_bridge_dev takes the first). */
  children: string[];
}

export interface PciFunction {
  kind: FunctionKind;
  id: string;
  index: number;
  name?: string;
  /** PCI address "dddd:bb:dd.f" (given, or assigned when the input has none). */
  address: string;
  /** Whether the input gave the PCI address (DESIGN §4: pair ids use it only then). */
  addressGiven: boolean;
  domain: number;
  bus: number;
  devfn: number;
  /** Id of the host bridge or bridge above. */
  parent: string;
  hostBridge: string;
  /** Ids of the functions below a bridge, in devfn order. */
  children: string[];
  /** Number of bridges above this function (0 on a root bus). */
  depth: number;
  vendor?: string;
  device?: string;
  classCode?: string;
  /** Endpoints only. */
  role?: DeviceRole;
  numaNode: number;
  /** The link above the function at its capability (the working speed). */
  link?: LinkConfig;
  /** The link's state when the machine was read (LnkSta). */
  linkCurrent?: LinkConfig;
  /** A NIC's network port line rate, Gb/s, when the input gave it. */
  portGbps?: number;
  /** The device's DMA/copy engines (how many, each one's GB/s), when the input gave them. */
  dmaEngines?: { count: number; gbps: number };
  /** null: the function has no ACS capability. */
  acs: AcsState | null;
  /** Several (non-VF) functions share its bus and device number. */
  multifunction: boolean;
  bars: FabricBar[];
  /** Bridge windows (secondary side). */
  windows: { mem?: AddressRange; prefetch?: AddressRange };
  secondaryBus?: number;
  subordinateBus?: number;
  memory?: number;
  zoneDevice?: "private" | "coherent";
  /** Index of the BAR exposing `memory` to peers, when the input names one. */
  memoryBar?: number;
  /** For an SR-IOV VF: the id of its PF. */
  physfn?: string;
}

export interface NvSwitch {
  kind: "nvswitch";
  id: string;
  index: number;
  name?: string;
  pci?: string;
}

export interface NvLinkState {
  a: string;
  b: string;
  count: number;
  gen?: number;
}

export interface SocketLinkState {
  a: number;
  b: number;
  name?: string;
  gbps?: number;
}

export type FabricNode = HostBridge | PciFunction | NvSwitch;

export interface Fabric {
  name: string;
  description?: string;
  source?: string;
  /** Named platform (from the topology, or an importer's table of root complex ids). */
  platform?: string;
  /** Which link speed models the machine (default "capability"). */
  linkSpeed: LinkSpeedMode;
  hostBridges: HostBridge[];
  /** Every PCI function, in input order. */
  functions: PciFunction[];
  nvswitches: NvSwitch[];
  nvlinks: NvLinkState[];
  socketLinks: SocketLinkState[];
  /** The boot CPU (cpu_data(0)) that cpu_supports_p2pdma() reads. */
  machineCpu: HostCpuState;
  byId: Map<string, FabricNode>;
  byAddress: Map<string, PciFunction>;
}

/** ACS bits (include/uapi/linux/pci_regs.h). */
export const ACS_BITS: Record<AcsFlagName, number> = {
  SV: 0x0001,
  TB: 0x0002,
  RR: 0x0004,
  CR: 0x0008,
  UF: 0x0010,
  EC: 0x0020,
  DT: 0x0040,
};

export function acsMask(flags: readonly AcsFlagName[]): number {
  let m = 0;
  for (const f of flags) m |= ACS_BITS[f];
  return m;
}

export function acsNames(mask: number): AcsFlagName[] {
  return (Object.keys(ACS_BITS) as AcsFlagName[]).filter((f) => (mask & ACS_BITS[f]) !== 0);
}
