// Models: a machine read from an hwloc XML export (`lstopo --of xml`, v1 and v2 formats): host
// bridges with their NUMA node and CPU, PCI bridges and devices with ids and link speed, and the
// NVLink matrix (`NVLinkBandwidth` distances) as nvswitch nodes and nvlink links.
// Leaves out: BARs (hwloc has none: default sizes per role, default-bars.ts), CPUs and caches.
import { XMLParser } from "fast-xml-parser";
import { InputError } from "../../units/input-error.js";
import { GiB } from "../../units/size.js";
import type { TopologyInput } from "../schema.js";
import { guardXml } from "./xml-guard.js";
import { inferBridgeKind, type BridgePlace } from "./port-kinds.js";
import { DEFAULT_BARS_NOTE, defaultBars, roleOfClass } from "./default-bars.js";
import { hex2, hex4 } from "./lspci-tree.js";
import { linkFromHwlocSpeed } from "./hwloc-link.js";
import { nvlinkTopology, type NvlinkObject } from "./hwloc-nvlink.js";
import { topologyName } from "./source-name.js";

type NodeInput = TopologyInput["nodes"][number];
type Attrs = Record<string, string>;
interface XmlObject extends Attrs {
  // fast-xml-parser puts child elements under their tag name (arrays, see ARRAY_TAGS).
  [key: string]: any;
}

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
}

/** Where a PCI object sits: its parent's id, on a root bus or below a bridge, and the bus. */
interface PciPlace extends BridgePlace {
  parent: string;
  bus: number;
}

/** Converts an hwloc XML export into a kit topology object. */
export function parseHwlocXml(text: string, source: string): TopologyInput {
  const top = topologyElement(parseXml(text, source), source);
  const machine = (top.object ?? [])[0] as XmlObject | undefined;
  if (!machine) throw new InputError("topology.object", undefined, "hwloc XML has no Machine object", source);
  const read: HwlocRead = { source, nodes: [], byGp: new Map(), modelOf: new Map(), hostBridges: 0, globalArch: infoOf(top, "Architecture") };
  visitObject(read, machine, {});
  if (read.hostBridges === 0) throw new InputError("topology", source, "hwloc XML has no PCI host bridge (was it exported without I/O objects?)", source);
  const productName = infoOf(machine, "DMIProductName");
  const nv = nvlinkTopology(top, read.byGp, read.modelOf, source);
  const description = [
    `Imported from hwloc XML (${source})${productName ? `, ${productName}` : ""}.`,
    DEFAULT_BARS_NOTE,
    "Link gen/width: the widest PCIe configuration giving hwloc's GB/s (hwloc stores bandwidth only).",
    "Switch ports by shape (hwloc has no port type): a root-bus bridge is a root port, a bridge with only bridges below is a switch upstream port, its children downstream ports.",
    ...nv.notes,
  ].join(" ");
  return { name: productName ? slug(productName) : topologyName(source), description, source, nodes: read.nodes, links: nv.links };
}

/** The guarded document as fast-xml-parser builds it (child elements in arrays, see ARRAY_TAGS). */
function parseXml(text: string, source: string): Record<string, unknown> {
  guardXml(text, source);
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: "",
    processEntities: false,
    htmlEntities: false,
    parseAttributeValue: false,
    parseTagValue: false,
    isArray: (name) => ARRAY_TAGS.has(name),
  });
  return parser.parse(text) as Record<string, unknown>;
}

function topologyElement(doc: Record<string, unknown>, source: string): XmlObject {
  const top = doc.topology as XmlObject | undefined;
  if (!top || typeof top !== "object") {
    const root = Object.keys(doc).find((k) => !k.startsWith("?")) ?? "(none)";
    throw new InputError("root element", `<${root}>`, "not an hwloc XML export (expected <topology>)", source);
  }
  return top;
}

/** Walks the CPU side of the tree (NUMA node and CPU context) down to the host bridges. */
function visitObject(read: HwlocRead, obj: XmlObject, ctx: Context): void {
  const here = contextOf(obj, ctx);
  if (isHostBridge(obj)) {
    read.hostBridges++;
    emitHostBridge(read, obj, here);
    return;
  }
  if (obj.type === "Bridge" || obj.type === "PCIDev") {
    throw new InputError(`object ${obj.id ?? obj.gp_index ?? ""}`, obj.pci_busid, `hwloc ${obj.type} outside any host bridge`, read.source);
  }
  for (const child of obj.object ?? []) visitObject(read, child, here);
}

function emitHostBridge(read: HwlocRead, obj: XmlObject, ctx: Context): void {
  const range = parseBusRange(obj.bridge_pci, `object ${obj.id ?? ""}.bridge_pci`, read.source);
  const id = `pci${hex4(range.domain)}:${hex2(range.secondary)}`;
  const children = (obj.object ?? []) as XmlObject[];
  const firstVendor = children
    .filter((c) => c.pci_busid)
    .sort((a, b) => String(a.pci_busid).localeCompare(String(b.pci_busid)))
    .map((c) => parsePciType(c.pci_type, c.pci_busid, read.source).vendor)[0];
  const cpu = ctx.cpu ?? cpuFromVendorId(firstVendor) ?? (read.globalArch === "aarch64" ? { vendor: "arm" as const } : undefined);
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
  if (obj.type !== "Bridge" && obj.type !== "PCIDev") {
    if (obj.type === "OSDev" || obj.type === "Misc") return;
    throw new InputError(`object ${obj.id ?? ""}`, obj.type, "unexpected hwloc object inside the PCI tree", read.source);
  }
  const where = `object ${obj.id ?? obj.gp_index ?? ""}`;
  const address = String(obj.pci_busid ?? "").toLowerCase();
  const m = /^([0-9a-f]{4}):([0-9a-f]{2}):([01][0-9a-f])\.([0-7])$/.exec(address);
  if (!m) throw new InputError(`${where}.pci_busid`, obj.pci_busid, "not a PCI address dddd:bb:dd.f", read.source);
  if (parseInt(m[2], 16) !== place.bus) {
    throw new InputError(`${where}.pci_busid`, obj.pci_busid, `not on bus ${hex2(place.bus)}, the secondary bus of its parent`, read.source);
  }
  const ids = parsePciType(obj.pci_type, obj.pci_busid, read.source);
  const link = obj.pci_link_speed !== undefined ? linkFromHwlocSpeed(Number(obj.pci_link_speed)) : undefined;
  const common: FunctionCommon = {
    id: address,
    parent: place.parent,
    ...(ids.vendor ? { vendor: ids.vendor } : {}),
    ...(ids.device ? { device: ids.device } : {}),
    ...(ids.classCode ? { class: ids.classCode } : {}),
    ...(link ? { link } : {}),
  };
  if (obj.gp_index !== undefined) read.byGp.set(`PCIDev:${obj.gp_index}`, { kind: "pci", id: address, nvswitch: obj.subtype === "NVSwitch" });
  if (obj.type === "Bridge") emitBridge(read, obj, place, common, where);
  else emitEndpoint(read, obj, common, ids);
}

type FunctionCommon = { id: string; parent: string; vendor?: string; device?: string; class?: string; link?: NonNullable<ReturnType<typeof linkFromHwlocSpeed>> };

function emitBridge(read: HwlocRead, obj: XmlObject, place: PciPlace, common: FunctionCommon, where: string): void {
  const range = obj.bridge_pci ? parseBusRange(obj.bridge_pci, `${where}.bridge_pci`, read.source) : undefined;
  if (obj.gp_index !== undefined) read.byGp.set(`Bridge:${obj.gp_index}`, { kind: "pci", id: common.id, nvswitch: false });
  const children = (obj.object ?? []) as XmlObject[];
  const shape = { isBridge: true, children: children.filter((c) => c.type !== "OSDev").map((c) => ({ isBridge: c.type === "Bridge", children: [] })) };
  const kind = inferBridgeKind(shape, place);
  read.nodes.push({ kind, ...common, bars: [], ...(range ? { secondaryBus: range.secondary } : {}) });
  for (const child of children) emitFunction(read, child, { parent: common.id, onRootBus: false, parentKind: kind, bus: range?.secondary ?? -1 });
}

/** A PCIDev: an endpoint; its OS devices name it (GPU model, NVML index) and may give its memory. */
function emitEndpoint(read: HwlocRead, obj: XmlObject, common: FunctionCommon, ids: PciIds): void {
  const { model, memory } = osDeviceFacts(read, obj, common.id);
  const isNvswitch = obj.subtype === "NVSwitch";
  const role = roleOfClass(ids.classCode, ids.vendor);
  read.nodes.push({
    kind: "endpoint",
    ...common,
    ...(model ? { name: model } : isNvswitch ? { name: "NVSwitch" } : {}),
    ...(isNvswitch ? { role: "nvswitch" as const } : {}),
    ...(role === "gpu" && memory ? { memory } : {}),
    bars: defaultBars(role, role === "gpu" ? memory : undefined),
  });
  if (isNvswitch) read.nodes.push({ kind: "nvswitch", id: `nvswitch-${common.id}`, name: "NVSwitch", pci: common.id });
  read.modelOf.set(common.id, model);
}

/** Model name and memory from a device's OSDev children (CUDA memory, else "NN GB" in the model). */
function osDeviceFacts(read: HwlocRead, obj: XmlObject, address: string): { model?: string; memory?: number } {
  const osdevs = ((obj.object ?? []) as XmlObject[]).filter((c) => c.type === "OSDev");
  let model: string | undefined;
  let memory: number | undefined;
  for (const os of osdevs) {
    if (os.gp_index !== undefined) read.byGp.set(`OSDev:${os.gp_index}`, { kind: "pci", id: address, nvswitch: false });
    model ??= infoOf(os, "GPUModel") ?? infoOf(os, "CoProcType");
    const kib = infoOf(os, "CUDAGlobalMemorySize");
    if (kib !== undefined && /^\d+$/.test(kib)) memory ??= Number(kib) * 1024;
  }
  if (memory === undefined && model) {
    const gb = /(\d+)\s*GB\b/.exec(model);
    if (gb) memory = Number(gb[1]) * GiB;
  }
  return { model, memory };
}

interface Context {
  numaNode?: number;
  cpu?: { vendor: "intel" | "amd" | "hygon" | "arm" | "other"; family?: number };
}

/** NUMA node and CPU of the objects below `obj`: v1 NUMANode ancestors, v2 single-node nodesets. */
function contextOf(obj: XmlObject, ctx: Context): Context {
  const next: Context = { ...ctx };
  if (obj.type === "NUMANode" && obj.os_index !== undefined) next.numaNode = Number(obj.os_index);
  else if (obj.nodeset !== undefined) next.numaNode = singleBit(obj.nodeset); // several nodes: unknown
  const vendor = infoOf(obj, "CPUVendor");
  if (vendor) {
    const family = infoOf(obj, "CPUFamilyNumber");
    const v = /GenuineIntel/i.test(vendor) ? "intel" : /AuthenticAMD/i.test(vendor) ? "amd" : /HygonGenuine/i.test(vendor) ? "hygon" : "other";
    next.cpu = { vendor: v, ...(family && /^\d+$/.test(family) ? { family: Number(family) } : {}) };
  }
  return next;
}

/** The one NUMA node a nodeset ("0x00000002", or comma-separated 32-bit words) holds, if exactly one. */
function singleBit(nodeset: string): number | undefined {
  const words = String(nodeset).split(",").map((w) => w.trim().replace(/^0x/i, ""));
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
  return obj.type === "HostBridge" || (obj.type === "Bridge" && String(obj.bridge_type ?? "").startsWith("0-"));
}

function parseBusRange(text: unknown, field: string, source: string): { domain: number; secondary: number; subordinate: number } {
  const m = /^([0-9a-fA-F]{4}):\[([0-9a-fA-F]{2})-([0-9a-fA-F]{2})\]$/.exec(String(text ?? ""));
  if (!m) throw new InputError(field, text, "not a bus range dddd:[bb-bb]", source);
  return { domain: parseInt(m[1], 16), secondary: parseInt(m[2], 16), subordinate: parseInt(m[3], 16) };
}

/** "0302 [10de:1db8] [10de:131d] a1 00" → class, vendor, device (all-zero ids mean unreadable). */
interface PciIds {
  classCode?: string;
  vendor?: string;
  device?: string;
}

function parsePciType(text: unknown, where: unknown, source: string): PciIds {
  const m = /^([0-9a-fA-F]{4}) \[([0-9a-fA-F]{4}):([0-9a-fA-F]{4})\]/.exec(String(text ?? ""));
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

/** Value of `<info name=... value=...>` directly inside `obj`. */
export function infoOf(obj: XmlObject, name: string): string | undefined {
  const infos = (obj.info ?? []) as Attrs[];
  return infos.find((i) => i.name === name)?.value;
}

function slug(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") || "imported";
}
