// Models: running a scenario (DESIGN §4), the one way in for the CLI, notebooks, tests and sweep
// workers: plain data in (the scenario, the machine's topology, the cost calibration and any driver
// objects, all already loaded: scenario/load.ts reads files), plain data out (the typed result and
// the trace). Each step runs through its handler (steps/) on the run's timeline: a step starts when
// the one before it finished, or at its `at` time; work a driver does over simulated time (mapping,
// DMA) is resumed by the timeline, where the kernel may preempt it and DMA in flight touches pages
// while later steps run. What a step made the machine do is gathered as its effects, priced on the
// run's clock when the step ends, and summed into the run's counters. A failing step records its
// error and later steps still run. A step with `expect` is marked with whether it met it.
// Leaves out: reading files (load.ts) and printing (cli/).
import { buildFabric, getFunction } from "../fabric/build.js";
import type { Fabric } from "../fabric/types.js";
import { Mm } from "../memory/address-space.js";
import { errnoName } from "../memory/errno.js";
import { violationMessage, type MachineListener } from "../memory/events.js";
import { Machine } from "../devices/machine.js";
import type { Op, P2pDriver } from "../drivers/api.js";
import { BUILTIN_DRIVERS, isDriverModulePath } from "../drivers/builtin/index.js";
import { DriverAbort } from "../drivers/kernel.js";
import { DriverRuntime } from "../drivers/runtime.js";
import { Timeline } from "../drivers/timeline.js";
import type { Calibration } from "../sim/calibration.js";
import type { TraceSpan } from "../sim/trace.js";
import { InputError } from "../units/input-error.js";
import { RunContext } from "./context.js";
import { RunCosts } from "./costs.js";
import { StepEffects } from "./effects.js";
import { parseScenario } from "./parse.js";
import { withExpectation, type AsyncDmaOutcome, type RunResult, type RunViolation, type StepCounters, type StepResult } from "./results.js";
import type { ScenarioSpec, StepOp, StepSpec } from "./schema.js";
import { StepError } from "./step-error.js";
import { Deferred, STEP_HANDLERS, type StepHandler } from "./steps/index.js";

export interface RunInput {
  /** A scenario object (checked here as a file would be: bad input is an InputError). */
  scenario: unknown;
  /** The machine: a built Fabric, or a topology object in the kit's JSON. */
  topology: Fabric | unknown;
  calibration: Calibration;
  /** Drivers given as objects (a notebook's own), by device, beside the names in the scenario's `drivers`. */
  drivers?: Record<string, P2pDriver>;
  /** Record the times at which driver work resumed or DMA touched a page (RunOutput.preemptions). */
  recordPreemptions?: boolean;
}

export interface RunOutput {
  result: RunResult;
  /** Every operation and transfer of the run, for a Chrome/Perfetto trace (sim/trace.ts). */
  trace: TraceSpan[];
  /** With `recordPreemptions`: when driver work resumed or DMA touched a page, ns, in order. */
  preemptions?: number[];
}

function isFabric(t: unknown): t is Fabric {
  return typeof t === "object" && t !== null && "byId" in t && (t as Fabric).byId instanceof Map;
}

/** Sends each machine event to the effects of the step whose work is running. */
class EffectsRouter implements MachineListener {
  current: StepEffects;
  constructor(readonly effects: StepEffects[], readonly idle: StepEffects) {
    this.current = idle;
  }
  route(step: number): void {
    this.current = step >= 0 ? this.effects[step] : this.idle;
  }
  fault: MachineListener["fault"] = (mm, vpn, remote) => this.current.fault(mm, vpn, remote);
  faultRun: MachineListener["faultRun"] = (mm, vpn, n, remote) => this.current.faultRun(mm, vpn, n, remote);
  invalidate: MachineListener["invalidate"] = (mm, r, n) => this.current.invalidate(mm, r, n);
  migrated: MachineListener["migrated"] = (mm, n) => this.current.migrated(mm, n);
  copy: MachineListener["copy"] = (f, t, b, c, p) => this.current.copy(f, t, b, c, p);
  peerMap: MachineListener["peerMap"] = (d, n) => this.current.peerMap(d, n);
  peerUnmap: MachineListener["peerUnmap"] = (d, n, i) => this.current.peerUnmap(d, n, i);
  violation: MachineListener["violation"] = (v) => this.current.violation(v);
  fenceWait: MachineListener["fenceWait"] = (d, ns) => this.current.fenceWait(d, ns);
}

/** One step of a run as it goes: when it started and ended, its outcome once known. */
interface StepState {
  step: StepSpec;
  start: number;
  end: number;
  outcome: StepResult | null;
}

/** The drivers the run's devices use: the scenario's names, and objects the caller gave, by topology id. */
function resolveDrivers(spec: ScenarioSpec, fabric: Fabric, given: Record<string, P2pDriver> = {}): Map<string, P2pDriver> {
  const out = new Map<string, P2pDriver>();
  const idOf = (name: string, field: string) => {
    try {
      return getFunction(fabric, name).id;
    } catch (e) {
      if (e instanceof InputError) throw new InputError(field, name, "no PCI function of this name in the topology");
      throw e;
    }
  };
  for (const [device, name] of Object.entries(spec.drivers ?? {})) {
    const field = `drivers.${device}`;
    const driver = given[device] ?? BUILTIN_DRIVERS.get(name);
    if (!driver) {
      throw new InputError(field, name, isDriverModulePath(name)
        ? "a driver module must be loaded before the run (loadScenarioFile and loadDriverModules read it)"
        : `not a builtin driver (builtin: ${[...BUILTIN_DRIVERS.keys()].join(", ")}); a module is named by its path`);
    }
    out.set(idOf(device, field), driver);
  }
  for (const [device, driver] of Object.entries(given)) if (!(spec.drivers ?? {})[device]) out.set(idOf(device, `drivers.${device}`), driver);
  return out;
}

/** Runs a scenario on a machine under a calibration. */
export function runScenario(input: RunInput): RunOutput {
  const spec = parseScenario(input.scenario);
  const fabric = isFabric(input.topology) ? input.topology : buildFabric(input.topology, "topology");
  const drivers = resolveDrivers(spec, fabric, input.drivers);
  const costs = new RunCosts(fabric, input.calibration);
  const effects = spec.steps.map(() => new StepEffects());
  const router = new EffectsRouter(effects, new StepEffects());
  const machine = new Machine(fabric, { listeners: [router] });
  const timeline = new Timeline(spec.seed ?? 0, (owner) => router.route(owner));
  if (input.recordPreemptions) timeline.preemptions = [];
  const ctx = new RunContext(machine, costs, new Mm(machine.mem, "main"), timeline, new DriverRuntime(machine, timeline, costs, drivers));
  const states: StepState[] = [];
  try {
    spec.steps.forEach((step, i) => {
      const start = startTime(ctx, step, states[i - 1]);
      const state: StepState = { step, start, end: start, outcome: null };
      states.push(state);
      ctx.step = i;
      timeline.owner = i;
      router.route(i);
      runStep(ctx, state, i, effects[i]);
    });
    finishRun(ctx, states, effects);
    const out: RunOutput = { result: result(ctx, states, effects, router.idle), trace: costs.ledger.spans };
    if (timeline.preemptions) out.preemptions = timeline.preemptions;
    return out;
  } finally {
    // The result is plain data: the machine's frame table goes to the next run in this thread.
    machine.mem.frames.recycle();
  }
}

/** When a step starts: at its `at` (not before the step before it started), else when the step before it ended. */
function startTime(ctx: RunContext, step: StepSpec, prev: StepState | undefined): number {
  const timeline = ctx.timeline;
  if (step.at !== undefined) {
    const start = Math.max(step.at, prev?.start ?? 0);
    timeline.runUntil(start);
    return start;
  }
  if (!prev) return 0;
  while (prev.outcome === null && timeline.runNext());
  const start = prev.outcome === null ? timeline.now : Math.max(prev.end, timeline.now);
  timeline.runUntil(start);
  return start;
}

/** Runs a step through its handler: at once, or as an operation the timeline drives to its end. */
function runStep(ctx: RunContext, state: StepState, i: number, effects: StepEffects): void {
  const step = state.step;
  const handler = STEP_HANDLERS[step.op] as StepHandler<StepOp>;
  const at = (field: string) => `steps[${i}].${field}`;
  let deferred = false;
  const done = (outcome: StepResult, result: unknown) => {
    const ok = outcome.ok;
    const cost = handler.cost;
    // A deferred step is charged when it ends (other steps may have been charged meanwhile); a
    // step done at once was charged from its start already (a transfer prices itself as it runs).
    if (deferred) ctx.costs.begin(state.start);
    const ns = ctx.costs.end(i, step.op, "device" in step ? step.device : undefined, effects,
      ok && cost ? () => cost(ctx.costs, step as never, result as never, ctx.rangePages(step as { buffer?: string })) : undefined);
    effects.charged = effects.copies.length;
    state.end = Math.max(state.start + ns, ctx.timeline.now);
    state.outcome = step.expect === undefined ? outcome : withExpectation(outcome, step.expect);
  };
  const fail = (e: unknown) => {
    if (e instanceof StepError) done({ op: step.op, ok: false, error: e.message } as StepResult, undefined);
    else if (e instanceof DriverAbort) done({ op: step.op, ok: false, error: `${errnoName(e.ret)}: ${step.op} failed: ${e.message}` } as StepResult, undefined);
    else throw e;
  };
  const succeed = (result: unknown) => done((result === undefined ? { op: step.op, ok: true } : { op: step.op, ok: true, result }) as StepResult, result);
  ctx.costs.begin(state.start);
  try {
    const r = handler.run(ctx, step as never, at);
    if (!(r instanceof Deferred)) return succeed(r);
    deferred = true; // before spawn: an operation that never yields ends inside it
    ctx.timeline.spawn(guarded(r.op), i, (o) => ("error" in o ? fail(o.error) : succeed(o.value)));
  } catch (e) {
    fail(e);
  }
}

/** A driver operation whose exceptions become its outcome (the timeline runs it to the end either way). */
function* guarded<T>(op: Op<T>): Op<{ value: T } | { error: unknown }> {
  try {
    return { value: yield* op };
  } catch (error) {
    return { error };
  }
}

/** Runs the timeline until nothing is in flight; a step still waiting then never ends (a fence that never signals). */
function finishRun(ctx: RunContext, states: StepState[], effects: StepEffects[]): void {
  ctx.timeline.drain();
  states.forEach((s, i) => {
    if (s.outcome !== null) return;
    s.outcome = { op: s.step.op, ok: false, error: `EDEADLK: ${s.step.op} never finished: its driver sleeps on something that never happens` } as StepResult;
    ctx.costs.begin(s.start);
    ctx.costs.end(i, s.step.op, "device" in s.step ? s.step.device : undefined, effects[i]);
  });
  // Copies an async DMA made after its step was charged go on the links now, where they happened.
  effects.forEach((e, i) => {
    if (e.copies.length > e.charged) ctx.costs.lateCopies("device" in states[i].step ? (states[i].step as { device: string }).device : undefined, e.copies.slice(e.charged), states[i].end);
  });
}

function result(ctx: RunContext, states: StepState[], effects: StepEffects[], idle: StepEffects): RunResult {
  const violations: RunViolation[] = [];
  effects.forEach((e, i) => {
    for (const v of e.violations) violations.push({ step: i, ...v, reason: violationMessage(v) });
  });
  for (const v of idle.violations) violations.push({ step: -1, ...v, reason: violationMessage(v) });
  const stepCounters = effects.map((e) => e.counters());
  const totals = sumCounters(stepCounters);
  const out: RunResult = {
    steps: states.map((s) => s.outcome!),
    counters: { ...totals, stepCounters, ...ctx.costs.counters() },
    violations,
    simTimeNs: Math.max(ctx.costs.simTimeNs, ctx.timeline.now, ...states.map((s) => s.end)),
  };
  if (ctx.asyncDma.length > 0) out.dma = ctx.asyncDma.map(asyncOutcome);
  return out;
}

function asyncOutcome(a: RunContext["asyncDma"][number]): AsyncDmaOutcome {
  const f = a.fence;
  const out: AsyncDmaOutcome = { step: a.step, device: a.device, endNs: f.endNs, cpages: f.cpages };
  if (f.values.length > 0) out.values = f.values;
  if (f.error) out.error = `${errnoName(f.error.ret)}: DMA stopped at page ${f.error.page - a.range.start + a.range.first}: ${f.error.reason}`;
  return out;
}

function sumCounters(list: readonly StepCounters[]): StepCounters {
  const total: StepCounters = { faults: 0, invalidations: 0, migrations: 0, peerMaps: 0, peerUnmaps: 0, peerUnmapsByInvalidation: 0 };
  for (const c of list) for (const k of Object.keys(total) as (keyof StepCounters)[]) total[k] += c[k];
  return total;
}
