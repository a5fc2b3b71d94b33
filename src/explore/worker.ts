// Models: an explorer worker thread (run by the tinypool pool in explore.ts): the exploration's
// setup arrives once as workerData (the driver by builtin name or module path, the machine as plain
// data), the driver module is loaded and the systematic cases made on first use, each task is one batch.
// Leaves out: everything but the wiring.
import Tinypool from "tinypool";
import { loadDriver } from "../scenario/load.js";
import { buildTopology } from "../sweep/point.js";
import { runBatch, type BatchOutcome, type BatchTask } from "./batch.js";
import { Explorer } from "./explorer.js";
import type { WorkerSetup } from "./explore.js";
import type { ExploreCase } from "./workload.js";

const setup = Tinypool.workerData as WorkerSetup;
let ready: Promise<{ ex: Explorer; systematic: ExploreCase[] }> | null = null;

async function explorer(): Promise<{ ex: Explorer; systematic: ExploreCase[] }> {
  const driver = await loadDriver(setup.driverRef, "--driver");
  const ex = new Explorer(driver, { ...setup.explorer, fabric: buildTopology(setup.topology) });
  return { ex, systematic: ex.systematicCases() };
}

export default async function runTask(task: BatchTask): Promise<BatchOutcome> {
  ready ??= explorer();
  const { ex, systematic } = await ready;
  return runBatch(ex, systematic, task);
}
