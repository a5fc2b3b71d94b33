// Models: the `lspci -vvv` blocks that may follow the tree in a dump (pciutils lspci.c): a header
// "bb:dd.f Class: Vendor Device" per function, then its lines at one indentation and capability
// lines deeper, each read by lspci-vvv-lines.ts (class, BARs, NUMA node, port type, link
// capability and status, ACS, windows, SR-IOV, Resizable BAR). A plain `lspci -nn` listing after
// the tree reads as headers without lines (names, class and ids only). A file cut inside a line the
// model reads, or inside a header, is refused; one cut elsewhere, or after a block without lspci's
// closing blank line, is reported to the caller (lspci.ts warns).
// Leaves out: every line and capability the fabric model does not use.
import { InputError } from "../../units/input-error.js";
import type { AcsFlagName } from "../schema.js";
import { classCodeOf, type LinkWidth } from "./pci-names.js";
import { hex4 } from "./lspci-tree.js";
import {
  CAPABILITY_LINE_READERS, REBAR_LINE_READERS, refuseLine, TOP_LINE_READERS, type LineContext, type LineReader, type VvvLine,
} from "./lspci-vvv-lines.js";
import type { ImportOptions } from "./warnings.js";

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
  /** LnkCap: the port's capability (the speed the link trains to under load). */
  linkCap?: { gen: number; width: LinkWidth };
  /** LnkSta: the link's state when the dump was made. */
  linkSta?: { gen: number; width: LinkWidth };
  acsCap?: AcsFlagName[];
  acsCtl?: AcsFlagName[];
  windows: { mem?: { base: number; size: number }; prefetch?: { base: number; size: number } };
  sriov: boolean;
  /** Lines below the header: none for a line of a plain `lspci -nn` listing (names and ids only). */
  bodyLines: number;
}

const SLOT_RE = /^(?:([0-9a-fA-F]{4}):)?([0-9a-fA-F]{2}):([0-1][0-9a-fA-F])\.([0-7]) /;
/** What a block header starts with, even when the rest of it is garbled. */
const SLOT_LIKE_RE = /^(?:[0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-9a-fA-F]/;

export interface VvvOptions extends ImportOptions {
  /** The last of `lines` is the end of a file without a final newline: it may be cut. */
  lastLineCut?: boolean;
}

/** The blocks, and how the text ends when it might have been cut where nothing tells (the caller
 *  warns, naming what would be missing): inside a line the importer does not read ("cutLine"), or
 *  after a block's line without the blank line lspci prints after every block ("openBlock"). */
export interface VvvDump {
  blocks: VvvBlock[];
  ending?: { kind: "cutLine" | "openBlock"; line: number; text: string };
}

/** State of one -vvv parse: the blocks so far and where the current block's lines stand. */
interface VvvParse extends LineContext {
  options: VvvOptions;
  blocks: VvvBlock[];
  addresses: Set<string>;
  block?: VvvBlock;
  /** Indentation of the block's top-level lines (capability lines are indented deeper); -1 before the first. */
  baseIndent: number;
  /** Inside a (physical) Resizable BAR capability, whose lines give the BAR sizes. */
  inRebar: boolean;
  /** A blank line followed the current block's lines (lspci prints one after every block). */
  blockClosed: boolean;
  /** Last line of the current block and its text, for messages. */
  blockEnd: VvvLine;
}

/**
 * Parses the -vvv blocks in `lines` (numbered from `firstLine`). Lines outside any block and lines
 * of a block that the model does not use are ignored; a line the model reads must be understood.
 */
export function parseLspciVvv(lines: readonly string[], firstLine: number, source: string, options: VvvOptions = {}): VvvDump {
  const parse: VvvParse = {
    source, options, blocks: [], addresses: new Set(), baseIndent: -1, inRebar: false, blockClosed: true, blockEnd: { text: "", lineNo: 0, raw: "" },
  };
  for (let k = 0; k < lines.length; k++) {
    const raw = lines[k].trimEnd();
    const lineNo = firstLine + k;
    if (options.lastLineCut && k === lines.length - 1) {
      // Cut inside a line's indentation: the text so far is whole lines, not followed by a blank one.
      if (raw === "") break;
      return endsMidLine(parse, raw, lineNo);
    }
    const header = parseHeader(raw, lineNo);
    if (header) startBlock(parse, header, raw);
    else if (SLOT_LIKE_RE.test(raw)) refuseLine(parse, { text: raw, lineNo, raw }, "block header not understood (expected `bb:dd.f Class: Vendor Device`)");
    else readBlockLine(parse, raw, lineNo);
  }
  // A plain `lspci -nn` listing is header lines only: no blank line follows them.
  if (parse.blockClosed || parse.block?.bodyLines === 0) return { blocks: parse.blocks };
  return { blocks: parse.blocks, ending: { kind: "openBlock", line: parse.blockEnd.lineNo, text: parse.blockEnd.text } };
}

/** The header of a block, "0000:1a:00.0 3D controller [0302]: NVIDIA Corporation ... (rev a1)": the
 *  class runs to the first ": " (an optional -nn " [cccc]" at its end is the class code). */
function parseHeader(raw: string, lineNo: number): Omit<VvvBlock, "bars" | "unassignedBars" | "resizable" | "windows" | "sriov" | "bodyLines"> | undefined {
  const slot = SLOT_RE.exec(raw);
  if (!slot) return undefined;
  const colon = raw.indexOf(": ", slot[0].length + 1);
  if (colon < 0) return undefined;
  let className = raw.slice(slot[0].length, colon);
  const code = / \[([0-9a-fA-F]{4})\]$/.exec(className);
  if (code) className = className.slice(0, code.index);
  const nameWithIds = raw.slice(colon + 2);
  const nn = /\s\[([0-9a-fA-F]{4}):([0-9a-fA-F]{4})\]/.exec(nameWithIds);
  const revision = /\(rev [0-9a-fA-F]+\)/.exec(nameWithIds);
  return {
    address: `${hex4(slot[1] ? parseInt(slot[1], 16) : 0)}:${slot[2].toLowerCase()}:${slot[3].toLowerCase()}.${slot[4]}`,
    line: lineNo,
    className,
    classCode: code?.[1].toLowerCase() ?? classCodeOf(className),
    vendor: nn?.[1].toLowerCase(),
    device: nn?.[2].toLowerCase(),
    name: (revision ? nameWithIds.slice(0, revision.index) : nameWithIds).trim(),
  };
}

function startBlock(parse: VvvParse, header: NonNullable<ReturnType<typeof parseHeader>>, raw: string): void {
  if (parse.addresses.has(header.address)) {
    throw new InputError(`line ${header.line}`, raw.slice(0, 60), `lspci -vvv: a second block for ${header.address}`, parse.source);
  }
  const block: VvvBlock = { ...header, bars: [], unassignedBars: 0, resizable: new Map(), windows: {}, sriov: false, bodyLines: 0 };
  parse.addresses.add(block.address);
  parse.blocks.push(block);
  parse.block = block;
  parse.baseIndent = -1;
  parse.inRebar = false;
  parse.blockClosed = false;
  parse.blockEnd = { text: raw.trim(), lineNo: header.line, raw };
}

function readBlockLine(parse: VvvParse, raw: string, lineNo: number): void {
  const block = parse.block;
  if (!block) return;
  if (raw.trim() === "") {
    parse.blockClosed = true;
    return;
  }
  const indent = raw.length - raw.trimStart().length;
  if (indent === 0) {
    parse.block = undefined; // text that is not part of a block
    parse.blockClosed = true;
    return;
  }
  if (parse.baseIndent < 0) parse.baseIndent = indent;
  block.bodyLines++;
  const line: VvvLine = { text: raw.trim(), lineNo, raw };
  parse.blockEnd = line;
  const top = indent === parse.baseIndent;
  if (top) parse.inRebar = /^Capabilities: .*Resizable BAR/.test(line.text) && !/Virtual Resizable BAR/.test(line.text);
  const reader = readersFor(parse, top).find((r) => line.text.startsWith(r.starts));
  reader?.read(parse, block, line);
}

function readersFor(parse: VvvParse, top: boolean): readonly LineReader[] {
  return top ? TOP_LINE_READERS : parse.inRebar ? REBAR_LINE_READERS : CAPABILITY_LINE_READERS;
}

/**
 * The last line of a file that does not end with a newline: the dump may have been cut inside it.
 * A cut inside a line the model reads (or a block header) could have changed a value, so it is
 * refused; a cut inside a line the model ignores is accepted (the caller warns).
 */
function endsMidLine(parse: VvvParse, raw: string, lineNo: number): VvvDump {
  const line: VvvLine = { text: raw.trim(), lineNo, raw };
  const fix = "the dump looks cut; save the whole `{ lspci -tv; sudo lspci -vvv; }` output again";
  const indent = raw.length - raw.trimStart().length;
  if (indent === 0 && /^[0-9a-fA-F]/.test(raw)) refuseLine(parse, line, `the file ends inside the header line of a block: ${fix}`);
  if (indent > 0 && parse.block) {
    const top = parse.baseIndent < 0 || indent <= parse.baseIndent;
    const read = readersFor(parse, top).some((r) => line.text.startsWith(r.starts) || r.starts.startsWith(line.text));
    if (read) refuseLine(parse, line, `the file ends inside this line, which the importer reads (a value on it may be cut): ${fix}`);
  }
  return { blocks: parse.blocks, ending: { kind: "cutLine", line: lineNo, text: line.text } };
}

