// Models: the public API of the fabric layer (DESIGN §2): building a machine from a topology,
// P2PDMA map types and distances, nvidia-smi classes, address routing, ACS and IOMMU groups,
// rendering, files (with the importers' warnings and notes), overlays, pci.ids, the tables of known
// parts and platforms, and builtins. Leaves out: the importers' internals (import/).
export type {
  AcsState, AddressRange, CpuVendorName, DeviceRole, Fabric, FabricBar, FabricNode, FunctionKind, HostBridge, HostCpuState,
  HostWindowState, IommuMode, LinkConfig, LinkSpeedMode, NvLinkState, NvSwitch, PciFunction, SocketLinkState,
} from "./types.js";
export { ACS_BITS, acsMask, acsNames } from "./types.js";
export { buildFabric, displayId, findNode, getFunction, hostBridgeOf, parentBridge } from "./build.js";
export { formatPciAddress, parsePciAddress } from "./pci-address.js";
export { DEFAULT_MMIO32_BASE, DEFAULT_MMIO32_LIMIT, DEFAULT_MMIO64_BASE, DEFAULT_MMIO64_LIMIT } from "./assign.js";
export { cpuFromVendor, roleFromClass } from "./defaults.js";
export { acsEnabled, acsPathEnabled, hasAcsRedirect, iommuGroupOf, iommuGroups, REQ_ACS_FLAGS } from "./acs.js";
export { cpuSupportsP2pdma, hostBridgeDev, P2PDMA_WHITELIST } from "./whitelist.js";
export { p2pdmaMapType, upstreamBridge, upstreamChain, type P2pdmaMapType, type P2pdmaResult, type P2pdmaRule } from "./p2pdma.js";
export { nvlinkCount, pcieTopoClass, topoClass, type TopoClass } from "./topo-class.js";
export { deviceInfo, isChipset, matrixDevices, pairMatrix, type DeviceInfo, type DevicePair, type MatrixOptions, type PairMatrix } from "./pairs.js";
export { formatLink, linkAbove, linkGbps, pathLinks, slowestLink, type FunctionLink } from "./links.js";
export { dmaPath, renderDmaPath, type DmaPath, type DmaPathHop } from "./dma-path.js";
export { routeAddress, type Hop, type HopDirection, type Route, type RouteClaimed, type RouteUnclaimed } from "./route.js";
export { renderDevices, renderMatrix, renderNotes, renderTree } from "./render.js";
export { loadTopologyFile, readOverlayFile, readTopologyFile } from "./load.js";
export { applyOverlay, parseOverlay, Overlay, type OverlayInput, type OverlaySpec } from "./overlay.js";
export { PCI_IDS_ENV, PCI_IDS_PATHS, readPciIdsFile, systemPciIds } from "./pci-ids-file.js";
export { ACCEPTED_FORMATS } from "./import/formats.js";
export type { ImportNote, ImportOptions, TopologyWarning } from "./import/warnings.js";
export { parsePciIds, type PciIds } from "./import/pci-ids.js";
export { KNOWN_PARTS, type KnownPart } from "./import/device-memory.js";
export { KNOWN_PLATFORMS, type KnownPlatform } from "./import/platforms.js";
export { BUILTIN_TOPOLOGY_NAMES, builtinTopology, builtinTopologyInput, DMIRROR_TOPOLOGY } from "./builtin.js";
export { Topology, type BarSpec, type LinkSpec, type NodeSpec, type TopologyInput, type TopologySpec } from "./schema.js";
