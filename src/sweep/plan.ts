// Models: the edge where a sweep's inputs are read, once: the sweep file (guarded as a scenario
// file is), the scenario it names, every point checked as a scenario file would be (a bad value in
// the grid is bad input naming the point, the field and the value, before anything runs), and the
// machines and calibrations the points name, each read once into plain tables the workers share.
// The sweep's identity (a hash of everything that decides its rows, and no file paths, so shards
// run on different machines agree) lets shard outputs be merged safely.
// Leaves out: running the points (run.ts).
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { buildFabric } from "../fabric/build.js";
import { loadCalibration, locateTopology, overlaidTopology, readJsonFile } from "../scenario/load.js";
import { parseScenario } from "../scenario/parse.js";
import type { Calibration } from "../sim/calibration.js";
import { InputError } from "../units/input-error.js";
import { inputErrorFromZod } from "../units/zod-input-error.js";
import { checkPlaceholders, gridOf, pointValues, substitute, type Grid, type GridValues } from "./grid.js";
import { checkMetricStep, parseMetric } from "./metrics.js";
import type { PointEnv, PointTask, TopologyRef } from "./point.js";
import { SweepFile, type SweepSpec } from "./spec.js";

/** A checked sweep, ready to run: plain data, nothing left to read. */
export interface SweepPlan {
  /** The name errors give the sweep (its file, or "sweep"). */
  source: string;
  /** sha256 of what decides the rows: the kit's version, scenario, grid, metrics, machines and calibrations. */
  hash: string;
  grid: Grid;
  /** Grid names, then metric columns, then "ok" and "error". */
  columns: string[];
  /** The scenario with its placeholders. */
  template: unknown;
  env: PointEnv;
  /** Per point, its machine and calibration: indices into env.topologies and env.calibrations. */
  keys: Uint32Array;
}

export interface SweepLoadOptions {
  /** Where the sweep's relative paths start (default: the current directory). */
  baseDir?: string;
  /** The name errors give the sweep (a file path, or "sweep"). */
  source?: string;
}

const KIT_VERSION = (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;

/** Reads and checks a sweep file and everything it names. */
export function loadSweepFile(path: string): SweepPlan {
  return loadSweep(readJsonFile(path, "sweep"), { baseDir: dirname(resolve(path)), source: path });
}

/** Checks a sweep object, its scenario and every point, and loads the machines and calibrations they name. */
export function loadSweep(input: unknown, opts: SweepLoadOptions = {}): SweepPlan {
  const source = opts.source ?? "sweep";
  const baseDir = opts.baseDir ?? process.cwd();
  const r = SweepFile.safeParse(input);
  if (!r.success) throw inputErrorFromZod(r.error, input, { root: "(root)", discriminator: "op", source });
  const spec: SweepSpec = r.data;
  const { template, scenarioDir, scenarioSource } = scenarioOf(spec, baseDir, source);
  const grid = gridOf(spec.grid as Record<string, unknown[]>);
  checkPlaceholders(template, grid.names, scenarioSource);
  const metrics = Object.entries(spec.metrics).map(([column, path]) => parseMetric(column, path, `metrics.${column}`, source));
  for (const m of metrics) {
    if (grid.names.includes(m.column)) throw new InputError(`metrics.${m.column}`, m.column, "is also a grid name: a column has one name", source);
  }
  const tables = new Tables(scenarioDir);
  const keys = new Uint32Array(grid.points * 2);
  for (let i = 0; i < grid.points; i++) {
    const values = pointValues(grid, i);
    const where = `${scenarioSource}: point ${i} (${describeValues(values)})`;
    const scenario = parseScenario(substitute(template, values), where);
    metrics.forEach((m) => checkMetricStep(m, scenario.steps.length, `metrics.${m.column}`, source));
    keys[2 * i] = tables.topology(scenario.topology, where, scenario.topologyOverlay);
    keys[2 * i + 1] = tables.calibration(scenario.calibration, where);
  }
  const env: PointEnv = { topologies: tables.topologies, calibrations: tables.calibrations, metrics };
  return {
    source, grid, template, env, keys,
    columns: [...grid.names, ...metrics.map((m) => m.column), "ok", "error"],
    hash: sweepHash(template, spec, env),
  };
}

/** The task of point `index`. */
export function pointTask(plan: SweepPlan, index: number): PointTask {
  const scenario = substitute(plan.template, pointValues(plan.grid, index));
  return { index, scenario, topology: plan.keys[2 * index], calibration: plan.keys[2 * index + 1] };
}

/** "machine=\"gen4\", size=4096" */
export function describeValues(values: GridValues): string {
  return Object.entries(values).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(", ");
}

/** The sweep's scenario object, and where its relative paths start. */
function scenarioOf(spec: SweepSpec, baseDir: string, source: string): { template: unknown; scenarioDir: string; scenarioSource: string } {
  if (typeof spec.scenario !== "string") return { template: spec.scenario, scenarioDir: baseDir, scenarioSource: `${source}: scenario` };
  const path = resolve(baseDir, spec.scenario);
  return { template: readJsonFile(path, "scenario"), scenarioDir: dirname(path), scenarioSource: path };
}

/** The machines and calibrations the points name, each loaded once and numbered in order of first use. */
class Tables {
  readonly topologies: TopologyRef[] = [];
  readonly calibrations: Calibration[] = [];
  private readonly topologyIndex = new Map<string, number>();
  private readonly calibrationIndex = new Map<string, number>();

  constructor(private readonly baseDir: string) {}

  topology(t: string | Record<string, unknown>, where: string, overlay?: unknown): number {
    const found = locateTopology(t, this.baseDir, where);
    const key = JSON.stringify([found, overlay]);
    let k = this.topologyIndex.get(key);
    if (k === undefined) {
      let ref: TopologyRef;
      if ("builtin" in found && overlay === undefined) ref = { builtin: found.builtin };
      else {
        const [spec, source] = overlaidTopology(t, this.baseDir, where, overlay);
        ref = { spec, source };
        buildFabric(spec, source); // bad input is found here, once, not in a worker
      }
      k = this.topologies.push(ref) - 1;
      this.topologyIndex.set(key, k);
    }
    return k;
  }

  calibration(c: string | undefined, where: string): number {
    const key = c === undefined || !(c.endsWith(".json") || /[/\\]/.test(c)) ? `name:${c ?? "default"}` : `file:${resolve(this.baseDir, c)}`;
    let k = this.calibrationIndex.get(key);
    if (k === undefined) {
      k = this.calibrations.push(loadCalibration(c, { baseDir: this.baseDir, source: where })) - 1;
      this.calibrationIndex.set(key, k);
    }
    return k;
  }
}

/** What decides the rows, without file paths: topology `source` fields and file names are left out. */
function sweepHash(template: unknown, spec: SweepSpec, env: PointEnv): string {
  const machines = env.topologies.map((t) => ("builtin" in t ? t.builtin : { ...(t.spec as object), source: undefined }));
  const identity = { kit: KIT_VERSION, scenario: template, grid: spec.grid, metrics: spec.metrics, machines, calibrations: env.calibrations };
  return createHash("sha256").update(JSON.stringify(identity)).digest("hex");
}
