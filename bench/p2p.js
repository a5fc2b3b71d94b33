// P2P property-run benchmark (issue 5): runs random scenarios from the property test's generator
// (test/p2p/arbitrary.ts, mirrored here in plain JS: touch, migrate, peer map, DMA, evict, munmap,
// fork and mprotect across gpu0, gpu1 and nic0 of data/topologies/p2p-three-devices.json, correct driver)
// for up to 10^5 runs or ~60 s, prints runs/s and the extrapolated time of 10^5 runs, and merges
// `p2pRunsPerSec` into bench/results.json (read-modify-write: other benches own the other keys).
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import fc from "fast-check";
import { loadCalibration, loadTopologyFile, runScenario } from "../dist/index.js";

const TOPO = new URL("../data/topologies/p2p-three-devices.json", import.meta.url).pathname;
const RUNS = 100_000;
const BUDGET_MS = 60_000;
const PAGES = 6;
const GPUS = ["gpu0", "gpu1"];
const CLIENTS = ["nic0", "gpu0", "gpu1"];
const buffer = "a";
const policy = "correct";
const rng = fc.integer({ min: 0, max: PAGES - 1 }).chain((first) => fc.integer({ min: 1, max: PAGES - first }).map((count) => ({ first, count })));
const one = fc.oneof(
  rng.map((r) => ({ op: "cpuWrite", buffer, ...r, value: 1 })),
  rng.map((r) => ({ op: "cpuRead", buffer, ...r })),
  fc.tuple(fc.constantFrom(...GPUS), rng).map(([device, r]) => ({ op: "migrateToDevice", device, buffer, ...r })),
  fc.tuple(fc.constantFrom(...GPUS), rng).map(([device, r]) => ({ op: "migrateToSystem", device, buffer, ...r })),
  fc.tuple(fc.constantFrom(...CLIENTS), rng).map(([device, r]) => ({ op: "peerMap", device, buffer, ...r, policy })),
  fc.tuple(fc.constantFrom(...CLIENTS), rng).map(([device, r]) => ({ op: "dma", device, buffer, ...r })),
  fc.tuple(fc.constantFrom(...CLIENTS), rng).map(([device, r]) => ({ op: "dma", device, buffer, ...r, value: 2 })),
  fc.tuple(fc.constantFrom(...CLIENTS), rng).map(([device, r]) => ({ op: "peerUnmap", device, buffer, ...r })),
  fc.constantFrom(...GPUS).map((device) => ({ op: "release", device, buffer })),
  rng.map((r) => ({ op: "munmap", buffer, ...r })),
  fc.constant({ op: "fork", child: "child" }),
  fc.tuple(rng, fc.constantFrom("r", "rw")).map(([r, prot]) => ({ op: "mprotect", buffer, ...r, prot })),
).map((s) => [s]);
const burst = fc.tuple(fc.constantFrom(...GPUS), fc.constantFrom(...CLIENTS), rng, fc.boolean()).map(([gpu, device, r, write]) => [
  { op: "migrateToDevice", device: gpu, buffer, ...r },
  { op: "peerMap", device, buffer, ...r, policy },
  write ? { op: "dma", device, buffer, ...r, value: 3 } : { op: "dma", device, buffer, ...r },
]);
const scenario = fc.array(fc.oneof({ arbitrary: one, weight: 3 }, { arbitrary: burst, weight: 1 }), { minLength: 1, maxLength: 8 })
  .map((g) => [{ op: "mmap", buffer, pages: PAGES, prot: "rw" }, { op: "cpuWrite", buffer, value: "index" }, ...g.flat()]);

const fabric = loadTopologyFile(TOPO);
const calibration = loadCalibration("default");
// Generation is not timed: scenarios are drawn in batches first.
let runs = 0;
let violations = 0;
let ms = 0;
let seed = 1;
while (runs < RUNS && ms < BUDGET_MS) {
  const batch = fc.sample(scenario, { seed: seed++, numRuns: 1000 });
  const t0 = performance.now();
  for (const steps of batch) violations += runScenario({ scenario: { topology: TOPO, steps }, topology: fabric, calibration }).result.violations.length;
  ms += performance.now() - t0;
  runs += batch.length;
}
const perSec = runs / (ms / 1000);
const rows = [
  ["random P2P runs", String(runs)],
  ["violations (correct driver)", String(violations)],
  ["runs/s", perSec.toFixed(0)],
  ["10^5 runs (s)", (RUNS / perSec).toFixed(1)],
];
for (const [k, v] of rows) console.log(`${k.padEnd(30)} ${v}`);
const file = new URL("results.json", import.meta.url);
const results = existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : {};
results.p2pRunsPerSec = Math.round(perSec);
writeFileSync(file, JSON.stringify(results, null, 2) + "\n");
