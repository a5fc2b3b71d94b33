// Models: running a scenario given as an object (a notebook, a test, a sweep) exactly as the CLI
// runs a file: checked, its topology resolved, then executed. Leaves out: printing.
import { parseScenario } from "./parse.js";
import { RunResult, runScenario } from "./runner.js";
import { deviceSpecs, resolveTopology } from "./topology.js";

/** Checks and runs a scenario object; bad input throws InputError naming field and value. */
export function runScenarioInput(input: unknown, source = "scenario"): RunResult {
  const spec = parseScenario(input, source);
  const fabric = resolveTopology(spec.topology);
  return runScenario(spec, deviceSpecs(fabric), fabric);
}
