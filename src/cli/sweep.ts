// Models: `p2pdma-lab sweep FILE [--csv F] [--json F] [--workers N] [--shard K/N]` and
// `p2pdma-lab sweep merge A.json B.json ... [--csv F] [--json F]`: loads the sweep (bad input: exit
// 2 before anything runs), runs its points (or one shard's) in worker threads with a progress bar
// on stderr when stderr is a terminal, writes the rows as CSV (to stdout when no file is named)
// and JSON, and says on stderr how many points passed. Exit 0 when every point passed, 1 when one
// did not (its row says why; the outputs are still written). `merge` joins shard JSON outputs into
// the whole sweep's CSV and JSON, after checking they are shards of one sweep covering every point once.
// Leaves out: the sweep itself (src/sweep/).
import { writeFileSync } from "node:fs";
import { readJsonFile } from "../scenario/load.js";
import { loadSweepFile } from "../sweep/plan.js";
import { mergeSweeps, sweepCsv, sweepJson } from "../sweep/output.js";
import { terminalProgress } from "../sweep/progress.js";
import { runSweep, type SweepResult } from "../sweep/run.js";
import { InputError } from "../units/input-error.js";
import { CliIo, EXIT_FAILED, EXIT_OK, processIo } from "./io.js";

export interface SweepOutputOptions {
  csv?: string;
  json?: string;
}

export interface SweepCommandOptions extends SweepOutputOptions {
  workers?: string;
  shard?: string;
}

function parseWorkers(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) throw new InputError("--workers", text, "the number of worker threads is a whole number >= 0 (0: run in this process's thread)");
  return Number(text);
}

export async function sweepCommand(file: string, opts: SweepCommandOptions, io: CliIo): Promise<number> {
  const plan = loadSweepFile(file);
  const workers = parseWorkers(opts.workers);
  const bar = io === processIo && process.stderr.isTTY ? terminalProgress(process.stderr) : undefined;
  const started = Date.now();
  let result: SweepResult;
  try {
    result = await runSweep(plan, { workers, shard: opts.shard, onProgress: bar?.onProgress });
  } finally {
    bar?.stop();
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  const of = result.shard ? `${result.rows.length} of ${result.points} points (shard ${result.shard})` : `${result.points} points`;
  io.err(`p2pdma-lab sweep: ${of} in ${seconds} s: ${summary(result)}\n`);
  for (const column of emptyMetrics(result, plan.env.metrics.map((m) => m.column))) {
    io.err(`p2pdma-lab sweep: warning: metric ${JSON.stringify(column)} is empty in every point that passed: is its path right?\n`);
  }
  return write(result, opts, io);
}

export async function sweepMergeCommand(files: string[], opts: SweepOutputOptions, io: CliIo): Promise<number> {
  const result = mergeSweeps(files.map((f) => readJsonFile(f, "sweep output")), files);
  io.err(`p2pdma-lab sweep merge: ${files.length} shards, ${result.points} points: ${summary(result)}\n`);
  return write(result, opts, io);
}

function summary(r: SweepResult): string {
  const failed = r.rows.filter((row) => !row.ok);
  return `${r.rows.length - failed.length} passed, ${failed.length} failed${failed.length ? ` (first: point ${failed[0].index}: ${failed[0].error})` : ""}`;
}

/** Metric columns with no value in any row that passed. */
function emptyMetrics(r: SweepResult, metrics: string[]): string[] {
  const passed = r.rows.filter((row) => row.ok);
  return passed.length === 0 ? [] : metrics.filter((c) => passed.every((row) => row[c] === null));
}

/** Writes the outputs (CSV to stdout when no file is named); the exit status says whether every point passed. */
function write(r: SweepResult, opts: SweepOutputOptions, io: CliIo): number {
  const targets: [string, string, () => string][] = [];
  if (opts.csv) targets.push(["--csv", opts.csv, () => sweepCsv(r)]);
  if (opts.json) targets.push(["--json", opts.json, () => sweepJson(r)]);
  if (targets.length === 0) io.out(sweepCsv(r));
  for (const [option, path, text] of targets) {
    try {
      writeFileSync(path, text());
    } catch (e) {
      throw new InputError(option, path, `cannot write (${(e as NodeJS.ErrnoException).code ?? "error"})`);
    }
  }
  return r.rows.every((row) => row.ok) ? EXIT_OK : EXIT_FAILED;
}
