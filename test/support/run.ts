// Test helpers over the public run entry: a scenario object run as a file would be (names and
// paths resolved from the current directory), and a topology file read as the kit's JSON object.
import { readTopologyFile } from "../../src/fabric/load.js";
import { Topology, type TopologySpec } from "../../src/fabric/schema.js";
import { loadScenario } from "../../src/scenario/load.js";
import type { RunResult } from "../../src/scenario/results.js";
import { runScenario } from "../../src/scenario/run.js";

/** Loads and runs a scenario object; bad input throws InputError. */
export function runObject(scenario: unknown): RunResult {
  return runScenario(loadScenario(scenario)).result;
}

/** A topology file (kit JSON, lspci or hwloc) as a checked topology object. */
export function topologySpec(path: string): TopologySpec {
  return Topology.parse(readTopologyFile(path));
}
