// Benchmarks the scenario layer end to end against DESIGN §5 (scenarioNsPerPage <= 200): a
// scenario that CPU-writes a buffer, migrates it to dmirror0, snapshots it (summarized), migrates
// it back and snapshots it again, run as `p2pdma-lab run FILE --json` in a child process at 2^20
// and 2^22 pages; a 16-page run of the same scenario is subtracted as start-up. Each figure is the
// median wall time of several runs; merges `scenarioNsPerPage` (the larger of the two sizes) into
// bench/results.json.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const cli = join(root, "dist", "cli", "main.js");
const dir = mkdtempSync(join(tmpdir(), "p2pdma-bench-"));

/** The benchmark scenario over `pages` pages. */
function scenario(pages) {
  return {
    topology: "dmirror",
    steps: [
      { op: "mmap", buffer: "a", pages, prot: "rw" },
      { op: "cpuWrite", buffer: "a", value: "index" },
      { op: "migrateToDevice", device: "dmirror0", buffer: "a" },
      { op: "snapshot", device: "dmirror0", buffer: "a", summarize: true },
      { op: "migrateToSystem", device: "dmirror0", buffer: "a" },
      { op: "snapshot", device: "dmirror0", buffer: "a", summarize: true },
    ],
  };
}

/** Wall time (ms) of one `run --json` of the scenario file; checks every step succeeded. */
function runOnce(file, pages) {
  const t0 = performance.now();
  const out = execFileSync(process.execPath, [cli, "run", file, "--json"], { maxBuffer: 1 << 30, encoding: "utf8" });
  const ms = performance.now() - t0;
  const res = JSON.parse(out);
  const failed = res.steps.find((s) => !s.ok);
  if (failed) throw new Error(`scenario at ${pages} pages: step ${failed.op} failed: ${failed.error}`);
  const back = res.steps[4].result.cpages;
  if (back !== pages) throw new Error(`scenario at ${pages} pages: migrateToSystem moved ${back} pages`);
  return ms;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}

/** Median wall time (ms) of `runs` runs at `pages` pages. */
function timeAt(pages, runs) {
  const file = join(dir, `scenario-${pages}.json`);
  writeFileSync(file, JSON.stringify(scenario(pages)));
  runOnce(file, pages); // warm the file cache
  const samples = [];
  for (let k = 0; k < runs; k++) samples.push(runOnce(file, pages));
  return median(samples);
}

try {
  const base = timeAt(16, 7);
  const rows = [["start-up (16 pages)", `${base.toFixed(0)} ms`, ""]];
  const per = [];
  for (const e of [20, 22]) {
    const pages = 2 ** e;
    const ms = timeAt(pages, e === 20 ? 5 : 3);
    const ns = ((ms - base) * 1e6) / pages;
    per.push(ns);
    rows.push([`scenario at 2^${e} pages`, `${ms.toFixed(0)} ms, ${ns.toFixed(1)} ns/page`, "<= 200 ns/page"]);
  }
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  console.log(`${"figure".padEnd(w0)}  ${"measured".padEnd(w1)}  target`);
  for (const [a, b, c] of rows) console.log(`${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c}`);
  // Read-modify-write: the other benches own the other keys.
  const file = join(root, "bench", "results.json");
  const merged = { ...(existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : {}), scenarioNsPerPage: Number(Math.max(...per).toFixed(1)) };
  writeFileSync(file, `${JSON.stringify(merged, null, 2)}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
