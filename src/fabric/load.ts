// Models: reading a topology file from disk: the bytes, format recognition and import
// (import/detect.ts: kit JSON, lspci text or hwloc XML), then buildFabric. Warnings about input
// read with a workaround (import/warnings.ts) go to `options.onWarning`, assumptions about devices to
// `options.onNote`; `p2pdma-lab topo` prints them. Names come from the system's pci.ids unless
// `options.pciIds` says otherwise (null: none).
// An overlay file (fabric/overlay.ts) is read here too.
// Leaves out: standard input and URLs.
import { readFileSync } from "node:fs";
import { InputError } from "../units/input-error.js";
import { buildFabric } from "./build.js";
import { MAX_JSON_DEPTH, parseTopologyBytes } from "./import/detect.js";
import { checkJsonSyntax } from "./import/json-syntax.js";
import type { ImportOptions } from "./import/warnings.js";
import type { Fabric } from "./types.js";
import { systemPciIds } from "./pci-ids-file.js";

/** The topology object in `path` (not yet validated); a missing/unreadable file is an InputError. */
export function readTopologyFile(path: string, options: ImportOptions = {}): unknown {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? "error";
    const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory" : `cannot be read (${code})`;
    throw new InputError("file", path, why);
  }
  return parseTopologyBytes(bytes, path, options.pciIds === undefined ? { ...options, pciIds: systemPciIds() } : options);
}

/** Reads, imports and builds the topology in `path`; errors name the file, field and value. */
export function loadTopologyFile(path: string, options: ImportOptions = {}): Fabric {
  return buildFabric(readTopologyFile(path, options), path);
}

/** The JSON object in an overlay file; unreadable, not JSON, or not an object is an InputError naming the file. */
export function readOverlayFile(path: string): unknown {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(readFileSync(path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory" : code ? `cannot be read (${code})` : "is not UTF-8 text";
    throw new InputError("file", path, why);
  }
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const problem = checkJsonSyntax(body, MAX_JSON_DEPTH);
  if (problem) {
    const line = body.split("\n", problem.line)[problem.line - 1] ?? "";
    throw new InputError(`line ${problem.line} column ${problem.column}`, line.trim().slice(0, 60), `JSON syntax error: ${problem.problem}`, path);
  }
  const value = JSON.parse(body) as unknown;
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new InputError("file", path, "an overlay is a JSON object { \"devices\": { \"<id or PCI address>\": { ... } } }", path);
  }
  return value;
}

