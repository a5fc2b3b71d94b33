// Models: the public API of p2pdma-lab, the part that changes only with a major version: machines
// (the fabric layer: topologies, importers, P2PDMA map types and distances, nvidia-smi classes,
// routing), running scenarios (load, run, typed results), the cost model, P2P client drivers and
// their explorer, sweeps, plots and the CLI.
// Leaves out: the kernel-model internals (frames, page tables, notifier trees, drivers, the run's
// machinery), which `p2pdma-lab/internals` exports for tests and experiments.
export * from "./fabric/index.js";
export { InputError } from "./units/input-error.js";
export { InternalError } from "./units/internal-error.js";
export * as units from "./units/size.js";
export { Scenario, type ScenarioSpec, type StepSpec, type StepOp, type StepOf } from "./scenario/schema.js";
export { defineScenario, ERRNO_NAMES, type ScenarioInput, type ErrnoName } from "./scenario/schema.js";
export { parseScenario } from "./scenario/parse.js";
export { loadScenario, loadScenarioFile, loadCalibration, calibrationNames, resolveTopology, type LoadOptions } from "./scenario/load.js";
export { runScenario, type RunInput, type RunOutput } from "./scenario/run.js";
export {
  resultOf, runPassed, runFailure, stepPassed, type ExpectationMarks, type RunResult, type StepResult, type StepOutcome, type StepResults, type StepCounters, type RunViolation,
  type DeviceCmdResult, type DeviceReadResult, type SnapshotResult, type PeerMapStepResult, type DmaStepResult, type TransferStepResult, type ParallelStepResult,
} from "./scenario/results.js";
export type { CostCounters } from "./scenario/costs.js";
export type { ViolationCode } from "./memory/events.js";
export * from "./drivers/index.js";
export { loadDriverModules, loadDriver } from "./scenario/load.js";
export { explore, type ExploreOptions, type ExploreProgress, type ExploreReport } from "./explore/explore.js";
export type { ExploreFinding } from "./explore/explorer.js";
export type { TraceSpan } from "./sim/trace.js";
export { Workload, parseWorkload, EVENT_KINDS, MAP_START_NS, type WorkloadSpec, type EventKind, type ExploreCase, type CaseEvent } from "./explore/workload.js";
export * as sim from "./sim/index.js";
export {
  sweep, defineSweep, loadSweep, loadSweepFile, runSweep, sweepCsv, sweepJson, mergeSweeps, notebookProgress,
  type SweepInput, type SweepOptions, type SweepProgress, type SweepResult, type SweepRow, type SweepRowBase, type RowOf, type SweepPlan,
} from "./sweep/index.js";
export * from "./plot/index.js";
export { main as cli } from "./cli/main.js";
export { bufferIo, type CliIo } from "./cli/io.js";
