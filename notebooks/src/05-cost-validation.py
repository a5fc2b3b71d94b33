# Writes notebooks/05-cost-validation.ipynb (cells kept here as plain text so they can be reviewed in diffs).
import sys

sys.dont_write_bytecode = True  # importing course/ leaves no __pycache__ in notebooks/src
from course import code, heading, md, write  # noqa: E402

cells = [
md(heading("05") + """

**Question:** a designer quotes the kit's numbers only if they predict published measurements, and
only if no parameter was worked back from the measurement it is checked against. How close is the
model, target by target, and which of its numbers are read from a source and which are assumptions?

Every entry of `data/validation/` is one published measurement with its source and a machine-readable
source id: the twelve reproduction targets of `reference/costs.md` §6.4 (T1–T12) and a held-out set
from other machines (one- and two-socket Intel and AMD hosts, PCIe Gen3 to Gen5, GPUs, a NIC, an NVMe
drive, a UVM fault batch). Each names the machine as a topology and a scenario; we run it through
`p2pdma-lab run --json` exactly as a user would, **with no calibration named**: the parameters come
from `data/calibration/default.json` and the platform profile the machine matches (CPU vendor,
family, model, PCIe generation). A few figures no scenario step exposes (a device's DMA read
latency, IOTLB misses, a fault batch, a shootdown ratio) are probes of the same model."""),
code("""import * as Plot from "@observablehq/plot";
import { cli, bufferIo, sim, loadCalibration, loadScenario, loadTopologyFile, runScenario, show, plotDocument, type RunResult } from "p2pdma-lab";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "fs";
import { join, resolve } from "path";
import { tmpdir } from "os";

const V = resolve("../data/validation");
const read = (kind: string) => readdirSync(join(V, kind)).filter((f) => f.endsWith(".json")).sort()
  .map((f) => sim.parseValidationEntry(JSON.parse(readFileSync(join(V, kind, f), "utf8")), f));
const entries = [...read("targets"), ...read("held-out")];
const tmp = mkdtempSync(join(tmpdir(), "validation-"));
/** The entry's scenario, its paths absolute (they are relative to data/validation/). */
const scenarioOf = (e: sim.ValidationEntrySpec) => {
  const s: Record<string, unknown> = { ...e.scenario, topology: resolve(V, e.scenario!.topology as string) };
  if (typeof s.calibration === "string" && s.calibration.endsWith(".json")) s.calibration = resolve(V, s.calibration);
  return s;
};
console.log(`${entries.filter((e) => e.kind === "target").length} target figures, ${entries.filter((e) => e.kind === "held-out").length} held-out figures`);"""),
md("""## Every figure through the CLI
A scenario entry is written to a file and run with `run --json`; its value is read from the step
the entry names (a transfer's or a parallel step's `gbps`, or `ns`). A probe entry evaluates the
same model on the entry's machine."""),
code("""async function predict(e: sim.ValidationEntrySpec): Promise<number> {
  if (!e.scenario) return sim.probeValue(e, sim.buildLinkGraph(loadTopologyFile(resolve(V, e.topology!)), loadCalibration()));
  const file = join(tmp, `${e.id}.json`);
  writeFileSync(file, JSON.stringify(scenarioOf(e)));
  const io = bufferIo();
  const status = await cli(["run", file, "--json"], io);
  if (status !== 0) throw new Error(`${e.id}: exit ${status} ${io.stderr()}`);
  const run: RunResult = JSON.parse(io.stdout());
  return sim.measuredValue(e, run);
}
const rows: { id: string; kind: string; title: string; sourceId: string; published: number; model: number; error: number; unit: string; tolerance?: number; met?: boolean }[] = [];
for (const e of entries) {
  const model = await predict(e);
  const error = sim.relativeError(model, e.published);
  rows.push({ id: e.id, kind: e.kind, title: e.title, sourceId: e.sourceId, published: e.published, model, error, unit: e.unit, tolerance: e.tolerance,
    met: e.tolerance === undefined ? undefined : Math.abs(error) <= e.tolerance });
}
const pct = (x: number) => `${x >= 0 ? "+" : ""}${(100 * x).toFixed(1)}%`;
console.log("id".padEnd(36) + "source id".padEnd(58) + "published".padStart(10) + "model".padStart(10) + "  unit  " + "error".padStart(8) + "  verdict");
for (const r of rows) console.log(r.id.padEnd(36) + r.sourceId.padEnd(58) + String(r.published).padStart(10) + r.model.toFixed(2).padStart(10) + `  ${r.unit.padEnd(6)}` + pct(r.error).padStart(8) +
  (r.met === undefined ? "" : r.met ? `  met (±${(100 * r.tolerance!).toFixed(0)}%)` : `  MISSED (±${(100 * r.tolerance!).toFixed(0)}%)`));"""),
md("""## Which numbers are predicted, and which are assumptions
Each entry is run again in-process with a calibration that records the parameters the model reads;
a parameter counts as *used* when raising it (by 10%, or doubling a size or count) moves the entry's
value by more than 0.1%. The entry is
*predicted from sources* when every used parameter was read (READ) or derived from read numbers
(DERIVED) in a publication other than the entry's own; it *rests on assumptions* when some used
parameter is recalled (MEMORY) or estimated (ESTIMATE). No used parameter may come from the entry's
own publication (the calibration-discipline test checks the same)."""),
code("""const used = new Map<string, string[]>();
const verdict = new Map<string, string>();
for (const e of entries) {
  // Loaded once per entry: the machine and the calibration the entry runs under.
  const input = e.scenario ? loadScenario(scenarioOf(e)) : undefined;
  const machine = loadTopologyFile(resolve(V, (e.scenario?.topology as string | undefined) ?? e.topology!));
  const base = input ? input.calibration : loadCalibration();
  /** The entry's value under its calibration as `adjust` changes it. */
  const valueWith = (e: sim.ValidationEntrySpec, adjust: (c: sim.Calibration) => sim.Calibration): number => input
    ? sim.measuredValue(e, runScenario({ ...input, topology: machine, calibration: adjust(base) }).result)
    : sim.probeValue(e, sim.buildLinkGraph(machine, adjust(base)));
  let reads = new Set<string>();
  const v0 = valueWith(e, (c) => { const t = sim.trackReads(c); reads = t.reads!; return t; });
  const resolved = sim.forMachine(base, machine);
  // Raise each parameter read by 10% (a size that must be a power of two, or a count, doubles).
  const moves = (n: string) => {
    const p = resolved.params[n as sim.ParamName];
    const whole = ["B", "requests", "faults", "entries", "pages", "cpus", "walks", "gen", "lanes"].includes(p.unit);
    const v = valueWith(e, (c) => sim.withParams(c, { [n]: whole ? p.value * 2 : p.value * 1.1 }));
    return Math.abs(v - v0) > 1e-3 * Math.abs(v0);
  };
  const names = [...reads].filter((n) => { try { return moves(n); } catch { return true; } }) as sim.ParamName[];
  used.set(e.id, names);
  const own = names.filter((n) => resolved.params[n].sourceId?.split("@")[0] === e.sourceId.split("@")[0]);
  if (own.length) throw new Error(`${e.id} uses ${own.join(", ")} from its own source`);
  const assumed = names.filter((n) => ["MEMORY", "ESTIMATE"].includes(resolved.params[n].status));
  verdict.set(e.id, assumed.length === 0 ? "predicted from sources" : `rests on ${assumed.map((n) => `${n} (${resolved.params[n].status})`).join(", ")}`);
}
for (const r of rows) console.log(`${r.id.padEnd(36)} ${(used.get(r.id) ?? []).join(", ").padEnd(70)} ${verdict.get(r.id)}`);"""),
md("""## Published against predicted
Every figure on a log-log plane, model against published; the band is ±15%. Targets are circles,
held-out figures triangles; a point on the diagonal is a perfect prediction."""),
code("""const byUnit = rows.map((r) => ({ ...r, absError: Math.abs(r.error), within: Math.abs(r.error) <= 0.15 ? "within 15%" : Math.abs(r.error) <= 0.5 ? "15-50%" : "beyond 50%" }));
const lo = Math.min(...rows.map((r) => Math.min(r.published, r.model))) / 1.5, hi = Math.max(...rows.map((r) => Math.max(r.published, r.model))) * 1.5;
const diag = [lo, hi].map((x) => ({ x }));
show("05-published-vs-model", Plot.plot({
  document: plotDocument(),
  width: 760, height: 560, grid: true,
  title: "Every figure: the model against the published measurement (±15% band)",
  x: { type: "log", label: "published (each figure in its own unit: GB/s, Gb/s, µs, ns, ratio; log scale)", labelAnchor: "center", domain: [lo, hi] },
  y: { type: "log", label: "model (same unit as published; log scale)", domain: [lo, hi] },
  color: { legend: true, domain: ["within 15%", "15-50%", "beyond 50%"], range: ["#2a9d8f", "#e9c46a", "#e76f51"] },
  symbol: { legend: true },
  marks: [
    Plot.areaY(diag, { x: "x", y1: (d: { x: number }) => d.x / 1.15, y2: (d: { x: number }) => d.x * 1.15, fill: "#ddd", fillOpacity: 0.5 }),
    Plot.line(diag, { x: "x", y: "x", stroke: "#888" }),
    Plot.dot(byUnit, { x: "published", y: "model", stroke: "within", symbol: "kind", r: 5, strokeWidth: 2 }),
    Plot.text(byUnit.filter((r) => r.absError > 0.15), { x: "published", y: "model", text: "id", dx: 8, textAnchor: "start", fontSize: 9 }),
  ],
}));"""),
code("""const sorted = [...byUnit].sort((a, b) => a.error - b.error);
show("05-errors", Plot.plot({
  document: plotDocument(),
  width: 760, height: 40 + 14 * sorted.length, marginLeft: 230,
  title: "Model error per figure, sorted (dashed: ±15%)",
  x: { label: "model error against the published figure (%)", labelAnchor: "center", grid: true, domain: [-100, Math.max(100, 100 * Math.max(...rows.map((r) => r.error)))] },
  y: { label: "figure (validation entry id)", domain: sorted.map((r) => r.id) },
  color: { legend: true },
  marks: [
    Plot.ruleX([-15, 15], { stroke: "#aaa", strokeDasharray: "3,3" }),
    Plot.ruleX([0]),
    Plot.barX(sorted, { y: "id", x: (r: { error: number }) => 100 * r.error, fill: "kind" }),
  ],
}));"""),
md("""## The summary the issue asks for"""),
code("""const held = rows.filter((r) => r.kind === "held-out"), targets = rows.filter((r) => r.kind === "target");
const sh = sim.errorSummary(held.map((r) => r.error)), st = sim.errorSummary(targets.map((r) => r.error));
console.log(`held-out: ${sh.count} figures, median |error| ${pct(sh.median)}, worst ${pct(sh.worst)}, ${sh.within15} within 15%, ${held.filter((r) => Math.abs(r.error) > 0.5).length} beyond 50%`);
console.log(`targets:  ${st.count} figures, median |error| ${pct(st.median)}, worst ${pct(st.worst)}, ${targets.filter((r) => r.met).length} within costs.md's tolerance`);
const predicted = rows.filter((r) => verdict.get(r.id) === "predicted from sources");
console.log(`predicted from sources only: ${predicted.length} of ${rows.length} (${predicted.map((r) => r.id).join(", ")})`);
for (const r of [...held].sort((a, b) => Math.abs(b.error) - Math.abs(a.error)).slice(0, 6)) console.log(`  worst held-out: ${r.id} ${pct(r.error)}: ${r.title}`);"""),
md("""## Conclusion
- **The held-out set meets the median, not the worst case.** 21 figures from machines the kit was never
  tuned on give a median |error| of 5.9 %, 11 of them within 15 %; five are off by more than 50 %, the worst
  by +284 % (a P100 writing to the other socket's memory). The issue's bar (median ≤ 15 %, none worse than
  50 %) is met for the median and missed for the worst. Of the 26 target figures (T1–T12), 17 are within
  costs.md's tolerance (median |error| 4.7 %).
- **Links, packets and NVLink predict well.** Copies one link bounds (host copies on Gen3, Gen4 and Gen5, a
  400 Gb/s NIC, a Gen5 NVMe drive, P2P below a switch or between root ports of one AMD socket, H100 NVLink
  both ways at once) come within ±6 % from the pcie-model formulas, the lspci capabilities and NCCL's
  per-link NVLink rates alone; the staged (P2P-disabled) copies of T4 and T6 within +7 % from a hand-off
  measured on a third machine.
- **The socket interconnect is where it fails.** DMA and P2P across sockets miss both ways: NCCL's socket
  bandwidths are too low for Genoa and Turin P2P (−36 % to −39 %) and far too high for a Haswell-era P100
  writing the other socket's memory (+158 %, +284 %); a Milan host moving both directions at once gets
  +71 %. No published mechanism gives these; they stay in the table with their error.
- **Device limits the kit cannot know miss too.** RTX 4090 P2P on Zen 2 (T6, +166 %), MI25 P2P across Zen 1
  dies (+87 %) and through a Haswell root complex (+32 %), and a single-stream A10 copy (+35 %) run below
  their links; the NFP-6000's own DMA engine caps T9's random reads (+56 %); a UVM fault batch took 9–28 µs
  where the model's recalled 35 µs gives +98 %.
- **What is assumed is listed.** 28 of the 47 figures are predicted from sourced numbers only; the rest rest
  on the latency parts (link, root complex, memory, DMA issue), the fault batch pass, the staging chunk, the
  IPI costs or the IOTLB size, each MEMORY or ESTIMATE and named above. T8's 64 B latency lands on the
  measurement only because those assumptions sum to it, which says nothing of their split."""),
]
write("05", cells)
