# Writes notebooks/04-migration-costs.ipynb (cells kept here as plain text so they can be reviewed in diffs).
import sys

sys.dont_write_bytecode = True  # importing course/ leaves no __pycache__ in notebooks/src
from course import code, heading, md, write  # noqa: E402

cells = [
md(heading("04") + """

**Question:** when a driver moves a buffer between host RAM and a device with `migrate_vma`, how long does it
take, and how much of that is the copy? How does the answer change with the migration granularity (4 KiB base
pages, 64 KiB UVM big pages, 2 MiB huge pages), with fault-driven migration against an explicit prefetch, and
with the direction (RAM → device, device → RAM)?

The cost layer (`sim`) prices each part a driver pays (costs.md §6.2): device faults fetched from the fault
buffer and serviced in batches of at most 256 (UVM `uvm_perf_fault_batch_count`), `migrate_vma_setup` plus
per-page unmap/remap work, the copy as a DMA transfer over the machine's real PCIe path (whole TLPs, the path's
hop latencies, a read bounded by the device's tags over its round trip), the batched TLB shootdown (Linux 6.3,
≤ 512 pages per flush, an IPI whose cost grows with the CPUs of the process), and `migrate_vma_finalize`. We use
a PCIe Gen3 x16 host, the link the UVMSmart simulator (ISCA 2019) models, with no calibration of its own: the
parameters come from the defaults and the platform profile the machine matches. We draw the model over that
artifact's transfer-time points, which the model does not use. Per-page software costs marked ESTIMATE or
MEMORY are assumptions, not measurements; the figures say which curve is which. At the end one scenario run is
written as a Perfetto trace next to the figures."""),
code("""import * as Plot from "@observablehq/plot";
import { sim, loadCalibration, loadTopologyFile, cli, bufferIo, show, plotDocument, FIGURES_ENV, type RunResult } from "p2pdma-lab";
import { mkdirSync, writeFileSync, readFileSync } from "fs";
import { join, resolve } from "path";

const fabric = loadTopologyFile("../data/topologies/pcie-gen3-host.json");
const g = sim.buildLinkGraph(fabric, loadCalibration());
const cal = g.calibration; // the defaults with the platform profile the machine matches
const dev = "dev2"; // a Gen3 x16 endpoint straight below a root port
const KiB = 1024, MiB = 1024 * KiB;
const toDev = sim.migrationPath(g, dev, "toDevice");
const toRam = sim.migrationPath(g, dev, "toRam");
console.log(`${fabric.name}, platform ${cal.platform}; ${dev} host bridge IOMMU: ${fabric.hostBridges[0].iommu}`);
console.log(`RAM -> ${dev}: ${toDev.kind} path, class ${toDev.topoClass}, resources ${toDev.resources.map((r) => g.resourceNames[r]).join(", ")}, round trip ${toDev.latencyNs} ns`);
console.log(`${dev} -> RAM: ${toRam.kind} path, latency ${toRam.latencyNs} ns`);
for (const p of ["faultBatchMax", "deviceFaultBatchNs", "deviceFaultPageNs", "migrateSetupNs", "migratePageNs", "migrateFinalizeNs", "migrateBatchMax", "ipiShootdownNs", "ipiPerCpuNs", "mmCpus"] as const) {
  const s = cal.params[p];
  console.log(`  ${p.padEnd(20)} ${String(s.value).padStart(7)} ${s.unit.padEnd(6)} ${s.status.padEnd(9)} ${s.sourceId}`);
}"""),
md("""## Migration time against size and granularity
A prefetch (one `migrate_vma` call over the range, as `cudaMemPrefetchAsync` or the dmirror migrate ioctl do)
of 4 KiB to 64 MiB from RAM to the device, at each granularity. The copy runs at the path's rate (TLP overhead,
the requests a device pulling from RAM keeps in flight over its round trip); everything else is per page or
per call."""),
code("""const grans = [["4 KiB", 4 * KiB], ["64 KiB", 64 * KiB], ["2 MiB", 2 * MiB]] as const;
const sizes: number[] = [];
for (let s = 4 * KiB; s <= 64 * MiB; s *= 4) sizes.push(s);
const rows: { size: number; granularity: string; mode: string; direction: string; us: number; copyShare: number }[] = [];
for (const [gname, gb] of grans) for (const size of sizes) {
  if (size < gb) continue;
  for (const direction of ["toDevice", "toRam"] as const) for (const mode of ["prefetch", "fault"] as const) {
    const m = sim.migrationCost(g, { device: dev, direction, bytes: size, pageBytes: gb, mode });
    rows.push({ size, granularity: gname, mode, direction, us: m.ns / 1000, copyShare: m.parts.copy / m.ns });
  }
}
const fmt = (b: number) => b >= MiB ? `${b / MiB} MiB` : `${b / KiB} KiB`;
console.log("prefetch RAM -> device (us; copy share of the time)");
console.log("size".padStart(8) + grans.map(([n]) => n.padStart(20)).join(""));
for (const size of sizes) {
  const cells = grans.map(([n]) => {
    const r = rows.find((x) => x.size === size && x.granularity === n && x.mode === "prefetch" && x.direction === "toDevice");
    return (r ? `${r.us.toFixed(1)} (${(100 * r.copyShare).toFixed(0)}%)` : "-").padStart(20);
  });
  console.log(fmt(size).padStart(8) + cells.join(""));
}"""),
md("""## Against the published points
UVMSmart (gpgpu-sim_UVMSmart, the ISCA 2019 artifact, costs.md §3.1) times each migration with a curve fitted
to measured transfer latency on a 16 GB/s link: 1.76 µs for 4 KB, 5.88 µs for 64 KB, 82.1 µs for 1 MB, and
327 µs for 2 MB (halved speed at ≥ 2 MB, a modelling rule of the artifact). We draw the points and compare
them with the model's transfer alone (`costTransfer` on the same Gen3 x16 path: the round trip, whole
packets, the bytes at the path's rate) and with a whole migration of one chunk of that size (granularity =
size). Those points are target T10 of notebook 05; the model's numbers come from the path, not from them."""),
code("""const published = [
  { size: 4 * KiB, us: 1.76 }, { size: 16 * KiB, us: 2.32 }, { size: 64 * KiB, us: 5.88 },
  { size: 256 * KiB, us: 21.1 }, { size: 1 * MiB, us: 82.1 }, { size: 2 * MiB, us: 327 },
].map((p) => ({ ...p, source: "UVMSmart ISCA'19 artifact transfer curve (costs.md §3.1)" }));
const uvms = loadCalibration("uvmsmart");
const cmp = published.map((p) => {
  const xfer = sim.costTransfer(g, toDev, p.size).ns / 1000;
  const whole = sim.migrationCost(g, { device: dev, direction: "toDevice", bytes: p.size, pageBytes: p.size }).ns / 1000;
  return { ...p, formula: sim.uvmSmartTransferNs(uvms, p.size) / 1000, xfer, whole };
});
console.log("size      published  UVMSmart formula  model transfer  model migration (us)");
for (const c of cmp) console.log(`${fmt(c.size).padEnd(9)} ${c.us.toFixed(2).padStart(9)} ${c.formula.toFixed(2).padStart(17)} ${c.xfer.toFixed(2).padStart(15)} ${c.whole.toFixed(2).padStart(20)}`);
console.log(`UVMSmart far-fault: ${(sim.uvmSmartFaultNs(uvms) / 1000).toFixed(1)} us per faulting page; model device fault batch: ${cal.params.deviceFaultBatchNs.value / 1000} us per <= ${cal.params.faultBatchMax.value} faults`);"""),
code("""const lines = rows.filter((r) => r.mode === "prefetch" && r.direction === "toDevice").map((r) => ({ ...r, curve: `model migrate_vma, ${r.granularity} pages` }));
const xfer = sizes.map((size) => ({ size, us: sim.costTransfer(g, toDev, size).ns / 1000, curve: "model transfer alone (Gen3 x16 read path)" }));
show("04-migration-vs-size", Plot.plot({
  document: plotDocument(),
  title: "RAM → device prefetch by granularity, against UVMSmart's points",
  width: 760, height: 460, marginRight: 40,
  x: { type: "log", base: 2, label: "bytes migrated (log scale)", labelAnchor: "center", ticks: sizes, tickFormat: (d: number) => fmt(d) },
  y: { type: "log", label: "time (µs, log scale)", grid: true },
  color: { legend: true },
  symbol: { legend: true },
  marks: [
    Plot.line([...lines, ...xfer], { x: "size", y: "us", stroke: "curve", marker: "circle" }),
    Plot.dot(published, { x: "size", y: "us", symbol: "source", r: 6, stroke: "black", fill: "none" }),
    Plot.text(published, { x: "size", y: "us", text: (d: { us: number }) => `${d.us} µs`, dx: 10, dy: -8, textAnchor: "start", fontSize: 10 }),
  ],
}));"""),
md("""## Fault-driven against prefetch, RAM to device and back
Fault-driven to the device: the GPU faults on each page, the driver fetches up to 256 faults per batch, pays one
service pass per batch and migrates that batch with its own `migrate_vma` call. Fault-driven back to RAM: each CPU
touch of a device-private page faults and `migrate_to_ram` moves that one page (mm/memory.c `do_swap_page`).
Prefetch moves the whole range in one call either way. The UVMSmart-compatible mode (45 µs per faulting page,
serialised, plus the transfer curve) is drawn as the published model."""),
code("""const four = rows.filter((r) => r.granularity === "4 KiB").map((r) => ({ ...r, curve: `${r.mode} ${r.direction === "toDevice" ? "RAM → device" : "device → RAM"}` }));
const uvmsFault = sizes.map((size) => ({ size, us: (size / 4096) * (sim.uvmSmartFaultNs(uvms) + sim.uvmSmartTransferNs(uvms, 4096)) / 1000, curve: "UVMSmart mode: 45 µs per faulting 4 KB page + transfer" }));
for (const size of [64 * KiB, 4 * MiB, 64 * MiB]) {
  const at = (mode: string, direction: string) => four.find((r) => r.size === size && r.mode === mode && r.direction === direction)!.us;
  console.log(`${fmt(size).padStart(7)}: RAM->dev prefetch ${at("prefetch", "toDevice").toFixed(0)} us, fault ${at("fault", "toDevice").toFixed(0)} us (x${(at("fault", "toDevice") / at("prefetch", "toDevice")).toFixed(1)}); ` +
    `dev->RAM prefetch ${at("prefetch", "toRam").toFixed(0)} us, CPU-fault ${at("fault", "toRam").toFixed(0)} us (x${(at("fault", "toRam") / at("prefetch", "toRam")).toFixed(1)}); ` +
    `UVMSmart fault mode ${uvmsFault.find((u) => u.size === size)!.us.toFixed(0)} us`);
}
show("04-fault-vs-prefetch", Plot.plot({
  document: plotDocument(),
  title: "Fault-driven against prefetch at 4 KiB pages, both directions",
  width: 760, height: 460, marginRight: 40,
  x: { type: "log", base: 2, label: "bytes migrated in 4 KiB pages (log scale)", labelAnchor: "center", ticks: sizes, tickFormat: (d: number) => fmt(d) },
  y: { type: "log", label: "time (µs, log scale)", grid: true },
  color: { legend: true },
  marks: [
    Plot.line(four, { x: "size", y: "us", stroke: "curve", marker: "dot" }),
    Plot.line(uvmsFault, { x: "size", y: "us", stroke: "curve", strokeDasharray: "4,3" }),
  ],
}));"""),
md("""## One run, as a scenario and as a Perfetto trace
The same machine question as a scenario on the builtin `dmirror` host (four devices under one switch): the
process writes a 2 MiB buffer, migrates it to `dmirror0`, touches four pages from the CPU (four fault-driven
migrations back), migrates the rest back, then prices two designs of moving 64 MiB from `dmirror0` to
`dmirror1` (`transfer` steps: P2P through the switch, and a bounce through host RAM), and finally pushes 64 MiB
from each of the four devices to RAM at once (a `parallel` step: the four share the switch's uplink).
`run --trace` writes the Chrome trace that Perfetto (ui.perfetto.dev) opens: a track per device, per link
direction, and one for steps."""),
code("""const figures = resolve(process.env[FIGURES_ENV] ?? "figures");
mkdirSync(figures, { recursive: true });
const scenario = {
  topology: "dmirror",
  steps: [
    { op: "mmap", buffer: "a", pages: 512 },
    { op: "cpuWrite", buffer: "a", value: "index" },
    { op: "migrateToDevice", device: "dmirror0", buffer: "a" },
    { op: "cpuRead", buffer: "a", count: 4 },
    { op: "migrateToSystem", device: "dmirror0", buffer: "a" },
    { op: "transfer", from: "dmirror0", to: "dmirror1", bytes: "64MiB", design: "p2p" },
    { op: "transfer", from: "dmirror0", to: "dmirror1", bytes: "64MiB", design: "bounce" },
    { op: "parallel", steps: ["dmirror0", "dmirror1", "dmirror2", "dmirror3"].map((from) => ({ op: "transfer", from, to: "ram", bytes: "64MiB", design: "dma" })) },
  ],
};
const scenarioFile = join(figures, "04-run.scenario.json");
const traceFile = join(figures, "04-run.trace.json");
writeFileSync(scenarioFile, JSON.stringify(scenario, null, 2) + "\\n");
const io = bufferIo();
const code = await cli(["run", scenarioFile, "--json", "--trace", traceFile], io);
const out: RunResult = JSON.parse(io.stdout());
console.log(`exit ${code}; simTimeNs ${out.simTimeNs.toFixed(0)}`);
out.steps.forEach((s, i) =>
  console.log(`${String(i).padStart(2)} ${s.op.padEnd(16)} ${s.ok ? "ok" : "FAIL"} ${(out.counters.stepTimesNs[i] / 1000).toFixed(1).padStart(9)} us` +
    (s.op === "transfer" && s.ok ? `  ${s.result.design} ${s.result.gbps.toFixed(2)} GB/s ${JSON.stringify(s.result.linkBytes)}` : "") +
    (s.op === "parallel" && s.ok ? `  ${s.result.transfers.length} transfers, aggregate ${s.result.gbps.toFixed(2)} GB/s, each ${s.result.transfers.map((t) => t.gbps.toFixed(2)).join(" / ")} GB/s` : "")));
console.log("bytes per link:", JSON.stringify(out.counters.bytesMoved));
const trace = JSON.parse(readFileSync(traceFile, "utf8"));
const tracks = trace.traceEvents.filter((e: { name: string }) => e.name === "thread_name").map((e: { args: { name: string } }) => e.args.name);
console.log(`trace ${traceFile.split("/").slice(-2).join("/")}: ${trace.traceEvents.filter((e: { ph: string }) => e.ph === "X").length} events on ${tracks.length} tracks: ${tracks.join(", ")}`);"""),
code("""const opRows = Object.entries(out.counters.opLatency).map(([op, h]) => ({ op, us: (h.count * h.meanNs) / 1000, count: h.count }));
for (const r of opRows) console.log(`${r.op.padEnd(22)} x${String(r.count).padEnd(4)} total ${r.us.toFixed(1)} us`);
show("04-run-operations", Plot.plot({
  document: plotDocument(),
  title: "Where the time of one run goes: total per operation (bars start at 1 µs on the log axis)",
  width: 760, height: 360, marginLeft: 150, marginRight: 40,
  x: { type: "log", label: "total time in the run (µs, log scale)", labelAnchor: "center", grid: true },
  y: { label: "operation (count in the run)" },
  marks: [Plot.barX(opRows, { y: "op", x1: 1, x2: "us", sort: { y: "x2", reverse: true }, fill: "steelblue" }), Plot.text(opRows, { y: "op", x: "us", text: (d: { count: number }) => `×${d.count}`, dx: 14 })],
}));"""),
md("""## Conclusion
- **Granularity decides, not size.** A 64 MiB prefetch from RAM to a Gen3 x16 device takes 13.5 ms at 4 KiB
  pages but 5.6 ms at 64 KiB and 5.1 ms at 2 MiB; the copy is only 38 % of the 4 KiB time (per-page
  unmap/remap and setup dominate) against 91 % and 100 % at 64 KiB and 2 MiB. The per-page share rests on
  ESTIMATE parameters (`migratePageNs` 500 ns): the shape is the model's, the split needs a measurement.
- **The transfer alone tracks the published curve from 64 KB up without being fitted to it:** 5.51 / 20.4 /
  80.1 µs against UVMSmart's 5.88 / 21.1 / 82.1 µs (−6 %, −3 %, −2.5 %), from the Gen3 x16 path's packets
  and round trip alone. At 4 KB the model gives 0.85 µs against 1.76 µs: it charges the 540 ns round trip
  and the wire, not the copy-engine setup the curve contains; at 2 MB UVMSmart's 327 µs is its own halving
  rule, the link gives 160 µs.
- **Fault-driven costs more than prefetch, and much more on the way back.** RAM → device fault-driven pays one
  35 µs service pass per 256 faults: 19.4 ms against 13.5 ms for 64 MiB (1.4×; 2.9× at 64 KiB, where the
  pass is not amortised). Device → RAM by CPU faults pays one fault and one `migrate_vma` call per page:
  124 ms against 13.6 ms (9.1×). UVMSmart's per-page 45 µs far fault would make it 766 ms, which is why the
  real driver batches.
- **One machine, three designs:** on the dmirror host (Gen3 x16 default), moving 64 MiB from `dmirror0` to
  `dmirror1` takes 5.10 ms P2P (13.2 GB/s, only the two device links carry it) and 5.93 ms by bounce
  (11.3 GB/s: the staged copy pays a hand-off per 2 MiB chunk and crosses the root port's link twice,
  128 MiB on `pcie:rp0-sw0-up`). Four devices pushing 64 MiB to RAM at once share the switch's uplink:
  13.0 GB/s together, 3.25 GB/s each — the limit is shared, it does not multiply with the streams. The
  trace `04-run.trace.json` opens in Perfetto with one track per device and link direction."""),
]
write("04", cells)
