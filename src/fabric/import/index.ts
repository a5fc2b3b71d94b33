// Models: the topology importers' public surface: format detection and the lspci / hwloc readers.
// Leaves out: building the fabric from the result (fabric/index.ts buildFabric).
export { parseTopologyText, parseTopologyBytes, detectTopologyFormat, MAX_JSON_DEPTH } from "./detect.js";
export { ACCEPTED_FORMATS, type TopologyFormat } from "./formats.js";
export type { ImportOptions, TopologyWarning } from "./warnings.js";
export { parseLspciText } from "./lspci.js";
export { parseHwlocXml } from "./hwloc.js";
