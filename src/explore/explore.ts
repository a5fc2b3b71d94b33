// Models: an exploration of a P2P client driver (`explore()`, `p2pdma-lab explore`): its cases cut
// into batches in a fixed order (the systematic cases first, at most half the runs, then random
// batches, each with a seed derived from the exploration's), run in this thread or in a pool of
// worker threads (tinypool, as sweeps are). The reported finding is that of the lowest failing
// batch, and runs and states count the batches up to it, so a seed gives the same report whatever
// the number of workers. A driver given as an object runs in this thread (it cannot be sent to a
// worker); one named by builtin name or module path can run anywhere.
// Leaves out: the cases themselves (explorer.ts, workload.ts) and printing (cli/explore.ts).
import { availableParallelism } from "node:os";
import { resolve } from "node:path";
import { readOverlayFile } from "../fabric/load.js";
import Tinypool from "tinypool";
import type { P2pDriver } from "../drivers/api.js";
import { isDriverModulePath } from "../drivers/builtin/index.js";
import type { Fabric } from "../fabric/types.js";
import { loadCalibration, loadDriver, locateTopology, overlaidTopology } from "../scenario/load.js";
import type { Calibration } from "../sim/calibration.js";
import { buildTopology, type TopologyRef } from "../sweep/point.js";
import { InputError } from "../units/input-error.js";
import { InternalError } from "../units/internal-error.js";
import { runBatch, type BatchOutcome, type BatchTask } from "./batch.js";
import { Explorer, type ExploreFinding, type ExplorerSetup } from "./explorer.js";

export interface ExploreOptions {
  /** The machine: a builtin name or topology file (any format the kit imports), or one already built. */
  topology: string | Fabric;
  /** An overlay applied to a named machine first (an object, or an overlay file): e.g. a GPU's memory
   *  made device-private (`{ "devices": { "01:00.0": { "zoneDevice": "private" } } }`). */
  overlay?: string | Record<string, unknown>;
  /** A calibration name or file (default: "default"), or one already loaded. */
  calibration?: string | Calibration;
  /** The workload (workload.ts: owners, client, pages, events, maxEvents, windowNs); defaults fill the rest. */
  workload?: unknown;
  /** The driver's device (default: the workload's client, else the first NIC). */
  client?: string;
  /** Runs in all, systematic and random (default 10 000). */
  runs?: number;
  seed?: number;
  /** Worker threads (default: one per core for a driver named by builtin name or module path; 0 for a driver object). */
  workers?: number;
  /** Where relative paths (topology, calibration, driver module) are found (default: the working directory). */
  baseDir?: string;
  /** Called as each batch of runs finishes. */
  onProgress?: (p: ExploreProgress) => void;
}

export interface ExploreProgress {
  runs: number;
  total: number;
  elapsedMs: number;
}

export interface ExploreReport {
  /** The driver as a scenario names it (builtin name, module path, or the object's name). */
  driver: string;
  client: string;
  /** Interleavings explored (runs), of them systematic and random. */
  runs: number;
  systematic: number;
  random: number;
  /** Distinct outcomes (step results and errnos, violation codes, values read) the runs reached. */
  distinctStates: number;
  seconds: number;
  workers: number;
  finding?: ExploreFinding;
}

/** What a worker needs: plain data only. */
export interface WorkerSetup {
  driverRef: string;
  topology: TopologyRef;
  explorer: Omit<ExplorerSetup, "fabric">;
}

/** Runs per batch: small enough to spread over workers and stop soon after a finding. */
const BATCH_RUNS = 250;
/** Batches kept in flight per worker. */
const IN_FLIGHT_PER_WORKER = 2;

/** Explores `driver` (an object, a builtin name or a module path) on a machine under a workload. */
export async function explore(driver: P2pDriver | string, opts: ExploreOptions): Promise<ExploreReport> {
  const started = performance.now();
  const baseDir = opts.baseDir ?? process.cwd();
  const total = opts.runs ?? 10_000;
  if (!Number.isSafeInteger(total) || total < 1) throw new InputError("runs", opts.runs, "the number of runs is a whole number >= 1");
  const seed = opts.seed ?? 1;
  if (!Number.isSafeInteger(seed)) throw new InputError("seed", opts.seed, "the seed is a whole number");
  const driverRef = typeof driver === "string" ? (isDriverModulePath(driver) ? resolve(baseDir, driver) : driver) : driver.name;
  const driverObject = typeof driver === "string" ? await loadDriver(driver, "driver", baseDir) : driver;
  const machine = resolveMachine(opts.topology, baseDir, opts.overlay);
  const calibration = typeof opts.calibration === "object" ? opts.calibration : loadCalibration(opts.calibration, { baseDir, source: "calibration" });
  const common: WorkerSetup["explorer"] = { topologyRef: machine.ref, topologyOverlay: machine.overlay, calibration, driverRef, workload: opts.workload, client: opts.client };
  const ex = new Explorer(driverObject, { ...common, fabric: machine.fabric });
  const systematic = ex.systematicCases();
  const tasks = plan(Math.min(systematic.length, Math.ceil(total / 2)), total, seed);
  const workers = workerCount(opts.workers, typeof driver === "string" && machine.data !== null, tasks.length);

  const outcomes: BatchOutcome[] = [];
  let done = 0;
  const finished = (o: BatchOutcome) => {
    outcomes[o.index] = o;
    done += o.runs;
    opts.onProgress?.({ runs: done, total, elapsedMs: performance.now() - started });
  };
  if (workers === 0) {
    for (const task of tasks) {
      finished(runBatch(ex, systematic, task));
      if (outcomes[task.index].finding) break;
      await new Promise((next) => setImmediate(next)); // let a progress display draw
    }
  } else {
    await inWorkers(tasks, workers, { driverRef, topology: machine.data!, explorer: common }, finished);
  }
  return report(outcomes, tasks, { driver: driverRef, client: ex.devices.client, workers, seconds: (performance.now() - started) / 1000 });
}

/** The batches of an exploration: `sys` systematic cases, then random runs up to `total`. */
function plan(sys: number, total: number, seed: number): BatchTask[] {
  const tasks: BatchTask[] = [];
  for (let from = 0; from < sys; from += BATCH_RUNS) tasks.push({ index: tasks.length, systematic: { from, to: Math.min(sys, from + BATCH_RUNS) } });
  for (let left = total - sys; left > 0; left -= BATCH_RUNS) {
    // Each random batch draws from its own seed, so batches are independent of who runs them.
    tasks.push({ index: tasks.length, random: { seed: (Math.imul(seed, 1_000_003) + tasks.length) | 0, runs: Math.min(left, BATCH_RUNS) } });
  }
  return tasks;
}

/** The machine, with how a printed scenario names it and its plain data for workers (null: built by the caller). */
function resolveMachine(topology: string | Fabric, baseDir: string, overlay: unknown): { fabric: Fabric; ref: string; data: TopologyRef | null; overlay?: unknown } {
  if (typeof topology !== "string") {
    if (overlay !== undefined) throw new InputError("overlay", typeof overlay === "string" ? overlay : "(object)", "an overlay applies to a machine named by builtin name or file, not to one already built");
    return { fabric: topology, ref: topology.name, data: null };
  }
  const where = locateTopology(topology, baseDir, "topology");
  let data: TopologyRef;
  if ("builtin" in where && overlay === undefined) data = { builtin: where.builtin };
  else {
    const [spec, source] = overlaidTopology(topology, baseDir, "topology", overlay);
    data = { spec, source };
  }
  const ref = "file" in where ? where.file : topology;
  // The printed scenario carries the overlay (as an object) so that it replays on the same machine.
  const patch = typeof overlay === "string" ? readOverlayFile(resolve(baseDir, overlay)) : overlay;
  return { fabric: buildTopology(data), ref, data, ...(patch !== undefined ? { overlay: patch } : {}) };
}

function workerCount(workers: number | undefined, portable: boolean, batches: number): number {
  if (workers === undefined) return portable ? Math.min(availableParallelism(), batches) : 0;
  if (!Number.isSafeInteger(workers) || workers < 0) throw new InputError("workers", workers, "the number of worker threads is a whole number >= 0 (0: run in this thread)");
  if (workers > 0 && !portable) {
    throw new InputError("workers", workers, "a driver given as an object, or a machine given built, runs in this thread only (name the driver by builtin name or module path, and the machine by name or file, to use workers)");
  }
  return Math.min(workers, batches);
}

/** Runs the batches in worker threads, in order; stops feeding once a batch has failed. */
async function inWorkers(tasks: BatchTask[], workers: number, setup: WorkerSetup, finished: (o: BatchOutcome) => void): Promise<void> {
  const pool = new Tinypool({ filename: new URL("./worker.js", import.meta.url).href, minThreads: workers, maxThreads: workers, workerData: setup });
  let next = 0;
  let firstFailing = Infinity;
  const feed = async () => {
    while (next < tasks.length && next < firstFailing) {
      const task = tasks[next++];
      let o: BatchOutcome;
      try {
        o = await pool.run(task) as BatchOutcome;
      } catch (e) {
        if (e instanceof Error && e.name === "InputError") throw e;
        throw new InternalError(`explorer batch ${task.index}: ${e instanceof Error ? e.message : String(e)}`);
      }
      finished(o);
      if (o.finding) firstFailing = Math.min(firstFailing, o.index);
    }
  };
  try {
    await Promise.all(Array.from({ length: workers * IN_FLIGHT_PER_WORKER }, feed));
  } finally {
    await pool.destroy();
  }
}

/** The report of the batches up to the first failing one (all when none failed). */
function report(outcomes: BatchOutcome[], tasks: BatchTask[], head: Pick<ExploreReport, "driver" | "client" | "workers" | "seconds">): ExploreReport {
  const failing = outcomes.findIndex((o) => o?.finding !== undefined);
  const upTo = failing < 0 ? tasks.length : failing + 1;
  const states = new Set<string>();
  let systematic = 0;
  let random = 0;
  for (let i = 0; i < upTo; i++) {
    const o = outcomes[i];
    if (!o) throw new InternalError(`explorer: batch ${i} never finished`);
    for (const s of o.states) states.add(s);
    if (tasks[i].systematic) systematic += o.runs;
    else random += o.runs;
  }
  const r: ExploreReport = { ...head, runs: systematic + random, systematic, random, distinctStates: states.size };
  if (failing >= 0) r.finding = outcomes[failing].finding;
  return r;
}
