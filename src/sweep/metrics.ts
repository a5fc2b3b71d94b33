// Models: a sweep's metric columns: a path into a run's result ("steps.0.result.gbps",
// "steps[0].result.gbps", "counters.faults", "violations.length"), checked against the result's
// top-level fields and the scenario's step count, and read out of each run; a path the run's
// result lacks (its step failed) reads as null, an empty cell.
// Leaves out: what a step's result holds (scenario/results.ts types it; a misspelt field below
// `result` is found only when every point's cell is empty, which the sweep command warns about).
import type { RunResult } from "../scenario/results.js";
import { InputError } from "../units/input-error.js";

const TOP = ["steps", "counters", "violations", "simTimeNs"] as const;

/** A metric column: its name and its path as segments. */
export interface Metric {
  column: string;
  path: string[];
}

/** Parses `path` ("steps[0].result.gbps" or "steps.0.result.gbps"); `field` names it in errors. */
export function parseMetric(column: string, path: string, field: string, source: string): Metric {
  const segments = path.replace(/\[(\d+)\]/g, ".$1").split(".");
  if (segments.some((s) => s === "")) throw new InputError(field, path, "a metric path is names and indices joined by \".\" (\"steps.0.result.gbps\")", source);
  if (!(TOP as readonly string[]).includes(segments[0])) {
    throw new InputError(field, path, `a metric path starts with one of the run result's fields: ${TOP.join(", ")}`, source);
  }
  if (segments[0] === "steps" && segments.length > 1 && segments[1] !== "length" && !/^\d+$/.test(segments[1])) {
    throw new InputError(field, path, "\"steps\" is followed by a step index (\"steps.0.result\")", source);
  }
  return { column, path: segments };
}

/** Checks a metric's step index against a scenario of `steps` steps. */
export function checkMetricStep(m: Metric, steps: number, field: string, source: string): void {
  if (m.path[0] !== "steps" || !/^\d+$/.test(m.path[1] ?? "")) return;
  const i = Number(m.path[1]);
  if (i >= steps) throw new InputError(field, m.path.join("."), `the scenario has ${steps} steps (steps.0 to steps.${steps - 1})`, source);
}

/** The value at the metric's path in `result`, or null where the result has no such field. */
export function readMetric(result: RunResult, m: Metric): unknown {
  let v: unknown = result;
  for (const key of m.path) {
    if (v === null || typeof v !== "object" || !Object.hasOwn(v, key)) return null;
    v = (v as Record<string, unknown>)[key];
  }
  return v === undefined ? null : v;
}
