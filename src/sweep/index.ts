// Models: the sweep layer's public face: `sweep(spec, { workers, shard, onProgress })` loads a
// sweep (an object or a file path) once and runs its points in worker threads; the parts
// (loading, running, CSV/JSON output, shard merge, progress displays) for callers that want them.
// Leaves out: the command line (cli/sweep.ts).
import { loadSweep, loadSweepFile, type SweepLoadOptions } from "./plan.js";
import { runSweep, type RowOf, type SweepOptions, type SweepResult, type SweepRow } from "./run.js";
import type { SweepInput } from "./spec.js";

/**
 * Loads a sweep (an object, or the path of a sweep file) and runs it; bad input throws InputError
 * before anything runs. A sweep object's rows are typed by its grid and metric names.
 */
export function sweep<S extends SweepInput | string>(
  spec: S, opts: SweepOptions & SweepLoadOptions = {},
): Promise<SweepResult<S extends SweepInput ? RowOf<S> : SweepRow>> {
  const plan = typeof spec === "string" ? loadSweepFile(spec) : loadSweep(spec, opts);
  return runSweep(plan, opts) as Promise<SweepResult<S extends SweepInput ? RowOf<S> : SweepRow>>;
}

export { defineSweep, SweepFile, type SweepInput, type SweepSpec } from "./spec.js";
export { loadSweep, loadSweepFile, type SweepLoadOptions, type SweepPlan } from "./plan.js";
export { runSweep, parseShard, type RowOf, type SweepOptions, type SweepProgress, type SweepResult, type SweepRow, type SweepRowBase } from "./run.js";
export { sweepCsv, sweepJson, mergeSweeps } from "./output.js";
export { notebookProgress, terminalProgress } from "./progress.js";
