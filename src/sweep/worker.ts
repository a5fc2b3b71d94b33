// Models: a sweep worker thread (run by the tinypool pool in run.ts): the sweep's shared tables
// arrive once as the pool's workerData, each task is one point. Leaves out: everything but the wiring.
import Tinypool from "tinypool";
import { pointRunner, type PointEnv, type PointOutcome, type PointTask } from "./point.js";

const run = pointRunner(Tinypool.workerData as PointEnv);

export default function runPoint(task: PointTask): PointOutcome {
  return run(task);
}
