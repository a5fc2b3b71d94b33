// Models: reading a topology file from disk: the bytes, format recognition and import
// (import/detect.ts: kit JSON, lspci text or hwloc XML), then buildFabric. Warnings about input
// read with a workaround (import/warnings.ts) go to `options.onWarning`; `p2pdma-lab topo` prints
// them on stderr.
// Leaves out: standard input and URLs.
import { readFileSync } from "node:fs";
import { InputError } from "../units/input-error.js";
import { buildFabric } from "./build.js";
import { parseTopologyBytes } from "./import/detect.js";
import type { ImportOptions } from "./import/warnings.js";
import type { Fabric } from "./types.js";

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
  return parseTopologyBytes(bytes, path, options);
}

/** Reads, imports and builds the topology in `path`; errors name the file, field and value. */
export function loadTopologyFile(path: string, options: ImportOptions = {}): Fabric {
  return buildFabric(readTopologyFile(path, options), path);
}
