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

/**
 * Parses the -vvv blocks in `lines` (numbered from `firstLine`). Lines outside any block and lines
 * of a block that the model does not use are ignored.
 */
export function parseLspciVvv(lines: readonly string[], firstLine: number, source: string): VvvBlock[] {
  const blocks: VvvBlock[] = [];
  let block: VvvBlock | undefined;
  let baseIndent = -1;
  let inRebar = false;
  for (let k = 0; k < lines.length; k++) {
    const raw = lines[k].replace(/\s+$/, "");
    const lineNo = firstLine + k;
    const h = HEADER_RE.exec(raw);
    if (h) {
      const domain = h[1] ? parseInt(h[1], 16) : 0;
      const nameWithIds = h[7];
      const nn = /\s\[([0-9a-fA-F]{4}):([0-9a-fA-F]{4})\]/.exec(nameWithIds);
      block = {
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
      if (blocks.some((b) => b.address === block!.address)) {
        throw new InputError(`line ${lineNo}`, raw.slice(0, 60), `lspci -vvv: a second block for ${block.address}`, source);
      }
      blocks.push(block);
      baseIndent = -1;
      inRebar = false;
      continue;
    }
    if (!block || raw.trim() === "") continue;
    const indent = raw.length - raw.trimStart().length;
    if (indent === 0) {
      block = undefined; // text that is not part of a block
      continue;
    }
    if (baseIndent < 0) baseIndent = indent;
    const text = raw.trim();
    const top = indent === baseIndent;
    if (top) inRebar = /^Capabilities: .*Resizable BAR/.test(text) && !/Virtual Resizable BAR/.test(text);
    if (top) readTopLine(block, text, lineNo, raw);
    else readCapabilityLine(block, text, lineNo, raw, inRebar);
  }
  return blocks;

  function bad(lineNo: number, raw: string, reason: string): never {
    throw new InputError(`line ${lineNo}`, raw.trim().slice(0, 80), `lspci -vvv: ${reason}`, source);
  }

  function readTopLine(b: VvvBlock, text: string, lineNo: number, raw: string): void {
    let m = /^Region (\d): Memory at (\S+) \((32|64)-bit, (non-prefetchable|prefetchable)\)(.*)$/.exec(text);
    if (m) {
      const sizeMatch = /\[size=([0-9]+[KMGT]?)\]/.exec(m[5]);
      if (!sizeMatch) return; // lspci prints no size when it cannot read it; nothing to model
      const size = parseQuantity(sizeMatch[1]);
      if (size === undefined) bad(lineNo, raw, `BAR size ${sizeMatch[1]} not understood`);
      // An <unassigned> or <ignored> BAR is one the kernel left without address space: it claims no
      // addresses and no request can reach it, so it is left out (and counted for the description).
      if (m[2] === "<unassigned>" || m[2] === "<ignored>") {
        b.unassignedBars++;
        return;
      }
      const addr = parseHexAddress(m[2]);
      if (addr === undefined) bad(lineNo, raw, `BAR address ${m[2]} is not hex below 2^53`);
      // `[disabled]` (memory decoding off) and `[virtual]` (kernel-assigned) BARs are kept as assigned.
      b.bars.push({ index: Number(m[1]), addr, size, is64: m[3] === "64", prefetchable: m[4] === "prefetchable" });
      return;
    }
    m = /^NUMA node:\s+(\d+)$/.exec(text);
    if (m) {
      b.numaNode = Number(m[1]);
      return;
    }
    m = /^Capabilities: \[[0-9a-fA-F]+\] Express \(v\d\) (.*)$/.exec(text);
    if (m) {
      const rest = m[1];
      b.expressType = EXPRESS_TYPES.find(([re]) => re.test(rest))?.[1] ?? "other";
      return;
    }
    if (/^Capabilities: \[[0-9a-fA-F]+(?: v\d+)?\] Single Root I\/O Virtualization/.test(text)) {
      b.sriov = true;
      return;
    }
    m = /^(Prefetchable memory|Memory) behind bridge: ([0-9a-fA-F]+)-([0-9a-fA-F]+)(.*)$/.exec(text);
    if (m) {
      if (/\[disabled\]/.test(m[4])) return;
      const base = parseHexAddress(m[2]);
      const end = parseHexAddress(m[3]);
      if (base === undefined || end === undefined || end < base) bad(lineNo, raw, "bridge window not understood");
      const window = { base, size: end - base + 1 };
      if (m[1] === "Memory") b.windows.mem = window;
      else b.windows.prefetch = window;
    }
  }

  function readCapabilityLine(b: VvvBlock, text: string, lineNo: number, raw: string, rebar: boolean): void {
    let m = /^LnkSta:\s+Speed ([0-9.]+)GT\/s[^,]*, Width x(\d+)/.exec(text);
    if (m) {
      const gen = genOfSpeed(Number(m[1]));
      const width = Number(m[2]);
      // A link that is down reads "Speed unknown" or width x0; that leaves the link unknown.
      if (gen !== undefined && isLinkWidth(width)) b.link = { gen, width };
      return;
    }
    m = /^ACS(Cap|Ctl):\s+(.*)$/.exec(text);
    if (m) {
      const flags: AcsFlagName[] = [];
      for (const [, flag, sign] of m[2].matchAll(/(\w+)([+-])/g)) {
        const short = ACS_NAMES[flag];
        if (short && sign === "+") flags.push(short);
      }
      if (m[1] === "Cap") b.acsCap = flags;
      else b.acsCtl = flags;
      return;
    }
    if (rebar) {
      m = /^BAR (\d):\s+current size:\s+(\w+),\s+supported:\s+(.*)$/.exec(text);
      if (m) {
        const sizes = m[3].trim().split(/\s+/).map((s) => parseQuantity(s));
        if (sizes.some((s) => s === undefined)) bad(lineNo, raw, "resizable BAR sizes not understood");
        b.resizable.set(Number(m[1]), sizes as number[]);
      }
    }
  }
}

/** A hex address without 0x (lspci prints them so), as a safe integer. */
function parseHexAddress(text: string): number | undefined {
  if (!/^[0-9a-fA-F]+$/.test(text)) return undefined;
  const trimmed = text.replace(/^0+(?=.)/, "");
  if (trimmed.length > 14) return undefined;
  const n = parseInt(trimmed, 16);
  return Number.isSafeInteger(n) ? n : undefined;
}
