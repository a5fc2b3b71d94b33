// Models: `p2pdma-lab topo FILE` input recognition (DESIGN §4): the kit's JSON, an `lspci -tv`
// dump optionally followed by `lspci -vvv` blocks, or an hwloc XML export, told apart by content.
// A scenario file given where a topology is expected is named as one, with the command to run it.
// Leaves out: validation of the kit JSON's shape (fabric/schema.ts `Topology.parse` does that).
import { InputError } from "../../units/input-error.js";
import { checkJsonSyntax } from "./json-syntax.js";
import { parseLspciText } from "./lspci.js";
import { parseHwlocXml } from "./hwloc.js";
import { ACCEPTED_FORMATS, type TopologyFormat } from "./formats.js";
import type { ImportOptions } from "./warnings.js";

/** Deepest JSON nesting accepted: a kit topology nests 5 levels (root, nodes, node, bars, bar). */
export const MAX_JSON_DEPTH = 64;

/**
 * Decodes a file's bytes as UTF-8 and parses it with `parseTopologyText`. Invalid UTF-8 is an
 * InputError naming the byte offset (a binary file is refused before any parsing).
 */
export function parseTopologyBytes(bytes: Uint8Array, source: string, options: ImportOptions = {}): unknown {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new InputError("file", `${bytes.length} bytes`, `not UTF-8 text (${firstInvalidUtf8(bytes)})`, source);
  }
  return parseTopologyText(text, source, options);
}

/**
 * Recognises the format of `text` and returns a plain object for `Topology.parse`: the kit JSON
 * as parsed (not validated here), or what the lspci / hwloc importer builds. Anything else
 * throws InputError naming `source` and the problem; input read with a workaround is reported
 * through `options.onWarning`.
 */
export function parseTopologyText(text: string, source: string, options: ImportOptions = {}): unknown {
  const format = detectTopologyFormat(text, source);
  const body = stripBom(text);
  if (format === "json") return parseJson(body, source);
  if (format === "hwloc") return parseHwlocXml(body, source, options);
  return parseLspciText(body, source, options);
}

/** Which importer `text` is for; throws InputError for binary, empty or unrecognised input. */
export function detectTopologyFormat(text: string, source: string): TopologyFormat {
  const nul = text.indexOf("\u0000");
  if (nul >= 0) throw new InputError("file", `NUL at offset ${nul}`, "binary data, not a topology text", source);
  const bad = text.indexOf("\uFFFD");
  if (bad >= 0) {
    throw new InputError("file", `U+FFFD at offset ${bad}`, "not UTF-8 text (invalid byte sequence decoded as U+FFFD)", source);
  }
  const body = stripBom(text);
  const start = firstNonSpace(body);
  if (start < 0) throw new InputError("file", "", "empty: no topology in it", source);
  const c = body[start];
  const firstLine = body.slice(start, lineEnd(body, start));
  // `lspci -tv` starts with the tree art of the first root bus: "-[0000:00]-+-", "-+-[0000:00]-+-",
  // "-[00]-+-" (no domain), or "[0000:00]-+-" as some copies print it.
  if (/^(?:[-+\\|][-+\\| ]*)?\[(?:[0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}\]-/.test(firstLine)) return "lspci";
  if (c === "{" || c === "[") return "json";
  if (c === "<") return "hwloc";
  if (/^(?:[0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}:[0-1][0-9a-fA-F]\.[0-7] [^:]+:/.test(firstLine)) {
    throw new InputError(
      "file",
      firstLine.slice(0, 60),
      "lspci -vvv output without the `lspci -tv` tree before it (save `{ lspci -tv; sudo lspci -vvv; }` and give that file)",
      source,
    );
  }
  throw new InputError(
    "file",
    firstLine.slice(0, 60),
    `not a recognised topology format (${ACCEPTED_FORMATS})`,
    source,
  );
}

function parseJson(text: string, source: string): unknown {
  const problem = checkJsonSyntax(text, MAX_JSON_DEPTH);
  if (problem) {
    throw new InputError(`line ${problem.line} column ${problem.column}`, lineText(text, problem.line), `JSON syntax error: ${problem.problem}`, source);
  }
  const value = JSON.parse(text) as unknown;
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    const what = value === null ? "null" : Array.isArray(value) ? "an array" : `a ${typeof value}`;
    throw new InputError("file", text.trim().slice(0, 40), `JSON holds ${what}, not a topology object (${ACCEPTED_FORMATS})`, source);
  }
  if (Array.isArray((value as { steps?: unknown }).steps) && !("nodes" in value)) {
    throw new InputError("file", source, `is a scenario file (it has \`steps\`), not a topology: run it with \`p2pdma-lab run ${source}\``, source);
  }
  return value;
}

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

function firstNonSpace(text: string): number {
  const m = /\S/.exec(text);
  return m ? m.index : -1;
}

function lineEnd(text: string, from: number): number {
  const e = text.indexOf("\n", from);
  return e < 0 ? text.length : e;
}

function lineText(text: string, line: number): string {
  let at = 0;
  for (let l = 1; l < line; l++) at = lineEnd(text, at) + 1;
  return text.slice(at, lineEnd(text, at)).trim();
}

function firstInvalidUtf8(bytes: Uint8Array): string {
  // Finds the first byte that does not start or continue a valid UTF-8 sequence.
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i];
    const len = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    if (len === 0) return `byte 0x${b.toString(16)} at offset ${i}`;
    for (let k = 1; k < len; k++) {
      if (i + k >= bytes.length || (bytes[i + k] & 0xc0) !== 0x80) return `truncated sequence at offset ${i}`;
    }
    i += len;
  }
  return "invalid sequence";
}
