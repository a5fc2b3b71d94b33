// Models: running a scenario (DESIGN §4), the one way in for the CLI, notebooks, tests and sweep
// workers: plain data in (the scenario, the machine's topology and the cost calibration, all
// already loaded: scenario/load.ts reads files), plain data out (the typed result and the trace).
// Each step runs through its handler (steps/); what it made the machine do is gathered as the
// step's effects, priced on the run's clock, and summed into the run's counters. A failing step
// records its error and later steps still run. A step with `expect` is marked with whether it met it.
// Leaves out: reading files (load.ts) and printing (cli/).
import { buildFabric } from "../fabric/build.js";
import type { Fabric } from "../fabric/types.js";
import { Mm } from "../memory/address-space.js";
import { violationMessage } from "../memory/events.js";
import { Machine } from "../devices/machine.js";
import type { Calibration } from "../sim/calibration.js";
import type { TraceSpan } from "../sim/trace.js";
import { RunContext } from "./context.js";
import { RunCosts } from "./costs.js";
import { StepEffects } from "./effects.js";
import { parseScenario } from "./parse.js";
import { withExpectation, type RunResult, type RunViolation, type StepCounters, type StepResult } from "./results.js";
import type { StepOp, StepSpec } from "./schema.js";
import { StepError } from "./step-error.js";
import { STEP_HANDLERS, type StepHandler } from "./steps/index.js";

export interface RunInput {
  /** A scenario object (checked here as a file would be: bad input is an InputError). */
  scenario: unknown;
  /** The machine: a built Fabric, or a topology object in the kit's JSON. */
  topology: Fabric | unknown;
  calibration: Calibration;
}

export interface RunOutput {
  result: RunResult;
  /** Every operation and transfer of the run, for a Chrome/Perfetto trace (sim/trace.ts). */
  trace: TraceSpan[];
}

function isFabric(t: unknown): t is Fabric {
  return typeof t === "object" && t !== null && "byId" in t && (t as Fabric).byId instanceof Map;
}

/** Runs a scenario on a machine under a calibration. */
export function runScenario(input: RunInput): RunOutput {
  const spec = parseScenario(input.scenario);
  const fabric = isFabric(input.topology) ? input.topology : buildFabric(input.topology, "topology");
  const costs = new RunCosts(fabric, input.calibration);
  const effects = new StepEffects();
  const machine = new Machine(fabric, { listeners: [effects] });
  const ctx = new RunContext(machine, costs, new Mm(machine.mem, "main"));
  const steps: StepResult[] = [];
  const violations: RunViolation[] = [];
  const stepCounters: StepCounters[] = [];
  spec.steps.forEach((step, i) => {
    effects.reset();
    costs.begin();
    const { outcome, own } = runStep(ctx, step, i);
    costs.end(i, step.op, "device" in step ? step.device : undefined, effects, own);
    steps.push(step.expect === undefined ? outcome : withExpectation(outcome, step.expect));
    stepCounters.push(effects.counters());
    for (const v of effects.violations) violations.push({ step: i, ...v, reason: violationMessage(v) });
  });
  const totals = sumCounters(stepCounters);
  return {
    result: { steps, counters: { ...totals, stepCounters, ...costs.counters() }, violations, simTimeNs: costs.simTimeNs },
    trace: costs.ledger.spans,
  };
}

/** Runs one step through its handler; a StepError becomes the step's error. `own` charges the
 *  step's own operation, for a step that succeeded and has one. */
function runStep(ctx: RunContext, step: StepSpec, i: number): { outcome: StepResult; own?: () => void } {
  const handler = STEP_HANDLERS[step.op] as StepHandler<StepOp>;
  const at = (field: string) => `steps[${i}].${field}`;
  try {
    const result = handler.run(ctx, step as never, at);
    const outcome = (result === undefined ? { op: step.op, ok: true } : { op: step.op, ok: true, result }) as StepResult;
    const cost = handler.cost;
    return { outcome, own: cost && (() => cost(ctx.costs, step as never, result as never, ctx.rangePages(step as { buffer?: string }))) };
  } catch (e) {
    if (e instanceof StepError) return { outcome: { op: step.op, ok: false, error: e.message } as StepResult };
    throw e;
  }
}

function sumCounters(list: readonly StepCounters[]): StepCounters {
  const total: StepCounters = { faults: 0, invalidations: 0, migrations: 0, peerMaps: 0, peerUnmaps: 0, peerUnmapsByInvalidation: 0 };
  for (const c of list) for (const k of Object.keys(total) as (keyof StepCounters)[]) total[k] += c[k];
  return total;
}
