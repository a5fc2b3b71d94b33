# Writes notebooks/02-snapshots.ipynb (cells kept here as plain text so they can be reviewed in diffs).
import sys

import nbformat
from nbformat.v4 import new_notebook, new_markdown_cell as md, new_code_cell as code

cells = [
md("""# 02 · What a snapshot sees while a buffer moves between RAM and devices

**Question:** a driver mirrors a process range with `hmm_range_fault` (or, without faulting, the
`hmm_vma_get_pfns`-style snapshot of the 2016 design). What does it see, page by page, as the buffer's pages move
between system RAM, a device with **private** memory (`dmirror0`, CPU-unaddressable) and one with **coherent** memory
(`dmirror2`)? And how does the same range look to the owning device and to another device?

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
  { name: "3 dmirror0 takes 0-7 (private)", steps: [{ op: "migrateToDevice", device: "dmirror0", buffer: "a", first: 0, count: 8 }] },
  { name: "4 dmirror2 takes 8-15 (coherent)", steps: [{ op: "migrateToDevice", device: "dmirror2", buffer: "a", first: 8, count: 8 }] },
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
  title: "Snapshot of a 32-page buffer after each step, from the owner and from other devices",
  width: 960, height: 24 * stages.length * viewers.length + 80, marginLeft: 290,
  x: { label: "page", tickSpacing: 40 }, y: { label: null, domain: [...new Set(cells.map((c) => c.row))] },
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
md("""## What this shows
- A private page is visible only to its owner: `dmirror0` sees `WRITE|DEV_PRIVATE_LOCAL` for pages 0–7 while every
  other device sees `NONE` (its snapshot is made with itself as `dev_private_owner`, and without fault flags). A
  coherent page is CPU-addressable, so the other devices see it too, as `WRITE|DEV_COHERENT_REMOTE`.
- The faulting read by `dmirror1` (stage 5) changes the buffer: the untouched pages 24–31 get the shared zero page
  (`READ|ZERO`), and pages 0–7 are migrated back from `dmirror0` to RAM through its `migrate_to_ram`: the stock
  behaviour the P2P design (notebook 03) avoids. The coherent pages stay where they are.
- A CPU read of a private page (stage 7) also migrates it back; the owner's mirror loses it (the invalidation), and
  `migrateToSystem` returns the coherent pages to plain `WRITE` system pages."""),
]
nb = new_notebook(cells=cells, metadata={"kernelspec": {"name": "tslab", "display_name": "TypeScript", "language": "typescript"}, "language_info": {"name": "typescript"}})
# The notebook goes next to notebooks/src, or where the first argument says.
nbformat.write(nb, sys.argv[1] if len(sys.argv) > 1 else __file__.replace("/src/", "/").replace(".py", ".ipynb"))
