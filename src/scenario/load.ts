// Models: the edge where a run's inputs are read, once: a scenario file (guarded as `topo` guards
// its input: size, UTF-8, JSON syntax with line and column, nesting depth), the topology it names
// (a builtin name, a file relative to the scenario, or an inline object) and the calibration it
// names (a builtin name in data/calibration/, or a path relative to the scenario file), with the
// scenario's topology overlay applied (fabric/overlay.ts), turned into the plain RunInput that
// run.ts takes. A file meant for another command says so.
// Leaves out: standard input and URLs.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { threadId } from "node:worker_threads";
import { buildFabric } from "../fabric/build.js";
import { BUILTIN_TOPOLOGY_NAMES, builtinTopologyInput } from "../fabric/builtin.js";
import { checkJsonSyntax } from "../fabric/import/json-syntax.js";
import { detectTopologyFormat, MAX_JSON_DEPTH } from "../fabric/import/detect.js";
import { readOverlayFile, readTopologyFile } from "../fabric/load.js";
import { applyOverlay } from "../fabric/overlay.js";
import type { Fabric } from "../fabric/types.js";
import { mergeCalibration, parseCalibration, parsePlatform, type Calibration, type CalibrationFileSpec, type PlatformSpec } from "../sim/calibration.js";
import { InputError } from "../units/input-error.js";
import { parseScenario } from "./parse.js";
import type { RunInput } from "./run.js";
import type { P2pDriver } from "../drivers/api.js";
import { BUILTIN_DRIVERS, isDriverModulePath } from "../drivers/builtin/index.js";

/** Largest scenario or calibration file read (a scenario with inline topology is a few hundred KiB). */
export const MAX_INPUT_BYTES = 64 * 1024 * 1024;

const CALIBRATION_DIR = fileURLToPath(new URL("../../data/calibration/", import.meta.url));

/** The names of the builtin calibrations (data/calibration/*.json). */
export function calibrationNames(): string[] {
  return readdirSync(CALIBRATION_DIR).filter((f) => f.endsWith(".json")).map((f) => f.slice(0, -5)).sort();
}

/** Reads a file's text: missing, unreadable, too large, binary or non-UTF-8 is an InputError naming it. */
function readText(path: string, what: string): string {
  let size: number;
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw new InputError("file", path, "is a directory");
    size = st.size;
  } catch (e) {
    if (e instanceof InputError) throw e;
    const code = (e as NodeJS.ErrnoException).code ?? "error";
    throw new InputError("file", path, code === "ENOENT" ? "no such file" : `cannot be read (${code})`);
  }
  if (size > MAX_INPUT_BYTES) throw new InputError("file", path, `is ${size} bytes; a ${what} is at most ${MAX_INPUT_BYTES} bytes`);
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new InputError("file", path, `cannot be read (${(e as NodeJS.ErrnoException).code ?? "error"})`);
  }
  if (bytes.includes(0)) throw new InputError("file", path, `is binary, not a JSON ${what}`, path);
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new InputError("file", path, "is not UTF-8 text", path);
  }
}

/** Parses JSON text after a syntax and depth check that names line and column. */
function parseJsonText(text: string, source: string, what: string): unknown {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const problem = checkJsonSyntax(body, MAX_JSON_DEPTH);
  if (problem) {
    const line = body.split("\n", problem.line)[problem.line - 1] ?? "";
    if (problem.line === 1 && problem.column === 1) notJson(body, source, what);
    const truncated = /end of input|unterminated/.test(problem.problem) ? " (truncated JSON: the file ends inside a value)" : "";
    throw new InputError(`line ${problem.line} column ${problem.column}`, line.trim().slice(0, 60), `JSON syntax error: ${problem.problem}${truncated}`, source);
  }
  return JSON.parse(body) as unknown;
}

/** A text that is not JSON at all: an lspci dump or hwloc XML is for `topo`. */
function notJson(text: string, source: string, what: string): never {
  let format: string | undefined;
  try {
    format = detectTopologyFormat(text, source);
  } catch {
    format = undefined;
  }
  if (format === "lspci" || format === "hwloc") {
    throw new InputError("file", source, `is ${format === "lspci" ? "an lspci dump" : "an hwloc XML export"}, not a ${what}: show the machine with \`p2pdma-lab topo ${source}\`, or name it as a scenario's "topology"`);
  }
  throw new InputError("file", source, `is not JSON; a ${what} is a JSON object`);
}

/** Reads a JSON file of the kit (a sweep file, a sweep's output) with the guards a scenario file gets. */
export function readJsonFile(path: string, what: string): unknown {
  return parseJsonText(readText(path, what), path, what);
}

/** Reads and checks a scenario file and everything it names. */
export function loadScenarioFile(path: string): RunInput {
  const json = parseJsonText(readText(path, "scenario"), path, "scenario");
  if (json !== null && typeof json === "object" && !Array.isArray(json) && "nodes" in json && !("steps" in json)) {
    throw new InputError("file", path, `is a topology, not a scenario: show it with \`p2pdma-lab topo ${path}\`, or name it in a scenario's "topology"`);
  }
  return loadScenario(json, { baseDir: dirname(resolve(path)), source: path });
}

export interface LoadOptions {
  /** Where relative paths in the scenario start (default: the current directory). */
  baseDir?: string;
  /** The name errors give the scenario (a file path, or "scenario"). */
  source?: string;
}

/** Checks a scenario object and loads what it names: its topology and calibration. */
export function loadScenario(scenario: unknown, opts: LoadOptions = {}): RunInput {
  const source = opts.source ?? "scenario";
  const spec = parseScenario(scenario, source);
  const baseDir = opts.baseDir ?? process.cwd();
  const topology = resolveTopology(spec.topology, baseDir, source, spec.topologyOverlay);
  return { scenario: spec, topology, calibration: loadCalibration(spec.calibration, { baseDir, source }) };
}

/** Where a scenario's `topology` comes from: an inline object, a file, or a builtin name. */
export type TopologySource = { inline: Record<string, unknown> } | { file: string } | { builtin: string };

/** Finds a scenario's `topology`: an inline object, a file relative to `baseDir`, or a builtin name (in that order). */
export function locateTopology(topology: string | Record<string, unknown>, baseDir: string, source = "scenario"): TopologySource {
  if (typeof topology !== "string") return { inline: topology };
  const path = resolve(baseDir, topology);
  if (existsSync(path)) return { file: path };
  if (BUILTIN_TOPOLOGY_NAMES.includes(topology)) return { builtin: topology };
  const looksLikePath = /[/\\.]/.test(topology);
  throw new InputError("topology", topology,
    `${looksLikePath ? `no such file ${path}` : `not a builtin topology, and no file ${path}`} (builtin topologies: ${BUILTIN_TOPOLOGY_NAMES.join(", ")})`, source);
}

/**
 * A scenario's `topology`: an inline object, a builtin name, or a file relative to `baseDir`; with
 * `overlay` (an overlay object, or the path of an overlay file relative to `baseDir`) applied
 * before the fabric is built (fabric/overlay.ts).
 */
export function resolveTopology(topology: string | Record<string, unknown>, baseDir: string, source = "scenario", overlay?: unknown): Fabric {
  const [input, where] = overlaidTopology(topology, baseDir, source, overlay);
  return buildFabric(input, where);
}

/** The topology object a scenario names with its overlay applied (not yet built), and the name its errors give it. */
export function overlaidTopology(topology: string | Record<string, unknown>, baseDir: string, source = "scenario", overlay?: unknown): [unknown, string] {
  const [input, where] = topologyInput(locateTopology(topology, baseDir, source), source);
  if (overlay === undefined) return [input, where];
  const [patch, patchSource] = typeof overlay === "string" ? [readOverlayFile(resolve(baseDir, overlay)), resolve(baseDir, overlay)] : [overlay, `${source}: topologyOverlay`];
  return [applyOverlay(input, patch, patchSource, where), where];
}

/** The topology object a located `topology` holds, and the name its errors give it. */
function topologyInput(found: TopologySource, source: string): [unknown, string] {
  if ("inline" in found) return [found.inline, `${source}: topology`];
  if ("file" in found) return [readTopologyFile(found.file), found.file];
  return [builtinTopologyInput(found.builtin), `builtin:${found.builtin}`];
}

/**
 * A calibration: undefined is "default"; a name (no "/" and no ".json") is a builtin of
 * data/calibration/; anything else is a path relative to `baseDir`. Overlaid on default.json; it
 * carries the platform profiles, of which the cost model applies the one the machine matches.
 */
export function loadCalibration(nameOrPath?: string, opts: LoadOptions = {}): Calibration {
  const base = builtinCalibrationFile("default");
  const platforms = platformProfiles();
  if (nameOrPath === undefined || nameOrPath === "default") return mergeCalibration(base, undefined, platforms);
  const isPath = nameOrPath.endsWith(".json") || /[/\\]/.test(nameOrPath);
  if (!isPath) return mergeCalibration(base, builtinCalibrationFile(nameOrPath, opts.source), platforms);
  const path = resolve(opts.baseDir ?? process.cwd(), nameOrPath);
  if (!existsSync(path)) throw new InputError("calibration", nameOrPath, `no such file ${path}`, opts.source);
  return mergeCalibration(base, parseCalibration(parseJsonText(readText(path, "calibration"), path, "calibration"), path), platforms);
}

/** The platform profiles of data/calibration/platforms/ (the cost model picks one per machine). */
export function platformProfiles(): PlatformSpec[] {
  const dir = `${CALIBRATION_DIR}platforms/`;
  return readdirSync(dir).filter((f) => f.endsWith(".json")).sort()
    .map((f) => parsePlatform(parseJsonText(readText(`${dir}${f}`, "platform profile"), `${dir}${f}`, "platform profile"), `${dir}${f}`));
}

function builtinCalibrationFile(name: string, source?: string): CalibrationFileSpec {
  const names = calibrationNames();
  if (!names.includes(name)) {
    throw new InputError("calibration", name, `not a builtin calibration (builtin: ${names.join(", ")}); a file is named by a path ending in .json`, source);
  }
  const path = `${CALIBRATION_DIR}${name}.json`;
  return parseCalibration(parseJsonText(readText(path, "calibration"), path, "calibration"), path);
}

/**
 * Loads the driver modules a scenario's `drivers` names (paths relative to `baseDir`): an ES module
 * whose default export, or export `driver`, is a P2pDriver. A `.ts` module is compiled with the
 * TypeScript compiler when it is installed. Builtin names are left to the run.
 */
export async function loadDriverModules(input: RunInput, baseDir = process.cwd()): Promise<RunInput> {
  const spec = input.scenario as { drivers?: Record<string, string> };
  const drivers: Record<string, P2pDriver> = { ...(input.drivers ?? {}) };
  for (const [device, name] of Object.entries(spec.drivers ?? {})) {
    if (!isDriverModulePath(name) || drivers[device]) continue;
    drivers[device] = await importDriver(resolve(baseDir, name), `drivers.${device}`);
  }
  return { ...input, drivers };
}

/** A driver by builtin name or module path (relative to `baseDir`); bad names are InputErrors on `field`. */
export async function loadDriver(ref: string, field: string, baseDir = process.cwd()): Promise<P2pDriver> {
  if (isDriverModulePath(ref)) return importDriver(resolve(baseDir, ref), field);
  const driver = BUILTIN_DRIVERS.get(ref);
  if (!driver) throw new InputError(field, ref, `not a builtin driver (builtin: ${[...BUILTIN_DRIVERS.keys()].join(", ")}); a module is named by its path`);
  return driver;
}

async function importDriver(path: string, field: string): Promise<P2pDriver> {
  if (!existsSync(path)) throw new InputError(field, path, "no such driver module");
  const url = path.endsWith(".ts") ? await compiledTypeScript(path, field) : pathToFileURL(path).href;
  let mod: Record<string, unknown>;
  try {
    mod = (await import(url)) as Record<string, unknown>;
  } catch (e) {
    throw new InputError(field, path, `the driver module cannot be loaded: ${(e as Error).message}`);
  }
  const driver = (mod.default ?? mod.driver) as Partial<P2pDriver> | undefined;
  if (!driver || typeof driver.create !== "function" || typeof driver.name !== "string") {
    throw new InputError(field, path, "the module exports no driver (a default export, or `driver`, with `name` and `create(k, dev)`)");
  }
  return driver as P2pDriver;
}

/** A `.ts` driver compiled to an ES module next to it in node_modules/.cache (so it imports "p2pdma-lab" as the source does). */
async function compiledTypeScript(path: string, field: string): Promise<string> {
  let ts: typeof import("typescript");
  try {
    ts = (await import("typescript")).default;
  } catch {
    throw new InputError(field, path, "a .ts driver needs the typescript package (npm install typescript), or compile it to .js");
  }
  const out = ts.transpileModule(readText(path, "driver module"), {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 }, fileName: path,
  });
  const nearest = findNodeModules(dirname(path));
  const cacheDir = nearest ? join(nearest, ".cache", "p2pdma-lab") : join(dirname(path), ".p2pdma-lab-cache");
  mkdirSync(cacheDir, { recursive: true });
  const file = join(cacheDir, `${basename(path, ".ts")}-${createHash("sha256").update(path).digest("hex").slice(0, 12)}.mjs`);
  // Written aside and renamed: explorer workers compile the same driver at once, and a reader must
  // never see a half-written module.
  const part = `${file}.${process.pid}.${threadId}.part`;
  writeFileSync(part, out.outputText);
  renameSync(part, file);
  return `${pathToFileURL(file).href}?v=${Date.now()}`;
}

function findNodeModules(from: string): string | null {
  for (let d = from; ; d = dirname(d)) {
    const nm = join(d, "node_modules");
    if (existsSync(nm)) return nm;
    if (dirname(d) === d) return null;
  }
}
