// The public API of p2pdma-lab (DESIGN §2): the fabric layer flat, the lower layers as
// namespaces (their kernel-style names would collide), scenarios, the cost layer and plots.
export * from "./fabric/index.js";
export { InputError } from "./units/input-error.js";
export * as units from "./units/size.js";
export * as memory from "./memory/index.js";
export * as hmm from "./hmm/index.js";
export * as devices from "./devices/index.js";
export * as sim from "./sim/index.js";
export { parseScenario, readScenarioFile } from "./scenario/parse.js";
export { runScenario, type RunResult, type StepResult, type RunViolation } from "./scenario/runner.js";
export { runScenarioInput } from "./scenario/run.js";
export { Scenario, type ScenarioSpec, type StepSpec } from "./scenario/schema.js";
export { deviceSpecs, resolveTopology } from "./scenario/topology.js";
export { main as cli } from "./cli/main.js";
export { bufferIo, type CliIo } from "./cli/io.js";
export * from "./plot/index.js";
export { RunCosts, resolveCalibration, noCostCounters, CostStepError, type CostCounters } from "./scenario/costs.js";
export { P2pMachine, type P2pDeviceOptions } from "./devices/p2p-system.js";
export { P2pClient, ClientMirror, PATH_NAMES, type P2pPolicy, type P2pFallback, type PeerMapResult, type DmaResult } from "./devices/p2p-client.js";
export { BarAperture, memoryBarOf } from "./devices/bar-aperture.js";
export { IommuDomain } from "./devices/iommu-domain.js";
export { DmaSafety } from "./devices/dma-safety.js";
