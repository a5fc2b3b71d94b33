// Models: running one point of a sweep from plain data, the same in a worker thread and in the
// calling thread: the point's scenario (its placeholders already filled in), the machine and the
// calibration by their index in the sweep's tables, through the one run entry (runScenario); what
// comes back is the point's verdict and its metric cells. Each machine is built once per thread
// and reused: a run builds its machine state around the Fabric and leaves the Fabric unchanged.
// Leaves out: reading files (plan.ts did, once) and the pool (run.ts).
import { buildFabric } from "../fabric/build.js";
import { builtinTopology } from "../fabric/builtin.js";
import type { Fabric } from "../fabric/types.js";
import { runFailure, runPassed } from "../scenario/results.js";
import { runScenario } from "../scenario/run.js";
import type { Calibration } from "../sim/calibration.js";
import { readMetric, type Metric } from "./metrics.js";

/** A machine as plain data: a builtin's name, or the kit's topology object (imported from any format). */
export type TopologyRef = { builtin: string } | { spec: unknown; source: string };

/** What every point of a sweep shares: the tables its tasks index into (structured-cloned once per worker). */
export interface PointEnv {
  topologies: TopologyRef[];
  calibrations: Calibration[];
  metrics: Metric[];
}

export interface PointTask {
  index: number;
  /** The point's scenario object. */
  scenario: unknown;
  /** Indices into PointEnv.topologies and PointEnv.calibrations. */
  topology: number;
  calibration: number;
}

export interface PointOutcome {
  index: number;
  /** The run passed: every step met its expectation (or succeeded), no violation. */
  ok: boolean;
  /** Why it did not pass, else null. */
  error: string | null;
  /** One cell per metric, in the sweep's order. */
  cells: unknown[];
}

export function buildTopology(ref: TopologyRef): Fabric {
  return "builtin" in ref ? builtinTopology(ref.builtin) : buildFabric(ref.spec, ref.source);
}

/** A function running tasks against `env`, building each machine on first use. */
export function pointRunner(env: PointEnv): (task: PointTask) => PointOutcome {
  const fabrics = new Map<number, Fabric>();
  return (task) => {
    let fabric = fabrics.get(task.topology);
    if (!fabric) fabrics.set(task.topology, (fabric = buildTopology(env.topologies[task.topology])));
    const { result } = runScenario({ scenario: task.scenario, topology: fabric, calibration: env.calibrations[task.calibration] });
    const ok = runPassed(result);
    return { index: task.index, ok, error: ok ? null : (runFailure(result) ?? null), cells: env.metrics.map((m) => readMetric(result, m)) };
  };
}
