// Test helpers for the validation data (data/validation/, src/sim/validation.ts): read the entries,
// predict each one as a user would (a scenario through `p2pdma-lab run --json`, with no calibration
// unless the entry names its configuration), or in-process with a calibration that records which
// parameters the model read (for the calibration-discipline test).
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { bufferIo } from "../src/cli/io.js";
import { main } from "../src/cli/main.js";
import { loadTopologyFile } from "../src/fabric/load.js";
import { loadCalibration, loadScenario } from "../src/scenario/load.js";
import { runScenario } from "../src/scenario/run.js";
import { trackReads, type Calibration, type ParamName } from "../src/sim/calibration.js";
import { buildLinkGraph } from "../src/sim/link-graph.js";
import { measuredValue, parseValidationEntry, probeValue, type ValidationEntrySpec } from "../src/sim/validation.js";

export const VALIDATION_DIR = join(import.meta.dirname, "..", "data", "validation");

export function entries(kind: "targets" | "held-out"): ValidationEntrySpec[] {
  const dir = join(VALIDATION_DIR, kind);
  return readdirSync(dir).filter((f) => f.endsWith(".json")).sort().map((f) => parseValidationEntry(JSON.parse(readFileSync(join(dir, f), "utf8")), f));
}

/** The entry's scenario with its paths made absolute (they are relative to data/validation/). */
function scenarioOf(e: ValidationEntrySpec): Record<string, unknown> {
  const s: Record<string, unknown> = { ...e.scenario, topology: resolve(VALIDATION_DIR, e.scenario!.topology as string) };
  const cal = s.calibration as string | undefined;
  if (cal?.endsWith(".json")) s.calibration = resolve(VALIDATION_DIR, cal);
  return s;
}

const tmp = mkdtempSync(join(tmpdir(), "p2pdma-validation-"));

/** The model's value for an entry: its scenario through `run --json`, or its probe. */
export async function predict(e: ValidationEntrySpec): Promise<number> {
  if (!e.scenario) return probeValue(e, buildLinkGraph(loadTopologyFile(resolve(VALIDATION_DIR, e.topology!)), loadCalibration()));
  const file = join(tmp, `${e.id}.json`);
  writeFileSync(file, JSON.stringify(scenarioOf(e)));
  const io = bufferIo();
  const code = await main(["run", file, "--json"], io);
  if (code !== 0) throw new Error(`${e.id}: run exited ${code}: ${io.stderr()}${io.stdout().slice(0, 400)}`);
  return measuredValue(e, JSON.parse(io.stdout()));
}

/** The same prediction in-process, returning the parameters the model read and the calibration it used. */
export function predictTracked(e: ValidationEntrySpec): { value: number; reads: Set<ParamName>; calibration: Calibration } {
  if (!e.scenario) {
    const g = buildLinkGraph(loadTopologyFile(resolve(VALIDATION_DIR, e.topology!)), trackReads(loadCalibration()));
    return { value: probeValue(e, g), reads: g.calibration.reads!, calibration: g.calibration };
  }
  const input = loadScenario(scenarioOf(e));
  const calibration = trackReads(input.calibration);
  const { result } = runScenario({ ...input, calibration });
  return { value: measuredValue(e, result), reads: calibration.reads!, calibration };
}

/** "<publication>@<measurement>" -> the publication. */
export function publication(sourceId: string): string {
  return sourceId.split("@")[0];
}

/** Parameters whose source is the entry's own publication (they may not predict it). */
export function selfSourced(e: ValidationEntrySpec, cal: Calibration, reads: Iterable<ParamName>): string[] {
  const out: string[] = [];
  for (const name of reads) {
    const id = cal.params[name].sourceId ?? "";
    if (id === e.sourceId || publication(id) === publication(e.sourceId)) out.push(`${name} (${id})`);
  }
  return out;
}

export const pct = (x: number) => `${x >= 0 ? "+" : ""}${(100 * x).toFixed(1)}%`;
