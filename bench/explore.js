// Explorer benchmark (issue 13): explored runs per second per core on the three-device explorer
// machine (one thread, the correct ODP driver), the correct designs (odp, pinned, dmabuf) over 10^5
// runs each in worker threads (one per core) with the violations they give (must be 0), and for
// each broken builtin the runs until the explorer found it and the shrunk scenario's steps. Merges
// `exploreRunsPerSec`, `exploreCorrect` and `exploreBugs` into bench/results.json (read-modify-write).
// EXPLORE_RUNS overrides the 10^5.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { explore } from "../dist/index.js";

const TOPO = new URL("../data/topologies/p2p-three-devices-full-bar.json", import.meta.url).pathname;
const RUNS = Number(process.env.EXPLORE_RUNS ?? 100_000);

const single = await explore("odp", { topology: TOPO, runs: 5000, seed: 1, workers: 0 });
const perSec = single.runs / single.seconds;

const correct = {};
for (const driver of ["odp", "pinned", "dmabuf"]) {
  const r = await explore(driver, { topology: TOPO, runs: RUNS, seed: 1 });
  correct[driver] = { runs: r.runs, violations: r.finding ? r.finding.result.violations.length : 0, distinctStates: r.distinctStates, seconds: Number(r.seconds.toFixed(1)), workers: r.workers };
}

const bugs = {};
for (const driver of ["odp-no-fence-wait", "odp-no-seq-recheck", "odp-late-iova-unmap", "odp-ignore-invalidation", "pinned-short-term"]) {
  const r = await explore(driver, { topology: TOPO, runs: 10_000, seed: 1 });
  bugs[driver] = r.finding ? { runs: r.runs, steps: r.finding.scenario.steps.length, foundBy: r.finding.foundBy, reproduced: r.finding.reproduced } : { runs: r.runs, steps: null };
}

const rows = [
  ["explored runs/s (one core, odp)", perSec.toFixed(0)],
  ...Object.entries(correct).map(([d, c]) => [`${d}: runs, violations, states, s (${c.workers} workers)`, `${c.runs}, ${c.violations}, ${c.distinctStates}, ${c.seconds}`]),
  ...Object.entries(bugs).map(([d, b]) => [`${d}: found after runs, steps`, b.steps === null ? `not found in ${b.runs}` : `${b.runs}, ${b.steps} (${b.foundBy})`]),
];
for (const [k, v] of rows) console.log(`${k.padEnd(60)} ${v}`);
console.log(`(${availableParallelism()} cores; target: >= 1000 runs/s per core, 0 violations, each bug within 10^4 runs and <= 10 steps)`);

const file = new URL("./results.json", import.meta.url);
const results = existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : {};
Object.assign(results, { exploreRunsPerSec: Math.round(perSec), exploreCorrect: correct, exploreBugs: bugs });
writeFileSync(file, JSON.stringify(results, null, 2) + "\n");
