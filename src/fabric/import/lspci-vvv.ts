// Models: the `lspci -vvv` blocks that may follow the tree in a dump: per function its class,
// memory BARs, NUMA node, PCIe port type, link status, ACS capability/control, bridge windows,
// SR-IOV and Resizable BAR capabilities (pciutils lspci.c / ls-caps.c print formats).
// Leaves out: I/O BARs, expansion ROMs, and every capability the fabric model does not use.
import { InputError } from "../../units/input-error.js";
import { parseQuantity } from "../../units/size.js";
import type { AcsFlagName } from "../schema.js";
import { classCodeOf, genOfSpeed, isLinkWidth, type LinkWidth } from "./pci-names.js";
import { hex4 } from "./lspci-tree.js";

export type ExpressType =
  | "rootPort"
  | "upstream"
  | "downstream"
  | "endpoint"
  | "legacyEndpoint"
  | "rcEndpoint"
  | "pcieToPciBridge"
  | "other";

export interface VvvBar {
  index: number;
  addr?: number;
  size: number;
  is64: boolean;
  prefetchable: boolean;
}

export interface VvvBlock {
  address: string;
  line: number;
  className: string;
  classCode?: string;
  /** From -nn: "[vvvv:dddd]" after the name. */
  vendor?: string;
  device?: string;
  name: string;
  bars: VvvBar[];
  /** BARs lspci shows as <unassigned> or <ignored> (left out of the topology). */
  unassignedBars: number;
  resizable: Map<number, number[]>;
  numaNode?: number;
  expressType?: ExpressType;
  link?: { gen: number; width: LinkWidth };
  acsCap?: AcsFlagName[];
  acsCtl?: AcsFlagName[];
  windows: { mem?: { base: number; size: number }; prefetch?: { base: number; size: number } };
  sriov: boolean;
}

const HEADER_RE = /^(?:([0-9a-fA-F]{4}):)?([0-9a-fA-F]{2}):([0-1][0-9a-fA-F])\.([0-7]) (.+?)(?: \[([0-9a-fA-F]{4})\])?: (.*)$/;
const ACS_NAMES: Record<string, AcsFlagName> = {
  SrcValid: "SV",
  TransBlk: "TB",
  ReqRedir: "RR",
  CmpltRedir: "CR",
  UpstreamFwd: "UF",
  EgressCtrl: "EC",
  DirectTrans: "DT",
};
const EXPRESS_TYPES: [RegExp, ExpressType][] = [
  [/^Root Port\b/, "rootPort"],
  [/^Upstream Port\b/, "upstream"],
  [/^Downstream Port\b/, "downstream"],
  [/^Legacy Endpoint\b/, "legacyEndpoint"],
  [/^Endpoint\b/, "endpoint"],
  [/^Root Complex Integrated Endpoint\b/, "rcEndpoint"],
  [/^PCI-Express to PCI\/PCI-X Bridge\b/, "pcieToPciBridge"],
];

/** True when `line` starts an lspci -vvv block ("bb:dd.f Class: Vendor Device"). */
export function isVvvHeader(line: string): boolean {
  return HEADER_RE.test(line);
}

/** State of one -vvv parse: the blocks so far and where the current block's lines stand. */
interface VvvParse {
  source: string;
  blocks: VvvBlock[];
  block?: VvvBlock;
  /** Indentation of the block's top-level lines (capability lines are indented deeper); -1 before the first. */
  baseIndent: number;
  /** Inside a (physical) Resizable BAR capability, whose lines give the BAR sizes. */
  inRebar: boolean;
}

/** One line of a block: trimmed text, 1-based number, the raw line (for messages). */
interface VvvLine {
  text: string;
  lineNo: number;
  raw: string;
}

/** A line reader: the lines it matches, and what it takes from them into the block. */
interface LineReader {
  re: RegExp;
  read(parse: VvvParse, block: VvvBlock, m: RegExpExecArray, line: VvvLine): void;
}

/**
 * Parses the -vvv blocks in `lines` (numbered from `firstLine`). Lines outside any block and lines
 * of a block that the model does not use are ignored.
 */
export function parseLspciVvv(lines: readonly string[], firstLine: number, source: string): VvvBlock[] {
  const parse: VvvParse = { source, blocks: [], baseIndent: -1, inRebar: false };
  for (let k = 0; k < lines.length; k++) {
    const raw = lines[k].replace(/\s+$/, "");
    const lineNo = firstLine + k;
    const header = HEADER_RE.exec(raw);
    if (header) startBlock(parse, header, raw, lineNo);
    else readBlockLine(parse, raw, lineNo);
  }
  return parse.blocks;
}

function bad(parse: VvvParse, line: VvvLine, reason: string): never {
  throw new InputError(`line ${line.lineNo}`, line.raw.trim().slice(0, 80), `lspci -vvv: ${reason}`, parse.source);
}

function startBlock(parse: VvvParse, h: RegExpExecArray, raw: string, lineNo: number): void {
  const domain = h[1] ? parseInt(h[1], 16) : 0;
  const nameWithIds = h[7];
  const nn = /\s\[([0-9a-fA-F]{4}):([0-9a-fA-F]{4})\]/.exec(nameWithIds);
  const block: VvvBlock = {
    address: `${hex4(domain)}:${h[2].toLowerCase()}:${h[3].toLowerCase()}.${h[4]}`,
    line: lineNo,
    className: h[5],
    classCode: h[6]?.toLowerCase() ?? classCodeOf(h[5]),
    vendor: nn?.[1].toLowerCase(),
    device: nn?.[2].toLowerCase(),
    name: nameWithIds.replace(/\s*\(rev [0-9a-fA-F]+\).*$/, "").trim(),
    bars: [],
    unassignedBars: 0,
    resizable: new Map(),
    windows: {},
    sriov: false,
  };
  if (parse.blocks.some((b) => b.address === block.address)) {
    throw new InputError(`line ${lineNo}`, raw.slice(0, 60), `lspci -vvv: a second block for ${block.address}`, parse.source);
  }
  parse.blocks.push(block);
  parse.block = block;
  parse.baseIndent = -1;
  parse.inRebar = false;
}

function readBlockLine(parse: VvvParse, raw: string, lineNo: number): void {
  const block = parse.block;
  if (!block || raw.trim() === "") return;
  const indent = raw.length - raw.trimStart().length;
  if (indent === 0) {
    parse.block = undefined; // text that is not part of a block
    return;
  }
  if (parse.baseIndent < 0) parse.baseIndent = indent;
  const line: VvvLine = { text: raw.trim(), lineNo, raw };
  const top = indent === parse.baseIndent;
  if (top) parse.inRebar = /^Capabilities: .*Resizable BAR/.test(line.text) && !/Virtual Resizable BAR/.test(line.text);
  const readers = top ? TOP_LINE_READERS : parse.inRebar ? REBAR_LINE_READERS : CAPABILITY_LINE_READERS;
  for (const reader of readers) {
    const m = reader.re.exec(line.text);
    if (m) return reader.read(parse, block, m, line);
  }
}

/** "Region 1: Memory at 20000000000 (64-bit, prefetchable) [size=32G]" (lspci.c show_bases). */
function readRegion(parse: VvvParse, block: VvvBlock, m: RegExpExecArray, line: VvvLine): void {
  const sizeMatch = /\[size=([0-9]+[KMGT]?)\]/.exec(m[5]);
  if (!sizeMatch) return; // lspci prints no size when it cannot read it; nothing to model
  const size = parseQuantity(sizeMatch[1]);
  if (size === undefined) bad(parse, line, `BAR size ${sizeMatch[1]} not understood`);
  // An <unassigned> or <ignored> BAR is one the kernel left without address space: it claims no
  // addresses and no request can reach it, so it is left out (and counted for the description).
  if (m[2] === "<unassigned>" || m[2] === "<ignored>") {
    block.unassignedBars++;
    return;
  }
  const addr = parseHexAddress(m[2]);
  if (addr === undefined) bad(parse, line, `BAR address ${m[2]} is not hex below 2^53`);
  // `[disabled]` (memory decoding off) and `[virtual]` (kernel-assigned) BARs are kept as assigned.
  block.bars.push({ index: Number(m[1]), addr, size, is64: m[3] === "64", prefetchable: m[4] === "prefetchable" });
}

/** "Memory behind bridge: c5000000-c61fffff [size=18M]" and its prefetchable twin (lspci.c show_htype1). */
function readBridgeWindow(parse: VvvParse, block: VvvBlock, m: RegExpExecArray, line: VvvLine): void {
  if (/\[disabled\]/.test(m[4])) return;
  const base = parseHexAddress(m[2]);
  const end = parseHexAddress(m[3]);
  if (base === undefined || end === undefined || end < base) bad(parse, line, "bridge window not understood");
  const window = { base, size: end - base + 1 };
  if (m[1] === "Memory") block.windows.mem = window;
  else block.windows.prefetch = window;
}

/** "ACSCap:/ACSCtl: SrcValid+ TransBlk- ..." (ls-ecaps.c cap_acs). */
function readAcs(_parse: VvvParse, block: VvvBlock, m: RegExpExecArray): void {
  const flags: AcsFlagName[] = [];
  for (const [, flag, sign] of m[2].matchAll(/(\w+)([+-])/g)) {
    const short = ACS_NAMES[flag];
    if (short && sign === "+") flags.push(short);
  }
  if (m[1] === "Cap") block.acsCap = flags;
  else block.acsCtl = flags;
}

/** "LnkSta: Speed 16GT/s, Width x16"; a link that is down ("Speed unknown", x0) stays unknown. */
function readLinkStatus(_parse: VvvParse, block: VvvBlock, m: RegExpExecArray): void {
  const gen = genOfSpeed(Number(m[1]));
  const width = Number(m[2]);
  if (gen !== undefined && isLinkWidth(width)) block.link = { gen, width };
}

/** "BAR 1: current size: 32GB, supported: 64MB 128MB ..." inside the Resizable BAR capability. */
function readResizable(parse: VvvParse, block: VvvBlock, m: RegExpExecArray, line: VvvLine): void {
  const sizes = m[3].trim().split(/\s+/).map((s) => parseQuantity(s));
  if (sizes.some((s) => s === undefined)) bad(parse, line, "resizable BAR sizes not understood");
  block.resizable.set(Number(m[1]), sizes as number[]);
}

/** Lines at the block's own indentation. */
const TOP_LINE_READERS: readonly LineReader[] = [
  { re: /^Region (\d): Memory at (\S+) \((32|64)-bit, (non-prefetchable|prefetchable)\)(.*)$/, read: readRegion },
  { re: /^NUMA node:\s+(\d+)$/, read: (_p, block, m) => { block.numaNode = Number(m[1]); } },
  {
    re: /^Capabilities: \[[0-9a-fA-F]+\] Express \(v\d\) (.*)$/,
    read: (_p, block, m) => { block.expressType = EXPRESS_TYPES.find(([re]) => re.test(m[1]))?.[1] ?? "other"; },
  },
  { re: /^Capabilities: \[[0-9a-fA-F]+(?: v\d+)?\] Single Root I\/O Virtualization/, read: (_p, block) => { block.sriov = true; } },
  { re: /^(Prefetchable memory|Memory) behind bridge: ([0-9a-fA-F]+)-([0-9a-fA-F]+)(.*)$/, read: readBridgeWindow },
];

/** Lines inside a capability. */
const CAPABILITY_LINE_READERS: readonly LineReader[] = [
  { re: /^LnkSta:\s+Speed ([0-9.]+)GT\/s[^,]*, Width x(\d+)/, read: readLinkStatus },
  { re: /^ACS(Cap|Ctl):\s+(.*)$/, read: readAcs },
];

/** Lines inside the Resizable BAR capability: the others, then the per-BAR sizes. */
const REBAR_LINE_READERS: readonly LineReader[] = [
  ...CAPABILITY_LINE_READERS,
  { re: /^BAR (\d):\s+current size:\s+(\w+),\s+supported:\s+(.*)$/, read: readResizable },
];

/** A hex address without 0x (lspci prints them so), as a safe integer. */
function parseHexAddress(text: string): number | undefined {
  if (!/^[0-9a-fA-F]+$/.test(text)) return undefined;
  const trimmed = text.replace(/^0+(?=.)/, "");
  if (trimmed.length > 14) return undefined;
  const n = parseInt(trimmed, 16);
  return Number.isSafeInteger(n) ? n : undefined;
}
