// Models: the topology importers' public surface: format detection and the lspci / hwloc readers.
// Leaves out: building the fabric from the result (fabric/index.ts buildFabric).
export { parseTopologyText, parseTopologyBytes, detectTopologyFormat, MAX_JSON_DEPTH, type TopologyFormat } from "./detect.js";
export { parseLspciText } from "./lspci.js";
export { parseHwlocXml } from "./hwloc.js";
