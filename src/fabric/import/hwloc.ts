// Models: a machine read from an hwloc XML export (`lstopo --of xml`, v1 and v2 formats): host
// bridges with their NUMA node and CPU (CPUVendor, CPUFamilyNumber, CPUModelNumber, CPUModel; else the
// root bus's PCI ids, platforms.ts), PCI bridges and devices with ids, names (pci.ids when given) and
// link speed, GPU memory (device-memory.ts), and the NVLink matrix (`NVLinkBandwidth` distances) as
// nvswitch nodes and nvlink links. The document passes xml-guard.ts first; anything the parser
// still refuses is an InputError too.
// Leaves out: BARs (hwloc has none: default sizes per role, default-bars.ts), CPUs and caches.
import { XMLParser } from "fast-xml-parser";
import { InputError } from "../../units/input-error.js";
import { GiB } from "../../units/size.js";
import type { TopologyInput } from "../schema.js";
import { guardXml, MAX_XML_DEPTH } from "./xml-guard.js";
import { ATTRIBUTE_PREFIX, attr, elements, infoOf, type XmlObject } from "./xml-object.js";
import { inferBridgeKind, type BridgePlace } from "./port-kinds.js";
import { DEFAULT_BARS_NOTE, defaultBars, roleOfClass } from "./default-bars.js";
import { hex2, hex4 } from "./lspci-tree.js";
import { linkFromHwlocSpeed } from "./hwloc-link.js";
import { nvlinkTopology, type NvlinkObject } from "./hwloc-nvlink.js";
import { topologyName } from "./source-name.js";
import { ACCEPTED_FORMATS } from "./formats.js";
import { pciIdsName, type PciIds as PciIdsDb } from "./pci-ids.js";
import { knownPart, reportDeviceMemory } from "./device-memory.js";
import { platformOf, type KnownPlatform } from "./platforms.js";
import { assumedSocketLinks } from "./socket-links.js";
import type { ImportOptions } from "./warnings.js";

type NodeInput = TopologyInput["nodes"][number];

const ARRAY_TAGS = new Set(["object", "info", "indexes", "u64values", "distances", "distances2", "distances2hetero", "latency"]);

/** State of one conversion: the nodes so far and the hwloc objects the NVLink matrix may name. */
interface HwlocRead {
  source: string;
  nodes: NodeInput[];
  /** `Type:gp_index` → the PCI device it stands for. */
  byGp: Map<string, NvlinkObject>;
  /** GPU model name by PCI address (NVLink generation). */
  modelOf: Map<string, string | undefined>;
  hostBridges: number;
  /** `Architecture` info of the topology (aarch64 → an ARM CPU behind host bridges). */
  globalArch?: string;
  pciIds?: PciIdsDb;
  /** The platform the first identified root bus names. */
  platform?: KnownPlatform;
  /** What said an endpoint's memory, by id (for the import notes). */
  memorySaid: Map<string, string>;
}

/** Where a PCI object sits: its parent's id, on a root bus or below a bridge, and the bus. */
interface PciPlace extends BridgePlace {
  parent: string;
  bus: number;
}

/** Converts an hwloc XML export into a kit topology object. */
export function parseHwlocXml(text: string, source: string, options: ImportOptions = {}): TopologyInput {
  const top = topologyElement(parseXml(text, source), source);
  const machine = elements(top, "object")[0];
  if (!machine) throw new InputError("topology.object", undefined, "hwloc XML has no Machine object", source);
  const read: HwlocRead = {
    source, nodes: [], byGp: new Map(), modelOf: new Map(), hostBridges: 0, globalArch: infoOf(top, "Architecture"), pciIds: options.pciIds ?? undefined, memorySaid: new Map(),
  };
  visitObject(read, machine, {});
  if (read.hostBridges === 0) throw new InputError("topology", source, "hwloc XML has no PCI host bridge (was it exported without I/O objects?)", source);
  const productName = infoOf(machine, "DMIProductName");
  const nv = nvlinkTopology(top, read.byGp, read.modelOf, source);
  const memory = reportDeviceMemory(read.nodes, source, options, read.memorySaid);
  const sockets = assumedSocketLinks(read.nodes);
  const description = [
    `Imported from hwloc XML (${source})${productName ? `, ${productName}` : ""}.`,
    DEFAULT_BARS_NOTE,
    "Link gen/width: the widest PCIe configuration giving hwloc's GB/s (hwloc stores bandwidth only), read from the link's state (LnkSta, hwloc pci-common.c hwloc_pci_find_linkspeed): kept as `linkCurrent` and taken as `link` too, as hwloc does not record the capability (a device idle at export shows 2.5 GT/s; an overlay sets its `link`).",
    "Switch ports by shape (hwloc has no port type): a root-bus bridge is a root port, a bridge with only bridges below is a switch upstream port, its children downstream ports.",
    ...nv.notes,
    ...(read.platform?.platform ? [`Platform ${read.platform.platform} from the root bus function ${read.platform.vendor}:${read.platform.device} (${read.platform.name}).`] : []),
    ...(memory ? [memory] : []),
    ...(sockets.note ? [sockets.note] : []),
  ].join(" ");
  return {
    name: productName ? slug(productName) : topologyName(source), description, source,
    ...(read.platform?.platform ? { platform: read.platform.platform } : {}), nodes: read.nodes, links: [...nv.links, ...sockets.links],
  };
}

/** The guarded document as fast-xml-parser builds it (child elements in arrays, see ARRAY_TAGS). */
function parseXml(text: string, source: string): XmlObject {
  guardXml(text, source);
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: ATTRIBUTE_PREFIX,
    processEntities: false,
    htmlEntities: false,
    parseAttributeValue: false,
    parseTagValue: false,
    // The guard refuses nesting deeper than MAX_XML_DEPTH; the parser refuses only deeper still.
    maxNestedTags: MAX_XML_DEPTH,
    isArray: (name) => ARRAY_TAGS.has(name),
  });
  try {
    return parser.parse(text) as XmlObject;
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new InputError("file", text.trimStart().slice(0, 40), `XML refused by the parser: ${why}`, source);
  }
}

function topologyElement(doc: XmlObject, source: string): XmlObject {
  const top = doc.topology;
  if (typeof top === "string") throw new InputError("topology", top.slice(0, 40), "the <topology> element holds no objects: hwloc XML has no Machine object", source);
  if (top === null || typeof top !== "object" || Array.isArray(top)) {
    const root = Object.keys(doc).find((k) => !k.startsWith("?")) ?? "(none)";
    throw new InputError("root element", `<${root}>`, `not an hwloc XML export (expected <topology>); ${ACCEPTED_FORMATS}`, source);
  }
  return top as XmlObject;
}

/** Walks the CPU side of the tree (NUMA node and CPU context) down to the host bridges. */
function visitObject(read: HwlocRead, obj: XmlObject, ctx: Context): void {
  const here = contextOf(obj, ctx);
  if (isHostBridge(obj)) {
    read.hostBridges++;
    emitHostBridge(read, obj, here);
    return;
  }
  const type = attr(obj, "type");
  if (type === "Bridge" || type === "PCIDev") {
    throw new InputError(objectField(obj), attr(obj, "pci_busid"), `hwloc ${type} outside any host bridge`, read.source);
  }
  for (const child of elements(obj, "object")) visitObject(read, child, here);
}

/** `object <id or gp_index>`, naming an hwloc object in messages. */
function objectField(obj: XmlObject): string {
  return `object ${attr(obj, "id") ?? attr(obj, "gp_index") ?? "(without id)"}`;
}

function emitHostBridge(read: HwlocRead, obj: XmlObject, ctx: Context): void {
  const range = parseBusRange(attr(obj, "bridge_pci"), `${objectField(obj)}.bridge_pci`, read.source);
  const id = `pci${hex4(range.domain)}:${hex2(range.secondary)}`;
  const children = elements(obj, "object");
  const onBus = children
    .filter((c) => attr(c, "pci_busid"))
    .sort((a, b) => attr(a, "pci_busid")!.localeCompare(attr(b, "pci_busid")!))
    .map((c) => parsePciType(attr(c, "pci_type"), attr(c, "pci_busid"), read.source));
  const platform = platformOf(onBus);
  read.platform ??= platform;
  const cpu = ctx.cpu ?? platform?.cpu ?? cpuFromVendorId(onBus[0]?.vendor) ?? (read.globalArch === "aarch64" ? { vendor: "arm" as const } : undefined);
  read.nodes.push({
    kind: "hostBridge",
    id,
    domain: range.domain,
    rootBus: range.secondary,
    ...(ctx.numaNode !== undefined ? { numaNode: ctx.numaNode } : {}),
    ...(cpu ? { cpu } : {}),
  });
  for (const child of children) emitFunction(read, child, { parent: id, onRootBus: true, bus: range.secondary });
}

/** A Bridge or PCIDev object below a host bridge; OS devices are read with their PCI device. */
function emitFunction(read: HwlocRead, obj: XmlObject, place: PciPlace): void {
  const type = attr(obj, "type");
  if (type !== "Bridge" && type !== "PCIDev") {
    if (type === "OSDev" || type === "Misc") return;
    throw new InputError(objectField(obj), type, "unexpected hwloc object inside the PCI tree", read.source);
  }
  const where = objectField(obj);
  const busid = attr(obj, "pci_busid");
  const address = (busid ?? "").toLowerCase();
  const m = /^([0-9a-f]{4}):([0-9a-f]{2}):([01][0-9a-f])\.([0-7])$/.exec(address);
  if (!m) throw new InputError(`${where}.pci_busid`, busid, "not a PCI address dddd:bb:dd.f", read.source);
  if (parseInt(m[2], 16) !== place.bus) {
    throw new InputError(`${where}.pci_busid`, busid, `not on bus ${hex2(place.bus)}, the secondary bus of its parent`, read.source);
  }
  const ids = parsePciType(attr(obj, "pci_type"), busid, read.source);
  const speed = attr(obj, "pci_link_speed");
  const link = speed !== undefined ? linkFromHwlocSpeed(Number(speed)) : undefined;
  const dbName = read.pciIds && ids.vendor && ids.device ? pciIdsName(read.pciIds, ids.vendor, ids.device) : undefined;
  const common: FunctionCommon = {
    id: address,
    parent: place.parent,
    ...(dbName ? { name: dbName } : {}),
    ...(ids.vendor ? { vendor: ids.vendor } : {}),
    ...(ids.device ? { device: ids.device } : {}),
    ...(ids.classCode ? { class: ids.classCode } : {}),
    // hwloc records the link's state (LnkSta) only: it is the capability's best estimate too.
    ...(link ? { link, linkCurrent: link } : {}),
  };
  const gpIndex = attr(obj, "gp_index");
  if (gpIndex !== undefined) read.byGp.set(`PCIDev:${gpIndex}`, { kind: "pci", id: address, nvswitch: attr(obj, "subtype") === "NVSwitch" });
  if (type === "Bridge") emitBridge(read, obj, place, common, where);
  else emitEndpoint(read, obj, common, ids);
}

type HwlocLink = NonNullable<ReturnType<typeof linkFromHwlocSpeed>>;
type FunctionCommon = { id: string; parent: string; name?: string; vendor?: string; device?: string; class?: string; link?: HwlocLink; linkCurrent?: HwlocLink };

function emitBridge(read: HwlocRead, obj: XmlObject, place: PciPlace, common: FunctionCommon, where: string): void {
  const busRange = attr(obj, "bridge_pci");
  const range = busRange ? parseBusRange(busRange, `${where}.bridge_pci`, read.source) : undefined;
  const gpIndex = attr(obj, "gp_index");
  if (gpIndex !== undefined) read.byGp.set(`Bridge:${gpIndex}`, { kind: "pci", id: common.id, nvswitch: false });
  const children = elements(obj, "object");
  const shape = { isBridge: true, children: children.filter((c) => attr(c, "type") !== "OSDev").map((c) => ({ isBridge: attr(c, "type") === "Bridge", children: [] })) };
  const kind = inferBridgeKind(shape, place);
  read.nodes.push({ kind, ...common, bars: [], ...(range ? { secondaryBus: range.secondary } : {}) });
  for (const child of children) emitFunction(read, child, { parent: common.id, onRootBus: false, parentKind: kind, bus: range?.secondary ?? -1 });
}

/** A PCIDev: an endpoint; its OS devices name it (GPU model, NVML index) and may give its memory.
 *  A known part (device-memory.ts) is a GPU whose BARs are sized to its memory. */
function emitEndpoint(read: HwlocRead, obj: XmlObject, common: FunctionCommon, ids: PciIds): void {
  const { model, memory, said } = osDeviceFacts(read, obj, common.id);
  const isNvswitch = attr(obj, "subtype") === "NVSwitch";
  const part = knownPart(ids.vendor, ids.device);
  const role = roleOfClass(ids.classCode, ids.vendor) ?? (part ? "gpu" : undefined);
  const size = role === "gpu" ? memory ?? part?.memory : undefined;
  if (role === "gpu" && memory !== undefined && said) read.memorySaid.set(common.id, said);
  read.nodes.push({
    kind: "endpoint",
    ...common,
    ...(model ? { name: model } : isNvswitch ? { name: "NVSwitch" } : {}),
    ...(isNvswitch ? { role: "nvswitch" as const } : {}),
    ...(role === "gpu" && memory ? { memory } : {}),
    bars: defaultBars(role, size),
  });
  if (isNvswitch) read.nodes.push({ kind: "nvswitch", id: `nvswitch-${common.id}`, name: "NVSwitch", pci: common.id });
  read.modelOf.set(common.id, model);
}

/** Model name and memory from a device's OSDev children (CUDA memory, else "NN GB" in the model). */
function osDeviceFacts(read: HwlocRead, obj: XmlObject, address: string): { model?: string; memory?: number; said?: string } {
  const osdevs = elements(obj, "object").filter((c) => attr(c, "type") === "OSDev");
  let model: string | undefined;
  let memory: number | undefined;
  let said: string | undefined;
  for (const os of osdevs) {
    const gpIndex = attr(os, "gp_index");
    if (gpIndex !== undefined) read.byGp.set(`OSDev:${gpIndex}`, { kind: "pci", id: address, nvswitch: false });
    model ??= infoOf(os, "GPUModel") ?? infoOf(os, "CoProcType");
    const kib = infoOf(os, "CUDAGlobalMemorySize");
    if (memory === undefined && kib !== undefined && /^\d+$/.test(kib)) {
      memory = Number(kib) * 1024;
      said = `hwloc's CUDAGlobalMemorySize (${kib} KiB)`;
    }
  }
  if (memory === undefined && model) {
    const gb = /(?<!\d)(\d+)\s*GB\b/.exec(model);
    if (gb) {
      memory = Number(gb[1]) * GiB;
      said = `the GPU model name hwloc reports ("${model}")`;
    }
  }
  return { model, memory, said };
}

interface Context {
  numaNode?: number;
  cpu?: { vendor: "intel" | "amd" | "hygon" | "arm" | "other"; family?: number; model?: number; name?: string };
}

/** NUMA node and CPU of the objects below `obj`: v1 NUMANode ancestors, v2 single-node nodesets. */
function contextOf(obj: XmlObject, ctx: Context): Context {
  const next: Context = { ...ctx };
  const osIndex = attr(obj, "os_index");
  const nodeset = attr(obj, "nodeset");
  if (attr(obj, "type") === "NUMANode" && osIndex !== undefined) next.numaNode = Number(osIndex);
  else if (nodeset !== undefined) next.numaNode = singleBit(nodeset); // several nodes: unknown
  const vendor = infoOf(obj, "CPUVendor");
  if (vendor) {
    const family = infoOf(obj, "CPUFamilyNumber");
    const model = infoOf(obj, "CPUModelNumber");
    const name = infoOf(obj, "CPUModel");
    const v = /GenuineIntel/i.test(vendor) ? "intel" : /AuthenticAMD/i.test(vendor) ? "amd" : /HygonGenuine/i.test(vendor) ? "hygon" : "other";
    next.cpu = {
      vendor: v,
      ...(family && /^\d+$/.test(family) ? { family: Number(family) } : {}),
      ...(model && /^\d+$/.test(model) ? { model: Number(model) } : {}),
      ...(name ? { name: name.trim() } : {}),
    };
  }
  return next;
}

/** The one NUMA node a nodeset ("0x00000002", or comma-separated 32-bit words) holds, if exactly one. */
function singleBit(nodeset: string): number | undefined {
  const words = nodeset.split(",").map((w) => w.trim().replace(/^0x/i, ""));
  let found: number | undefined;
  for (let k = 0; k < words.length; k++) {
    const word = parseInt(words[words.length - 1 - k] || "0", 16);
    if (!Number.isFinite(word) || word === 0) continue;
    if (found !== undefined || (word & (word - 1)) !== 0) return undefined;
    found = k * 32 + Math.log2(word);
  }
  return found;
}

function isHostBridge(obj: XmlObject): boolean {
  const type = attr(obj, "type");
  return type === "HostBridge" || (type === "Bridge" && (attr(obj, "bridge_type") ?? "").startsWith("0-"));
}

function parseBusRange(text: string | undefined, field: string, source: string): { domain: number; secondary: number; subordinate: number } {
  const m = /^([0-9a-fA-F]{4}):\[([0-9a-fA-F]{2})-([0-9a-fA-F]{2})\]$/.exec(text ?? "");
  if (!m) throw new InputError(field, text, "not a bus range dddd:[bb-bb]", source);
  return { domain: parseInt(m[1], 16), secondary: parseInt(m[2], 16), subordinate: parseInt(m[3], 16) };
}

/** "0302 [10de:1db8] [10de:131d] a1 00" → class, vendor, device (all-zero ids mean unreadable). */
interface PciIds {
  classCode?: string;
  vendor?: string;
  device?: string;
}

function parsePciType(text: string | undefined, where: string | undefined, source: string): PciIds {
  const m = /^([0-9a-fA-F]{4}) \[([0-9a-fA-F]{4}):([0-9a-fA-F]{4})\]/.exec(text ?? "");
  if (!m) throw new InputError(`pci_type of ${String(where)}`, text, "not hwloc's \"cccc [vvvv:dddd] ...\"", source);
  const unreadable = m[2] === "0000" && m[3] === "0000";
  if (unreadable) return {};
  return { classCode: m[1].toLowerCase(), vendor: m[2].toLowerCase(), device: m[3].toLowerCase() };
}

function cpuFromVendorId(vendor: string | undefined): Context["cpu"] {
  if (vendor === "8086") return { vendor: "intel" };
  if (vendor === "1022") return { vendor: "amd", family: 0x17 };
  return undefined;
}

function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") || "imported";
}
