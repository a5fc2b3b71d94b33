// Models: `p2pdma-lab explore --driver NAME|FILE --topology T [--overlay F] [--workload W] [--runs N] [--seed S]
// [--workers N] [--calibration C] [--client ID] [--trace F] [--json]`: loads what it names (bad
// input: exit 2 before anything runs), explores the driver's interleavings with the workload on the
// machine in worker threads (a progress bar on stderr when it is a terminal), and on a violation
// prints the shrunk scenario as JSON on stdout (what `p2pdma-lab run` replays), says what broke on
// stderr, writes the run's timeline as a Chrome/Perfetto trace, and exits 1; with none it reports
// the interleavings explored and the distinct states reached, and exits 0.
// Leaves out: the exploration itself (src/explore/).
import cliProgress from "cli-progress";
import { basename } from "node:path";
import { explore, type ExploreProgress, type ExploreReport } from "../explore/explore.js";
import { parseWorkload } from "../explore/workload.js";
import { readJsonFile } from "../scenario/load.js";
import { writeChromeTrace } from "../sim/trace.js";
import { InputError } from "../units/input-error.js";
import { CliIo, EXIT_FAILED, EXIT_OK, processIo } from "./io.js";
import { writeJson } from "./json-out.js";

export interface ExploreCommandOptions {
  driver: string;
  topology: string;
  overlay?: string;
  workload?: string;
  runs?: string;
  seed?: string;
  workers?: string;
  calibration?: string;
  client?: string;
  trace?: string;
  json?: boolean;
}

function wholeNumber(option: string, text: string | undefined, min: number, what: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(Number(text)) || Number(text) < min) throw new InputError(option, text, what);
  return Number(text);
}

export async function exploreCommand(opts: ExploreCommandOptions, io: CliIo): Promise<number> {
  const runs = wholeNumber("--runs", opts.runs, 1, "the number of runs is a whole number >= 1");
  const seed = wholeNumber("--seed", opts.seed, Number.MIN_SAFE_INTEGER, "the seed is a whole number");
  const workers = wholeNumber("--workers", opts.workers, 0, "the number of worker threads is a whole number >= 0 (0: run in this process's thread)");
  const workload = opts.workload === undefined ? undefined : parseWorkload(readJsonFile(opts.workload, "workload"), opts.workload);
  const bar = io === processIo && process.stderr.isTTY ? progressBar(process.stderr) : undefined;
  let report: ExploreReport;
  try {
    report = await explore(opts.driver, {
      topology: opts.topology, overlay: opts.overlay, calibration: opts.calibration, workload, client: opts.client, runs, seed, workers, onProgress: bar?.onProgress,
    });
  } finally {
    bar?.stop();
  }
  const f = report.finding;
  const what = `driver ${report.driver} on ${report.client}`;
  if (!f) {
    const line = `explored ${report.runs} interleavings (${report.systematic} systematic, ${report.random} random) of ${what} in ${report.seconds.toFixed(1)} s `
      + `with ${report.workers} workers: ${report.distinctStates} distinct states, no violation`;
    if (opts.json) writeJson(report, (t) => io.out(t), "\n");
    else io.out(`${line}\n`);
    return EXIT_OK;
  }
  const steps = (f.scenario.steps as unknown[]).length;
  io.err(`p2pdma-lab explore: ${what}: a violation after ${report.runs} runs (found by the ${f.foundBy} part), shrunk to ${steps} steps; `
    + `replayed twice: ${f.reproduced ? "the same result" : "DIFFERENT results (a nondeterminism bug in the kit)"}\n`);
  for (const line of f.message.split("\n")) io.err(`  ${line}\n`);
  const trace = opts.trace ?? `${basename(report.driver).replace(/\.[cm]?[jt]s$/, "")}-finding.trace.json`;
  try {
    writeChromeTrace(trace, f.trace);
    io.err(`timeline: ${trace} (open it in https://ui.perfetto.dev or chrome://tracing)\n`);
  } catch (e) {
    io.err(`p2pdma-lab explore: warning: cannot write the timeline to ${trace} (${(e as NodeJS.ErrnoException).code ?? "error"})\n`);
  }
  io.err(`replay: save the scenario below and run \`p2pdma-lab run <file> --trace <file>\`\n`);
  if (opts.json) {
    const { trace: _spans, ...finding } = f;
    writeJson({ ...report, finding }, (t) => io.out(t), "\n");
  } else io.out(`${JSON.stringify(f.scenario, null, 2)}\n`);
  return EXIT_FAILED;
}

function progressBar(stream: NodeJS.WriteStream): { onProgress: (p: ExploreProgress) => void; stop: () => void } {
  const bar = new cliProgress.SingleBar({
    stream, format: "explore [{bar}] {value}/{total} runs | {duration_formatted} elapsed | eta {eta_formatted}", hideCursor: true, etaBuffer: 20,
  }, cliProgress.Presets.shades_classic);
  let started = false;
  return {
    onProgress: (p) => {
      if (!started) bar.start(p.total, 0);
      started = true;
      bar.update(p.runs);
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}
