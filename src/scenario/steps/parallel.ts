// Models: the `parallel` step: transfers that start together and share every resource they cross
// (DESIGN §4); its result is the makespan, the aggregate rate and each transfer's own result.
// Leaves out: the pricing itself (scenario/costs.ts).
import type { StepHandler } from "./types.js";

export const parallel: StepHandler<"parallel"> = {
  op: "parallel",
  run: (ctx, step, at) => ctx.costs.parallel(step, at),
};
