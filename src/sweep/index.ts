// Models: the sweep layer's public face: `sweep(spec, { workers, shard, onProgress })` loads a
// sweep (an object or a file path) once and runs its points in worker threads; the parts
// (loading, running, CSV/JSON output, shard merge, progress displays) for callers that want them.
// Leaves out: the command line (cli/sweep.ts).
import { loadSweep, loadSweepFile, type SweepLoadOptions } from "./plan.js";
import { runSweep, type SweepOptions, type SweepResult } from "./run.js";
import type { SweepInput } from "./spec.js";

/** Loads a sweep (an object, or the path of a sweep file) and runs it; bad input throws InputError before anything runs. */
export function sweep(spec: SweepInput | string, opts: SweepOptions & SweepLoadOptions = {}): Promise<SweepResult> {
  const plan = typeof spec === "string" ? loadSweepFile(spec) : loadSweep(spec, opts);
  return runSweep(plan, opts);
}

export { defineSweep, SweepFile, type SweepInput, type SweepSpec } from "./spec.js";
export { loadSweep, loadSweepFile, type SweepLoadOptions, type SweepPlan } from "./plan.js";
export { runSweep, parseShard, type SweepOptions, type SweepProgress, type SweepResult, type SweepRow } from "./run.js";
export { sweepCsv, sweepJson, mergeSweeps } from "./output.js";
export { notebookProgress, terminalProgress } from "./progress.js";
