// Models: the public API of the fabric layer (DESIGN §2): building a machine from a topology,
// P2PDMA map types and distances, nvidia-smi classes, address routing, ACS and IOMMU groups,
// rendering, files and builtins. Leaves out: the importers' internals (import/).
export type {
  AcsState, AddressRange, CpuVendorName, DeviceRole, Fabric, FabricBar, FabricNode, FunctionKind, HostBridge, HostCpu,
  HostWindowState, IommuMode, NvLinkState, NvSwitch, PciFunction, SocketLinkState,
} from "./types.js";
export { ACS_BITS, acsMask, acsNames } from "./types.js";
export { buildFabric, displayId, findNode, getFunction, hostBridgeOf, parentBridge } from "./build.js";
export { formatPciAddress, parsePciAddress } from "./pci-address.js";
export { DEFAULT_MMIO32_BASE, DEFAULT_MMIO32_LIMIT, DEFAULT_MMIO64_BASE, DEFAULT_MMIO64_LIMIT } from "./assign.js";
export { cpuFromVendor, roleFromClass } from "./defaults.js";
export { acsEnabled, acsPathEnabled, hasAcsRedirect, iommuGroupOf, iommuGroups, REQ_ACS_FLAGS } from "./acs.js";
export { cpuSupportsP2pdma, hostBridgeDev, P2PDMA_WHITELIST } from "./whitelist.js";
export { p2pdmaMapType, upstreamBridge, upstreamChain, type P2pdmaMapType, type P2pdmaResult } from "./p2pdma.js";
export { nvlinkCount, pcieTopoClass, topoClass, type TopoClass } from "./topo-class.js";
export { matrixDevices, pairMatrix, type DevicePair, type PairMatrix } from "./pairs.js";
export { routeAddress, type Hop, type HopDirection, type Route, type RouteClaimed, type RouteUnclaimed } from "./route.js";
export { renderMatrix, renderTree } from "./render.js";
export { loadTopologyFile, readTopologyFile } from "./load.js";
export { BUILTIN_TOPOLOGY_NAMES, builtinTopology, DMIRROR_TOPOLOGY } from "./builtin.js";
export { Topology, type BarSpec, type LinkSpec, type NodeSpec, type TopologyInput, type TopologySpec } from "./schema.js";
