// Models: the kit's internals for tests and experiments that drive the kernel model directly:
// frames and page tables, notifiers, migrate_vma, the drivers and the machine, the run's context,
// effects and cost ledger, and the event engine. Nothing here is stable across minor versions.
// Leaves out: the public API (index.ts).
export * as memory from "./memory/index.js";
export * as hmm from "./hmm/index.js";
export * as devices from "./devices/index.js";
export { Engine, type EventHandler } from "./sim/engine.js";
export { EventQueue } from "./sim/event-queue.js";
export { LogHistogram, OpStats } from "./sim/histogram.js";
export { CostLedger, type LinkDirectionUse } from "./sim/ledger.js";
export { RunContext, type Process, type Buffer, type PageRange } from "./scenario/context.js";
export { RunCosts, CPU_TRACK } from "./scenario/costs.js";
export { StepEffects, type CopyEffect } from "./scenario/effects.js";
export { StepError } from "./scenario/step-error.js";
export { STEP_HANDLERS, type StepHandler, type StepHandlers } from "./scenario/steps/index.js";
export { Timeline, FenceState, type HardwareJob } from "./drivers/timeline.js";
export { DeviceKernel, DriverAbort, type KernelCosts, type KernelStats } from "./drivers/kernel.js";
export { DriverRuntime, type RunningDriver } from "./drivers/runtime.js";
