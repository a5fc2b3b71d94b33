// Models: the cost-only `transfer` step: one design (dma, p2p, bounce, migrate) of moving bytes
// between two ends, priced on the machine's resources without touching scenario memory
// (scenario/costs.ts). Leaves out: the pricing itself.
import type { StepHandler } from "./types.js";

export const transfer: StepHandler<"transfer"> = {
  op: "transfer",
  run: (ctx, step, at) => ctx.costs.transfer(step, at),
};
