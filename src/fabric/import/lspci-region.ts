// Models: one `Region N:` line of `lspci -vvv`, as pciutils lspci.c show_bases prints it:
// "Region 1: [virtual] Memory at 20000000000 (64-bit, prefetchable) [disabled] [size=32G]", the
// address in hex or <unassigned>/<ignored>/<broken-64-bit-slot>/<invalid-64bit-slot>, the type
// 32-bit/64-bit/low-1M/type 3, then the flags [virtual] [disabled] [enhanced] and the size. Every
// part must be there and nothing else, so a line cut anywhere is told apart from a whole one.
// Leaves out: what the BAR means for the topology (lspci-vvv.ts decides), I/O port BARs (kind "io").
import { parseQuantity } from "../../units/size.js";

export type MemoryType = "32-bit" | "64-bit" | "low-1M" | "type 3";

export interface MemoryRegion {
  kind: "memory";
  index: number;
  /** Hex digits as printed, or lspci's <...> word for a BAR without an address. */
  address: string;
  type: MemoryType;
  prefetchable: boolean;
  /** Bytes; undefined when lspci printed no size (it could not read one). */
  size?: number;
}

export type RegionLine = MemoryRegion | { kind: "io"; index: number } | { kind: "bad"; reason: string };

const HEAD_RE = /^Region (\d): (?:\[virtual\] )?/y;
const MEMORY_RE = /Memory at (<[a-z0-9-]+>|[0-9a-fA-F]+) \((32-bit|64-bit|low-1M|type 3), (non-)?prefetchable\)/y;
const FLAG_RE = / \[(?:virtual|disabled|enhanced|size=([0-9]+[KMGT]?))\]/y;

/** Parses the trimmed text of a line that starts with "Region ". Linear in the line's length. */
export function parseRegionLine(text: string): RegionLine {
  HEAD_RE.lastIndex = 0;
  const head = HEAD_RE.exec(text);
  if (!head) return { kind: "bad", reason: "expected `Region N: `" };
  const index = Number(head[1]);
  if (text.startsWith("I/O ports at ", HEAD_RE.lastIndex)) return { kind: "io", index };
  MEMORY_RE.lastIndex = HEAD_RE.lastIndex;
  const memory = MEMORY_RE.exec(text);
  if (!memory) return { kind: "bad", reason: "expected `Memory at ADDRESS (TYPE, [non-]prefetchable)`" };
  let at = MEMORY_RE.lastIndex;
  let sizeText: string | undefined;
  while (at < text.length) {
    FLAG_RE.lastIndex = at;
    const flag = FLAG_RE.exec(text);
    if (!flag) return { kind: "bad", reason: `unexpected text after the BAR type: ${JSON.stringify(text.slice(at, at + 20))}` };
    if (flag[1] !== undefined) sizeText = flag[1];
    at = FLAG_RE.lastIndex;
  }
  const size = sizeText === undefined ? undefined : parseQuantity(sizeText);
  if (sizeText !== undefined && size === undefined) return { kind: "bad", reason: `BAR size ${sizeText} not understood` };
  return { kind: "memory", index, address: memory[1], type: memory[2] as MemoryType, prefetchable: memory[3] === undefined, size };
}
