// Models: the lines of an `lspci -vvv` block the fabric model reads, and what each gives: Region
// lines (lspci-region.ts; memory BARs), NUMA node, the Express capability's port type, SR-IOV,
// bridge windows (lspci.c show_htype1), ACSCap/ACSCtl (ls-ecaps.c cap_acs), LnkCap and LnkSta (ls-caps.c) and
// Resizable BAR sizes. A line a reader claims (by how it starts) must be understood, else it is
// refused naming line and value: a value is never silently dropped. What is read with a
// workaround (a BAR without a size, a low-1M BAR) becomes a warning.
// Leaves out: I/O BARs, expansion ROMs, SR-IOV VF BARs, and every other line.
import { InputError } from "../../units/input-error.js";
import { parseQuantity } from "../../units/size.js";
import type { AcsFlagName } from "../schema.js";
import { genOfSpeed, isLinkWidth } from "./pci-names.js";
import { parseRegionLine } from "./lspci-region.js";
import type { ExpressType, VvvBlock } from "./lspci-vvv.js";
import { warn, type ImportOptions } from "./warnings.js";

/** Where a line comes from (for messages) and where warnings go. */
export interface LineContext {
  source: string;
  options: ImportOptions;
}

/** One line of a block: trimmed text, 1-based number, the raw line (for messages). */
export interface VvvLine {
  text: string;
  lineNo: number;
  raw: string;
}

/** A line reader: the lines it reads start with `starts`; `read` takes their facts into the block
 *  and throws InputError when such a line is not understood. */
export interface LineReader {
  starts: string;
  read(ctx: LineContext, block: VvvBlock, line: VvvLine): void;
}

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

/** InputError for a line of a block that is not understood, naming the line and its text. */
export function refuseLine(ctx: LineContext, line: VvvLine, reason: string): never {
  throw new InputError(`line ${line.lineNo}`, line.raw.trim().slice(0, 80), `lspci -vvv: ${reason}`, ctx.source);
}

/** "Region 1: Memory at 20000000000 (64-bit, prefetchable) [size=32G]" (lspci.c show_bases). */
function readRegion(ctx: LineContext, block: VvvBlock, line: VvvLine): void {
  const region = parseRegionLine(line.text);
  if (region.kind === "bad") refuseLine(ctx, line, `Region line not understood (${region.reason}); is the dump cut?`);
  if (region.kind === "io") return; // I/O port BARs are not modelled
  const leftOut = (reason: string) => warn(ctx.options, ctx.source, `line ${line.lineNo}`, line.text.slice(0, 80), `${block.address} BAR ${region.index} left out: ${reason}`);
  if (region.size === undefined) return leftOut("lspci printed no size for it (it could not read one)");
  // An <unassigned> or <ignored> BAR is one the kernel left without address space: it claims no
  // addresses and no request can reach it, so it is left out (and counted for the description).
  if (region.address === "<unassigned>" || region.address === "<ignored>") {
    block.unassignedBars++;
    return;
  }
  if (region.address.startsWith("<")) return leftOut(`lspci reports ${region.address} (a 64-bit BAR in the last register)`);
  const addr = parseHexAddress(region.address);
  if (addr === undefined) refuseLine(ctx, line, `BAR address ${region.address} is not hex below 2^53`);
  // drivers/pci/probe.c decode_bar(): "1M mem BAR treated as 32-bit BAR", and a reserved type too.
  if (region.type === "low-1M" || region.type === "type 3") {
    warn(ctx.options, ctx.source, `line ${line.lineNo}`, region.type, `${block.address} BAR ${region.index} of memory type ${region.type} treated as a 32-bit BAR, as the kernel's decode_bar() does`);
  }
  // `[disabled]` (memory decoding off) and `[virtual]` (kernel-assigned) BARs are kept as assigned.
  block.bars.push({ index: region.index, addr, size: region.size, is64: region.type === "64-bit", prefetchable: region.prefetchable });
}

/** "NUMA node: 1" (lspci prints it only for a node other than -1). */
function readNumaNode(ctx: LineContext, block: VvvBlock, line: VvvLine): void {
  const m = /^NUMA node:\s+(\d{1,5})$/.exec(line.text);
  if (!m) refuseLine(ctx, line, "NUMA node not understood (expected `NUMA node: N`)");
  block.numaNode = Number(m[1]);
}

/** "Capabilities: [68] Express (v2) Endpoint, MSI 00" gives the port type; SR-IOV is noted. */
function readCapabilityHeader(_ctx: LineContext, block: VvvBlock, line: VvvLine): void {
  const express = /^Capabilities: \[[0-9a-fA-F]+\] Express \(v\d\) /.exec(line.text);
  if (express) {
    const rest = line.text.slice(express[0].length);
    block.expressType = EXPRESS_TYPES.find(([re]) => re.test(rest))?.[1] ?? "other";
  } else if (/^Capabilities: \[[0-9a-fA-F]+(?: v\d+)?\] Single Root I\/O Virtualization/.test(line.text)) block.sriov = true;
}

/**
 * "Memory behind bridge: c5000000-c61fffff [size=18M]" and its prefetchable twin (lspci.c show_htype1
 * prints base and limit with the same width). A limit below the base is a closed window, as
 * drivers/pci/probe.c pci_read_bridge_mmio() reads it; lspci also says `[disabled]`.
 */
function readBridgeWindow(ctx: LineContext, block: VvvBlock, line: VvvLine): void {
  if (/^(?:Prefetchable memory|Memory) behind bridge: \[disabled\]/.test(line.text)) return; // lspci -vv omits a closed window's range
  const m = /^(Prefetchable memory|Memory) behind bridge: ([0-9a-fA-F]+)-([0-9a-fA-F]+)([^]*)/.exec(line.text);
  if (!m || m[2].length !== m[3].length) refuseLine(ctx, line, "bridge window not understood (expected base-limit of equal width); is the dump cut?");
  const base = parseHexAddress(m[2]);
  const end = parseHexAddress(m[3]);
  if (base === undefined || end === undefined) refuseLine(ctx, line, "bridge window not understood (not hex below 2^53)");
  if (/\[disabled\]/.test(m[4]) || end < base) return;
  const window = { base, size: end - base + 1 };
  if (m[1] === "Memory") block.windows.mem = window;
  else block.windows.prefetch = window;
}

/** "ACSCap:/ACSCtl: SrcValid+ TransBlk- ..." (ls-ecaps.c cap_acs prints all seven flags). */
function readAcs(ctx: LineContext, block: VvvBlock, line: VvvLine): void {
  const control = line.text.startsWith("ACSCtl:");
  const flags = new Map<string, boolean>();
  for (const token of line.text.slice("ACSCap:".length).trim().split(/\s+/)) {
    const sign = token[token.length - 1];
    if (sign === "+" || sign === "-") flags.set(token.slice(0, -1), sign === "+");
  }
  const missing = Object.keys(ACS_NAMES).filter((name) => !flags.has(name));
  if (missing.length) refuseLine(ctx, line, `ACS${control ? "Ctl" : "Cap"} lacks ${missing.join(", ")} (lspci prints all seven flags); is the dump cut?`);
  const set = Object.entries(ACS_NAMES).filter(([name]) => flags.get(name)).map(([, short]) => short);
  if (control) block.acsCtl = set;
  else block.acsCap = set;
}

/**
 * "LnkCap: Port #0, Speed 16GT/s, Width x16, ASPM L1, ..." (ls-caps.c cap_express_link) and
 * "LnkSta: Speed 2.5GT/s (downgraded), Width x16": the port's capability and the link's state. A
 * link that is down or unknown ("Speed unknown", x0) stays unknown.
 */
function readLink(ctx: LineContext, block: VvvBlock, line: VvvLine): void {
  const cap = line.text.startsWith("LnkCap:");
  const m = (cap ? /^LnkCap:\s+Port #\d+, Speed ([^,]*), Width x(\d+)/ : /^LnkSta:\s+Speed ([^,]*), Width x(\d+)/).exec(line.text);
  const name = cap ? "LnkCap" : "LnkSta";
  if (!m) refuseLine(ctx, line, `${name} not understood (expected \`${cap ? "Port #N, " : ""}Speed S, Width xN\`); is the dump cut?`);
  const speed = /^([0-9.]+)G[Tb]\/s\b/.exec(m[1]);
  const width = Number(m[2]);
  if (!speed || width === 0) return;
  const gen = genOfSpeed(Number(speed[1]));
  if (gen === undefined || !isLinkWidth(width)) {
    warn(ctx.options, ctx.source, `line ${line.lineNo}`, line.text.slice(0, 60), `${block.address} ${name} left unknown: ${speed[0]} x${width} is not a PCIe generation and width`);
    return;
  }
  if (cap) block.linkCap = { gen, width };
  else block.linkSta = { gen, width };
}

/** "BAR 1: current size: 32GB, supported: 64MB 128MB ..." inside the Resizable BAR capability. */
function readResizable(ctx: LineContext, block: VvvBlock, line: VvvLine): void {
  const m = /^BAR (\d):\s+current size:\s+(\w+),\s+supported:\s+([^]*)/.exec(line.text);
  if (!m) refuseLine(ctx, line, "Resizable BAR line not understood (expected `BAR N: current size: S, supported: S...`); is the dump cut?");
  const sizes = m[3].trim().split(/\s+/).map((s) => parseQuantity(s));
  if (sizes.some((s) => s === undefined)) refuseLine(ctx, line, "resizable BAR sizes not understood");
  block.resizable.set(Number(m[1]), sizes as number[]);
}

/** Lines at the block's own indentation. */
export const TOP_LINE_READERS: readonly LineReader[] = [
  { starts: "Region ", read: readRegion },
  { starts: "NUMA node:", read: readNumaNode },
  { starts: "Capabilities: ", read: readCapabilityHeader },
  { starts: "Memory behind bridge:", read: readBridgeWindow },
  { starts: "Prefetchable memory behind bridge:", read: readBridgeWindow },
];

/** Lines inside a capability. */
export const CAPABILITY_LINE_READERS: readonly LineReader[] = [
  { starts: "LnkCap:", read: readLink },
  { starts: "LnkSta:", read: readLink },
  { starts: "ACSCap:", read: readAcs },
  { starts: "ACSCtl:", read: readAcs },
];

/** Lines inside the Resizable BAR capability: the others, then the per-BAR sizes. */
export const REBAR_LINE_READERS: readonly LineReader[] = [...CAPABILITY_LINE_READERS, { starts: "BAR ", read: readResizable }];

/** A hex address without 0x (lspci prints them so), as a safe integer. */
function parseHexAddress(text: string): number | undefined {
  if (!/^[0-9a-fA-F]+$/.test(text)) return undefined;
  const trimmed = text.replace(/^0+(?=.)/, "");
  if (trimmed.length > 14) return undefined;
  const n = parseInt(trimmed, 16);
  return Number.isSafeInteger(n) ? n : undefined;
}
