// Models: the contract of a step handler, one per scenario step kind: `run` does the kernel
// operation or driver call the step stands for and returns its typed result (a failure is a
// StepError), or, for work a driver does over simulated time, a Deferred operation the run's
// timeline drives (it may be preempted at every yield); `cost` (need not be provided) puts the
// step's own operation on the run's clock when it succeeded, after the faults it took and before
// its notifier callbacks and copies, which the cost layer prices from the step's effects for every
// step alike. Leaves out: the loop (run.ts).
import type { Op } from "../../drivers/api.js";
import type { RunCosts } from "../costs.js";
import type { FieldPath, RunContext } from "../context.js";
import type { StepResults } from "../results.js";
import type { StepOf, StepOp } from "../schema.js";

/** A step's work that takes simulated time: the run's timeline drives `op` to its result. */
export class Deferred<T> {
  constructor(readonly op: Op<T>) {}
}

export interface StepHandler<K extends StepOp> {
  op: K;
  run(ctx: RunContext, step: StepOf<K>, at: FieldPath): StepResults[K] | Deferred<StepResults[K]>;
  cost?(costs: RunCosts, step: StepOf<K>, result: StepResults[K], pages: number): void;
}

/** One handler per step kind. */
export type StepHandlers = { [K in StepOp]: StepHandler<K> };
