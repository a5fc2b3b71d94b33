// Models: `p2pdma-lab run SCENARIO.json [--json] [--trace FILE]` (DESIGN §4): loads the scenario and
// what it names (bad input: exit 2 before anything runs), runs it, prints a per-step listing or the
// JSON result, optionally writes the run's Chrome/Perfetto trace (a track per device and link
// direction, every operation a complete event, plus a track of the steps), and exits 0, or 1 when a
// step failed (or missed its `expect`) or a violation was found. Leaves out: flow arrows between tracks.
import { dirname, resolve } from "node:path";
import { loadDriverModules, loadScenarioFile } from "../scenario/load.js";
import { runPassed, stepPassed, type RunResult, type StepResult } from "../scenario/results.js";
import { runScenario } from "../scenario/run.js";
import { writeChromeTrace } from "../sim/trace.js";
import { InputError } from "../units/input-error.js";
import { CliIo, EXIT_FAILED, EXIT_OK } from "./io.js";
import { writeJson, writeJsonBytes } from "./json-out.js";

export interface RunCommandOptions {
  json: boolean;
  trace?: string;
}

export async function runCommand(file: string, opts: RunCommandOptions, io: CliIo): Promise<number> {
  const { result, trace } = runScenario(await loadDriverModules(loadScenarioFile(file), dirname(resolve(file))));
  if (opts.trace) {
    try {
      writeChromeTrace(opts.trace, trace);
    } catch (e) {
      throw new InputError("--trace", opts.trace, `cannot write (${(e as NodeJS.ErrnoException).code ?? "error"})`);
    }
  }
  if (opts.json && io.outBytes) writeJsonBytes(result, (b) => io.outBytes!(b), "\n");
  else if (opts.json) writeJson(result, (t) => io.out(t), "\n");
  else io.out(listing(result));
  return runPassed(result) ? EXIT_OK : EXIT_FAILED;
}

/** `k=v` pairs of a step's result, arrays cut to 8 entries. */
function brief(result: unknown): string {
  if (result === undefined) return "";
  const parts: string[] = [];
  for (const [k, v] of Object.entries(result as Record<string, unknown>)) {
    if (Array.isArray(v)) {
      const shown = v.slice(0, 8).map((x) => (x && typeof x === "object" ? JSON.stringify(x) : String(x))).join(" ");
      parts.push(`${k}=[${shown}${v.length > 8 ? ` ... (${v.length})` : ""}]`);
    } else if (v && typeof v === "object") parts.push(`${k}=${JSON.stringify(v)}`);
    else parts.push(`${k}=${String(v)}`);
  }
  return parts.join(" ");
}

/** A step's line after its status: its result, its error, or how it met or missed its expectation. */
function stepText(s: StepResult): string {
  if (s.met === false) return s.error ?? "";
  if (!s.ok) return s.met ? `failed as expected: ${s.error}` : s.error;
  return brief(s.result);
}

function listing(r: RunResult): string {
  const lines = r.steps.map((s, i) => `${String(i).padStart(3)} ${s.op.padEnd(16)} ${stepPassed(s) ? "ok  " : "FAIL"} ${stepText(s)}`);
  const c = r.counters;
  lines.push("");
  lines.push(`counters: faults=${c.faults} invalidations=${c.invalidations} migrations=${c.migrations} peerMaps=${c.peerMaps} peerUnmaps=${c.peerUnmaps} (${c.peerUnmapsByInvalidation} by invalidation)`);
  const moved = Object.entries(c.bytesMoved).map(([k, v]) => `${k}=${v}`).join(" ");
  lines.push(`bytesMoved: ${moved || "none"}`);
  lines.push(`violations: ${r.violations.length}${r.violations.map((v) => `\n  step ${v.step}: ${v.device} at ${v.address}: ${v.reason}`).join("")}`);
  lines.push(`simTimeNs: ${r.simTimeNs} (calibration ${c.calibration})`);
  return `${lines.join("\n")}\n`;
}
