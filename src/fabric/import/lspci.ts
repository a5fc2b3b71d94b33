// Models: a machine read from an `lspci -tv` dump, optionally followed by `lspci -vvv` blocks
// (`{ lspci -tv; sudo lspci -vvv; } > machine.txt`, DESIGN §4): one host bridge per root bus,
// root ports / switch ports / bridges / endpoints with ids = PCI addresses, plus what -vvv says.
// A dump cut anywhere is refused when the cut could have changed what is read (inside the tree, a
// block header, or a line the importer reads), else accepted with a warning naming what may be
// missing (ImportOptions.onWarning). Names and ids come from the dump (-nn ids when it has them),
// else from the system's pci.ids (ImportOptions.pciIds); the CPU and platform from the root buses'
// PCI ids (platforms.ts); GPUs get device memory (device-memory.ts, reported via onNote).
// Leaves out: facts lspci does not print (IOMMU state: off; the AMD CPU family of an unknown root
// complex: 0x17).
import { InputError } from "../../units/input-error.js";
import type { TopologyInput } from "../schema.js";
import { parseLspciTree, hex2, hex4, type LspciTree, type TreeFunction, type TreeRoot } from "./lspci-tree.js";
import { parseLspciVvv, type VvvBlock, type VvvDump } from "./lspci-vvv.js";
import { inferBridgeKind, type BridgeKind } from "./port-kinds.js";
import { deviceIdFromName, guessClassFromName, splitVendor } from "./pci-names.js";
import { pciIdsClassCode, pciIdsName, pciIdsOfName, type PciIds } from "./pci-ids.js";
import { DEFAULT_BARS_NOTE, defaultBars, roleOfClass } from "./default-bars.js";
import { knownPart, reportDeviceMemory } from "./device-memory.js";
import { platformOf, type KnownPlatform } from "./platforms.js";
import { assumedSocketLinks } from "./socket-links.js";
import { topologyName } from "./source-name.js";
import { warn, type ImportOptions } from "./warnings.js";

type NodeInput = TopologyInput["nodes"][number];

/** AMD CPU family assumed when lspci names no family: Zen (0x17), the first the P2PDMA CPU rule
 *  accepts (reference/p2pdma.md §3.1, drivers/pci/p2pdma.c cpu_supports_p2pdma). */
export const DEFAULT_AMD_FAMILY = 0x17;

/** The dump read: its tree, its -vvv blocks, and the functions and blocks by PCI address. */
interface LspciDump {
  source: string;
  tree: LspciTree;
  blocks: VvvBlock[];
  byAddress: Map<string, TreeFunction>;
  /** The -vvv blocks with lines (BARs, link, ACS, ...), by PCI address. */
  vvv: Map<string, VvvBlock>;
  /** Every header by PCI address, `lspci -nn` listing lines too (names, class and ids). */
  listed: Map<string, VvvBlock>;
  /** Functions by "domain:bus" (an SR-IOV VF's PF is looked for on its bus). */
  byBus: Map<string, TreeFunction[]>;
}

type LinkSpeed = NonNullable<VvvBlock["linkCap"]>;

/** Where a function sits: its parent's id, on a root bus or below a bridge of `parentKind`, and the
 *  LnkCap of the port whose downstream link it hangs on (a root port, switch downstream port or bridge). */
interface Place {
  parent: string;
  onRootBus: boolean;
  parentKind?: BridgeKind;
  portCap?: LinkSpeed;
}

/** Bridges whose downstream side is a physical link (a switch upstream port's is the switch's inside). */
const DOWNSTREAM_PORTS: ReadonlySet<BridgeKind> = new Set(["rootPort", "switchDownstream", "bridge"]);

/** What emitting the topology's nodes collects. */
interface Emit {
  dump: LspciDump;
  pciIds?: PciIds;
  nodes: NodeInput[];
  /** Devices without a -vvv block that got default BARs. */
  defaulted: number;
  /** The platform the first identified root bus names. */
  platform?: KnownPlatform;
}

/** Converts an lspci dump (tree, then optional -vvv blocks) into a kit topology object. */
export function parseLspciText(text: string, source: string, options: ImportOptions = {}): TopologyInput {
  const dump = readDump(text, source, options);
  const emit: Emit = { dump, pciIds: options.pciIds ?? undefined, nodes: [], defaulted: 0 };
  for (const root of dump.tree.roots) {
    const hostId = `pci${hex4(root.domain)}:${hex2(root.bus)}`;
    emit.nodes.push(hostBridgeNode(emit, root, hostId));
    for (const func of root.functions) emitFunction(emit, func, { parent: hostId, onRootBus: true });
  }
  const memory = reportDeviceMemory(emit.nodes, source, options);
  const sockets = assumedSocketLinks(emit.nodes);
  const description = [describeImport(emit), ...(memory ? [memory] : []), ...(sockets.note ? [sockets.note] : [])].join(" ");
  return {
    name: topologyName(source), description, source, ...(emit.platform?.platform ? { platform: emit.platform.platform } : {}), nodes: emit.nodes, links: sockets.links,
  };
}

/** The tree (after leading blank lines), then the -vvv blocks after it, each for a function the tree lists. */
function readDump(text: string, source: string, options: ImportOptions): LspciDump {
  const lines = text.split(/\r?\n/);
  // lspci ends every line with a newline: without one, the file may have been cut in its last line.
  const lastLineCut = text !== "" && !text.endsWith("\n");
  if (!lastLineCut) lines.pop(); // the empty string after the final newline is not a line
  let start = 0;
  while (start < lines.length && lines[start].trim() === "") start++;
  const tree = parseLspciTree(lines.slice(start), source, start + 1);
  const rest = start + tree.endLine;
  if (lastLineCut && rest >= lines.length) {
    const line = lines.length;
    throw new InputError(`line ${line}`, lines[line - 1].trim().slice(0, 80),
      "the file ends without a newline inside the lspci -tv tree: the dump looks cut (a device name or the rest of the tree may be missing); save the whole output again, or end the file with a newline if this line is whole", source);
  }
  const vvvDump = parseLspciVvv(lines.slice(rest), rest + 1, source, { ...options, lastLineCut });
  const blocks = vvvDump.blocks.filter((b) => b.bodyLines > 0);
  const byAddress = new Map<string, TreeFunction>();
  const byBus = new Map<string, TreeFunction[]>();
  for (const root of tree.roots) {
    walk(root.functions, (func) => {
      byAddress.set(func.address, func);
      const key = `${func.domain}:${func.bus}`;
      const onBus = byBus.get(key);
      if (onBus) onBus.push(func);
      else byBus.set(key, [func]);
    });
  }
  const vvv = new Map<string, VvvBlock>();
  const listed = new Map<string, VvvBlock>();
  for (const block of vvvDump.blocks) {
    if (!byAddress.has(block.address)) {
      throw new InputError(`line ${block.line}`, block.address, "lspci -vvv block for a function the lspci -tv tree does not list", source);
    }
    listed.set(block.address, block);
    if (block.bodyLines > 0) vvv.set(block.address, block);
  }
  const dump: LspciDump = { source, tree, blocks, byAddress, vvv, listed, byBus };
  warnIfMaybeCut(dump, vvvDump, options);
  return dump;
}

/**
 * A dump that may have been cut where nothing tells for sure: the file ends inside a line the
 * importer does not read, or after a block line without the blank line lspci prints after every
 * block (the rest of that block may be missing); and functions of the tree without a -vvv block
 * when others have one (`lspci -vvv` prints every function: their blocks were cut off, or the
 * dump was made with `lspci -s`). Their facts (BARs, windows, ACS, link) are defaults.
 */
function warnIfMaybeCut(dump: LspciDump, vvvDump: VvvDump, options: ImportOptions): void {
  const { ending } = vvvDump;
  const last = dump.blocks[dump.blocks.length - 1];
  if (ending) {
    const where = ending.kind === "cutLine"
      ? "the file ends without a newline inside a line the importer does not read"
      : "the last lspci -vvv block does not end with the blank line lspci prints after every block";
    const lost = last ? `the rest of the block of ${last.address} is missing` : "the lspci -vvv blocks are missing";
    warn(options, dump.source, `line ${ending.line}`, ending.text.slice(0, 60), `${where}: if the dump was cut here, ${lost}`);
  }
  if (!last) return;
  const without = [...dump.byAddress.keys()].filter((a) => !dump.vvv.has(a)).sort();
  if (without.length === 0) return;
  warn(options, dump.source, "file", `${dump.blocks.length} of ${dump.byAddress.size} functions`,
    `${without.length} function(s) of the lspci -tv tree have no lspci -vvv block (${without.slice(0, 3).join(", ")}${without.length > 3 ? ", ..." : ""}): ` +
      "their BARs are defaults by role, and their windows, ACS and link unknown; if the dump was cut, save the whole `{ lspci -tv; sudo lspci -vvv; }` output again");
}

function emitFunction(emit: Emit, func: TreeFunction, place: Place): void {
  const block = emit.dump.vvv.get(func.address);
  const names = identify(func, emit.dump.listed.get(func.address), emit.pciIds);
  const link = trainedLink(block?.linkCap, place.portCap);
  const common = {
    id: func.address,
    parent: place.parent,
    ...(names.vendor ? { vendor: names.vendor } : {}),
    ...(names.device ? { device: names.device } : {}),
    ...(names.classCode ? { class: names.classCode } : {}),
    ...(func.name ? { name: names.name } : {}),
    ...(block?.numaNode !== undefined ? { numaNode: block.numaNode } : {}),
    ...(link ? { link } : {}),
    ...(block?.linkSta ? { linkCurrent: block.linkSta } : {}),
    ...(block && (block.acsCap || block.acsCtl) ? { acs: { ...(block.acsCap ? { capability: block.acsCap } : {}), control: block.acsCtl ?? [] } } : {}),
  };
  if (func.range !== undefined || func.children.length > 0) {
    const kind = inferBridgeKind({ isBridge: true, children: func.children.map(shapeOf), stated: statedKind(block) }, place);
    const windows = block && (block.windows.mem || block.windows.prefetch) ? { windows: block.windows } : {};
    emit.nodes.push({ kind, ...common, bars: block ? barsOf(block) : [], ...(func.range ? { secondaryBus: func.range.secondary } : {}), ...windows });
    const portCap = DOWNSTREAM_PORTS.has(kind) ? block?.linkCap : undefined;
    for (const child of func.children) emitFunction(emit, child, { parent: func.address, onRootBus: false, parentKind: kind, portCap });
    return;
  }
  let bars = block ? barsOf(block) : [];
  if (!block) {
    bars = defaultBars(roleOfClass(names.classCode, names.vendor), knownPart(names.vendor, names.device, names.deviceName)?.memory);
    if (bars.length) emit.defaulted++;
  }
  const physfn = /Virtual Function/.test(func.name) ? physicalFunctionOf(func, emit.dump) : undefined;
  emit.nodes.push({ kind: "endpoint", ...common, bars, ...(physfn ? { physfn } : {}) });
}

/**
 * The speed a link trains to: the highest generation and the widest width both ends advertise in
 * LnkCap (PCIe base spec link training); the function's own when its port's is unknown, and
 * unknown when the function's own is.
 */
function trainedLink(own: LinkSpeed | undefined, port: LinkSpeed | undefined): LinkSpeed | undefined {
  if (!own || !port) return own;
  return { gen: Math.min(own.gen, port.gen), width: Math.min(own.width, port.width) as LinkSpeed["width"] };
}

function describeImport(emit: Emit): string {
  const { dump, defaulted, platform } = emit;
  const { blocks, source } = dump;
  const cpu = platform
    ? `CPU${platform.platform ? ` and platform ${platform.platform}` : ""} from the root bus function ${platform.vendor}:${platform.device} (${platform.name})`
    : "CPU from the first root-bus function's vendor (AMD assumed family 0x17)";
  const parts = [
    `Imported from lspci -tv${blocks.length ? ` and ${blocks.length} lspci -vvv block(s)` : ""} (${source}).`,
    ...(dump.listed.size > dump.vvv.size ? [`Names, class and ids of ${dump.listed.size - dump.vvv.size} function(s) from an lspci -nn listing.`] : []),
    `Host bridges: one per root bus; ${cpu}; IOMMU off; ACS off where no -vvv block says otherwise.`,
    "Links: `link` is the lower of both ends' LnkCap (the speed a link trains to under load), `linkCurrent` the LnkSta the dump shows (an idle GPU or NIC trains down to 2.5 GT/s).",
  ];
  const unassigned = blocks.reduce((n, b) => n + b.unassignedBars, 0);
  if (unassigned) parts.push(`${unassigned} BAR(s) the kernel left <unassigned> are left out: they claim no address space.`);
  if (defaulted) parts.push(`${defaulted} device(s) without a -vvv block: ${DEFAULT_BARS_NOTE}`);
  return parts.join(" ");
}

function hostBridgeNode(emit: Emit, root: TreeRoot, id: string): NodeInput {
  const { vvv } = emit.dump;
  // pci_host_bridge_dev(): the first device on the root bus stands for the host bridge (p2pdma.md §3.2).
  const onBus = [...root.functions].sort((a, b) => devfnOf(a) - devfnOf(b)).map((f) => identify(f, emit.dump.listed.get(f.address), emit.pciIds));
  const ids = onBus[0];
  let numaNode: number | undefined;
  walk(root.functions, (f) => {
    const n = vvv.get(f.address)?.numaNode;
    if (numaNode === undefined && n !== undefined) numaNode = n;
  });
  const platform = platformOf(onBus);
  emit.platform ??= platform;
  const cpu = platform?.cpu ?? cpuOf(ids?.vendor, root.functions.map((f) => f.name));
  return {
    kind: "hostBridge",
    id,
    domain: root.domain,
    rootBus: root.bus,
    ...(numaNode !== undefined ? { numaNode } : {}),
    ...(cpu ? { cpu } : {}),
    ...(ids?.name ? { name: ids.name } : {}),
  };
}

/** CPU behind a host bridge from its first function's vendor; AMD's family from a "Family NNh" name. */
function cpuOf(vendor: string | undefined, names: string[]): { vendor: "intel" | "amd" | "hygon" | "other"; family?: number } | undefined {
  if (vendor === "8086") return { vendor: "intel" };
  if (vendor === "1022") {
    const fam = names.map((n) => /Family ([0-9a-fA-F]{2})h/.exec(n)).find((m) => m);
    return { vendor: "amd", family: fam ? parseInt(fam[1], 16) : DEFAULT_AMD_FAMILY };
  }
  if (vendor === "1d94") return { vendor: "hygon", family: 0x18 };
  if (vendor) return { vendor: "other" };
  return undefined;
}

interface Identity {
  vendor?: string;
  device?: string;
  classCode?: string;
  /** "Vendor Device" from pci.ids when it knows the ids, else as the dump printed it. */
  name: string;
  /** The device part of the dump's name, after the vendor. */
  deviceName: string;
}

/**
 * Vendor, device and class ids of a function: the -vvv block's and -nn ids first, then the name
 * looked up in pci.ids, then the built-in names (pci-names.ts). The name is pci.ids' for known ids.
 */
function identify(f: TreeFunction, block: VvvBlock | undefined, pciIds: PciIds | undefined): Identity {
  const nn = /\[([0-9a-fA-F]{4}):([0-9a-fA-F]{4})\]$/.exec(f.name);
  const dumpName = nn ? f.name.slice(0, nn.index).trimEnd() : f.name;
  const split = splitVendor(dumpName);
  const fromDb = pciIds && !nn && !block?.vendor ? pciIdsOfName(pciIds, dumpName) : {};
  const vendor = block?.vendor ?? nn?.[1].toLowerCase() ?? fromDb.vendor ?? split.vendor;
  const device = block?.device ?? nn?.[2].toLowerCase() ?? fromDb.device ?? deviceIdFromName(split.vendor, split.device);
  const classCode = block?.classCode ?? (block && pciIds ? pciIdsClassCode(pciIds, block.className) : undefined) ?? guessClassFromName(vendor, split.device);
  const dbName = pciIds && vendor && device ? pciIdsName(pciIds, vendor, device) : undefined;
  return { vendor, device, classCode, name: dbName ?? dumpName, deviceName: split.device };
}

function statedKind(block: VvvBlock | undefined): BridgeKind | undefined {
  switch (block?.expressType) {
    case "rootPort":
      return "rootPort";
    case "upstream":
      return "switchUpstream";
    case "downstream":
      return "switchDownstream";
    case "pcieToPciBridge":
      return "bridge";
    default:
      return undefined;
  }
}

function shapeOf(f: TreeFunction): { isBridge: boolean; children: never[] } {
  return { isBridge: f.range !== undefined || f.children.length > 0, children: [] };
}

function barsOf(block: VvvBlock): NonNullable<Extract<NodeInput, { kind: "endpoint" }>["bars"]> {
  return block.bars.map((b) => {
    const resizable = block.resizable.get(b.index);
    return {
      index: b.index,
      size: b.size,
      ...(b.addr !== undefined ? { addr: b.addr } : {}),
      is64: b.is64,
      prefetchable: b.prefetchable,
      ...(resizable ? { resizable } : {}),
    };
  });
}

/**
 * The physical function of an SR-IOV virtual function. lspci does not print the link (sysfs
 * `physfn` does): taken as the nearest lower function on the same bus that is not itself a VF,
 * preferring one whose -vvv block shows the SR-IOV capability.
 */
function physicalFunctionOf(vf: TreeFunction, dump: LspciDump): string | undefined {
  const candidates = (dump.byBus.get(`${vf.domain}:${vf.bus}`) ?? [])
    .filter((f) => !/Virtual Function/.test(f.name))
    .filter((f) => devfnOf(f) < devfnOf(vf))
    .sort((a, b) => devfnOf(b) - devfnOf(a));
  return (candidates.find((f) => dump.vvv.get(f.address)?.sriov) ?? candidates[0])?.address;
}

function devfnOf(func: TreeFunction): number {
  return func.device * 8 + func.functionNumber;
}

function walk(functions: TreeFunction[], visit: (func: TreeFunction) => void): void {
  for (const func of functions) {
    visit(func);
    walk(func.children, visit);
  }
}
