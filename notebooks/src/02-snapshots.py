# Writes notebooks/02-snapshots.ipynb (cells kept here as plain text so they can be reviewed in diffs).
import sys

sys.dont_write_bytecode = True  # importing course/ leaves no __pycache__ in notebooks/src
from course import code, heading, md, write  # noqa: E402

cells = [
md(heading("02") + """

**Question:** a driver mirrors a process range with `hmm_range_fault` (or, without faulting, the
`hmm_vma_get_pfns`-style snapshot of the 2016 design). What does it see, page by page, as the buffer's pages move
between system RAM, a device with **device-private** memory (`dmirror0`, not CPU-addressable) and one with
**device-coherent** memory (`dmirror2`)? And how does the same range look to the owning device and to another device?

We run one scenario on the builtin `dmirror` machine (the four test devices of `lib/test_hmm.c` under one PCIe
switch) and take a snapshot from three devices after each step. Snapshot strings use the selftest's vocabulary:
`NONE`, `READ`, `WRITE`, and qualifiers `ZERO`, `DEV_PRIVATE_LOCAL`, `DEV_COHERENT_LOCAL`, `DEV_COHERENT_REMOTE`."""),
code("""import * as Plot from "@observablehq/plot";
import { loadScenario, runScenario, resultOf, show, plotDocument } from "p2pdma-lab";

const PAGES = 32;
const viewers = ["dmirror0", "dmirror1", "dmirror2"];
// Each stage: the steps that change the buffer, then a snapshot from every viewer.
const stages: { name: string; steps: object[] }[] = [
  { name: "1 mmap, untouched", steps: [{ op: "mmap", buffer: "a", pages: PAGES, prot: "rw" }] },
  { name: "2 CPU writes pages 0-23", steps: [{ op: "cpuWrite", buffer: "a", first: 0, count: 24, value: "index" }] },
  { name: "3 dmirror0 takes 0-7 (device-private)", steps: [{ op: "migrateToDevice", device: "dmirror0", buffer: "a", first: 0, count: 8 }] },
  { name: "4 dmirror2 takes 8-15 (device-coherent)", steps: [{ op: "migrateToDevice", device: "dmirror2", buffer: "a", first: 8, count: 8 }] },
  { name: "5 dmirror1 reads all (faulting)", steps: [{ op: "deviceRead", device: "dmirror1", buffer: "a" }] },
  { name: "6 dmirror0 takes 0-7 again", steps: [{ op: "migrateToDevice", device: "dmirror0", buffer: "a", first: 0, count: 8 }] },
  { name: "7 CPU reads pages 0-3", steps: [{ op: "cpuRead", buffer: "a", first: 0, count: 4 }] },
  { name: "8 dmirror2 gives 8-15 back", steps: [{ op: "migrateToSystem", device: "dmirror2", buffer: "a", first: 8, count: 8 }] },
];
const steps: object[] = [];
const rowOf: { stage: string; viewer: string }[] = [];
for (const s of stages) {
  steps.push(...s.steps);
  for (const v of viewers) {
    rowOf[steps.length] = { stage: s.name, viewer: v };
    steps.push({ op: "snapshot", device: v, buffer: "a" });
  }
}
const run = runScenario(loadScenario({ topology: "dmirror", steps })).result;
const failed = run.steps.filter((s) => !s.ok);
console.log(`${run.steps.length} steps, ${failed.length} failed; counters: faults=${run.counters.faults} invalidations=${run.counters.invalidations} migrations=${run.counters.migrations}`);"""),
md("""## Page states, step by step
Each line: the stage, the device taking the snapshot, and runs of equal page states."""),
code("""type Cell = { page: number; row: string; state: string; stage: string; viewer: string };
const cells: Cell[] = [];
run.steps.forEach((s, i) => {
  const where = rowOf[i];
  if (!where) {
    const r = s.result !== undefined && "cpages" in s.result && "faults" in s.result ? ` cpages=${s.result.cpages} faults=${s.result.faults}` : "";
    console.log(`${s.op.padEnd(16)} ${s.ok ? "ok" : "FAIL " + s.error}${r}`);
    return;
  }
  if (s.op !== "snapshot" || !s.ok || !("entries" in s.result)) throw new Error(`step ${i} is not a snapshot with entries`);
  const entries = s.result.entries;
  const runs: string[] = [];
  for (let p = 0; p < entries.length; ) {
    let q = p;
    while (q < entries.length && entries[q] === entries[p]) q++;
    runs.push(`${p}-${q - 1}:${entries[p]}`);
    p = q;
  }
  console.log(`   seen by ${where.viewer}: ${runs.join("  ")}`);
  entries.forEach((state, page) => cells.push({ page, row: `${where.stage} · ${where.viewer}`, state, stage: where.stage, viewer: where.viewer }));
});"""),
md("""### Figure: page states over the steps, seen from each device"""),
code("""const states = [...new Set(cells.map((c) => c.state))].sort((a, b) => (a === "NONE" ? -1 : b === "NONE" ? 1 : a.localeCompare(b)));
const palette = ["#dddddd", "#f28e2b", "#4e79a7", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#e15759"]; // NONE in grey
show("02-page-states", Plot.plot({
  document: plotDocument(),
  title: "Snapshot of a 32-page buffer after each stage, from the owner and from other devices",
  width: 960, height: 24 * stages.length * viewers.length + 80, marginLeft: 290,
  x: { label: "page index in the buffer", labelAnchor: "center", tickSpacing: 40 },
  y: { label: "stage · device taking the snapshot", domain: [...new Set(cells.map((c) => c.row))] },
  color: { legend: true, domain: states, range: palette },
  marks: [Plot.cell(cells, { x: "page", y: "row", fill: "state", inset: 0.5 })],
}));"""),
md("""## Faulting against non-faulting
The snapshot (`hmm_vma_get_pfns` style, no fault flags) only reports what the CPU page table holds. A device read
uses `hmm_range_fault` with fault flags: it faults untouched pages in (the zero page for a read) and, for pages
private to another device, makes their owner migrate them back to RAM first. Count both outcomes per stage:"""),
code("""const perStage = new Map<string, Record<string, number>>();
for (const c of cells.filter((c) => c.viewer === "dmirror1")) {
  const m = perStage.get(c.stage) ?? {};
  m[c.state] = (m[c.state] ?? 0) + 1;
  perStage.set(c.stage, m);
}
for (const [stage, m] of perStage) console.log(`${stage.padEnd(36)} ${Object.entries(m).map(([k, n]) => `${k}=${n}`).join(" ")}`);
const read = resultOf(run, run.steps.findIndex((s) => s.op === "deviceRead"), "deviceRead");
console.log(`dmirror1's faulting read: cpages=${read.cpages} faults=${read.faults}; values 0-7 = ${read.values.slice(0, 8).join(",")}`);"""),
md("""## Conclusion
- **A device-private page is visible only to its owner.** After stage 3, `dmirror0` sees pages 0–7 as
  `WRITE|DEV_PRIVATE_LOCAL` while `dmirror1` sees `NONE` for them (16 `NONE` pages: those 8 and the 8 untouched): a
  snapshot without fault flags, with the viewer as `dev_private_owner`, skips another device's private pages. A
  device-coherent page is CPU-addressable, so after stage 4 the other devices see pages 8–15 too, as
  `WRITE|DEV_COHERENT_REMOTE` (8 pages), and the owner as `WRITE|DEV_COHERENT_LOCAL`.
- **A faulting read changes the buffer.** `dmirror1`'s `hmm_range_fault` (stage 5: cpages=32, faults=1) maps the
  shared zero page for the 8 untouched pages (`READ|ZERO`) and makes `dmirror0` migrate pages 0–7 back to RAM
  through its `migrate_to_ram` (16 plain `WRITE` pages afterwards): the stock behaviour the P2P design of notebook 03
  avoids. The 8 device-coherent pages stay where they are.
- **Every move shows in the counters.** The run's 44 migrations are 8 into `dmirror0`, 8 into `dmirror2`, 8 back
  by the faulting read, 8 into `dmirror0` again, 4 back by the CPU read of stage 7 (which leaves 4–7 on `dmirror0`)
  and 8 back by `migrateToSystem` in stage 8, after which `dmirror1` sees 20 plain `WRITE` pages; all 32 steps
  succeeded."""),
]
write("02", cells)
