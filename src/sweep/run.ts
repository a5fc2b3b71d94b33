// Models: running a sweep's points, all of them or one shard's (`K/N`: the points whose index is
// K-1 modulo N, so every shard gets a share of each part of the grid), in a pool of worker threads
// (tinypool; default one per core) or, with `workers: 0`, in the calling thread. Rows are keyed by
// point index and sorted by it, so they are the same whatever the workers or shards. Progress is
// reported as each point finishes.
// Leaves out: reading inputs (plan.ts), output formats (output.ts), progress displays (progress.ts).
import { availableParallelism } from "node:os";
import Tinypool from "tinypool";
import { InputError } from "../units/input-error.js";
import { InternalError } from "../units/internal-error.js";
import { pointValues } from "./grid.js";
import { pointTask, type SweepPlan } from "./plan.js";
import { pointRunner, type PointOutcome } from "./point.js";
import type { SweepInput } from "./spec.js";

/** What every row has: the point's index and its verdict (`error` says why it did not pass, else null). */
export interface SweepRowBase {
  index: number;
  ok: boolean;
  error: string | null;
}

/** One point's row: its index, its grid values and metric cells by column, its verdict. */
export type SweepRow = SweepRowBase & { [column: string]: unknown };

/** The row of a sweep written as `S`: each grid name with the type of its values, each metric unknown. */
export type RowOf<S extends SweepInput> = SweepRowBase
  & { [K in keyof S["grid"]]: S["grid"][K] extends readonly (infer V)[] ? V : unknown }
  & { [K in keyof S["metrics"]]: unknown };

/** A sweep's rows (all points, or one shard's) with what identifies the sweep. */
export interface SweepResult<R = SweepRow> {
  /** The sweep's hash: shards merge only with shards of the same sweep. */
  sweep: string;
  /** Points in the whole sweep. */
  points: number;
  /** "K/N" when these are one shard's rows. */
  shard?: string;
  columns: string[];
  rows: R[];
}

export interface SweepProgress {
  /** Points finished, of `total` (this shard's points). */
  done: number;
  total: number;
  /** Finished points that did not pass. */
  failed: number;
  /** The point that just finished. */
  row: SweepRow;
  elapsedMs: number;
}

export interface SweepOptions {
  /** Worker threads (default: one per core); 0 runs the points in the calling thread. */
  workers?: number;
  /** Run only shard K of N ("2/4", or { k: 2, n: 4 }): the points whose index % N == K-1. */
  shard?: string | { k: number; n: number };
  /** Called as each point finishes. */
  onProgress?: (p: SweepProgress) => void;
}

/** In the calling thread, how often the run gives the event loop a turn (progress bars draw then), ms. */
const YIELD_MS = 50;

/** Tasks kept in flight per worker: enough to keep each busy, few enough to hold little in memory. */
const IN_FLIGHT_PER_WORKER = 4;

/** "K/N" as numbers, 1 ≤ K ≤ N. */
export function parseShard(shard: string | { k: number; n: number }): { k: number; n: number } {
  const m = typeof shard === "string" ? /^(\d+)\/(\d+)$/.exec(shard.trim()) : null;
  const s = typeof shard === "string" ? (m ? { k: Number(m[1]), n: Number(m[2]) } : undefined) : shard;
  if (!s || !Number.isSafeInteger(s.k) || !Number.isSafeInteger(s.n) || s.n < 1 || s.k < 1 || s.k > s.n) {
    throw new InputError("--shard", typeof shard === "string" ? shard : `${shard.k}/${shard.n}`, "a shard is K/N with 1 <= K <= N (shard 1/4 runs points 0, 4, 8, ...)");
  }
  return s;
}

function workerCount(workers: number | undefined): number {
  if (workers === undefined) return availableParallelism();
  if (!Number.isSafeInteger(workers) || workers < 0) throw new InputError("--workers", workers, "the number of worker threads is a whole number >= 0 (0: run in this thread)");
  return workers;
}

/** Runs the plan's points (or one shard's) and returns their rows in point order. */
export async function runSweep(plan: SweepPlan, opts: SweepOptions = {}): Promise<SweepResult> {
  const workers = workerCount(opts.workers);
  const shard = opts.shard === undefined ? undefined : parseShard(opts.shard);
  const indices: number[] = [];
  for (let i = shard ? shard.k - 1 : 0; i < plan.grid.points; i += shard ? shard.n : 1) indices.push(i);
  const rows = new Array<SweepRow>(indices.length);
  const started = Date.now();
  let done = 0;
  let failed = 0;
  const collect = (o: PointOutcome, slot: number) => {
    const row = rowOf(plan, o);
    rows[slot] = row;
    done++;
    if (!row.ok) failed++;
    opts.onProgress?.({ done, total: indices.length, failed, row, elapsedMs: Date.now() - started });
  };

  if (workers === 0) {
    const run = pointRunner(plan.env);
    let yielded = Date.now();
    for (const [slot, index] of indices.entries()) {
      collect(run(pointTask(plan, index)), slot);
      if (Date.now() - yielded >= YIELD_MS) {
        await new Promise((done) => setImmediate(done)); // let a progress display draw
        yielded = Date.now();
      }
    }
  } else if (indices.length > 0) {
    const pool = new Tinypool({
      filename: new URL("./worker.js", import.meta.url).href,
      minThreads: Math.min(workers, indices.length), maxThreads: workers,
      workerData: plan.env,
    });
    let next = 0;
    const feed = async () => {
      while (next < indices.length) {
        const slot = next++;
        const index = indices[slot];
        try {
          collect(await pool.run(pointTask(plan, index)) as PointOutcome, slot);
        } catch (e) {
          throw new InternalError(`sweep point ${index}: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.min(indices.length, workers * IN_FLIGHT_PER_WORKER) }, feed));
    } finally {
      await pool.destroy();
    }
  }
  const result: SweepResult = { sweep: plan.hash, points: plan.grid.points, columns: plan.columns, rows };
  if (shard) result.shard = `${shard.k}/${shard.n}`;
  return result;
}

/** A point's row, its fields in column order. */
function rowOf(plan: SweepPlan, o: PointOutcome): SweepRow {
  const row: Record<string, unknown> = { index: o.index, ...pointValues(plan.grid, o.index) };
  plan.env.metrics.forEach((m, k) => (row[m.column] = o.cells[k]));
  row.ok = o.ok;
  row.error = o.error;
  return row as SweepRow;
}
