# Writes notebooks/06-p2p-designs.ipynb (cells kept here as plain text so they can be reviewed in diffs).
import sys

sys.dont_write_bytecode = True  # importing course/ leaves no __pycache__ in notebooks/src
from course import code, heading, md, write  # noqa: E402

cells = [
md(heading("06") + """

**Question:** a device needs bytes that live in another device's memory. It can read them peer to peer (P2P:
the reader's peer mapping of the owner's BAR, or NVLink where the pair has it), have the owner bounce them through
pinned host RAM, or let stock HMM migrate the owner's pages to RAM first (`migrate_vma`) and read them there.
Which design wins depends on where the two devices sit: below one PCIe **switch** (nvidia-smi `PIX`/`PXB`, P2PDMA
`BUS_ADDR`), on two root ports of one **root complex** (`PHB`/`NODE`, `THRU_HOST_BRIDGE`, or `NOT_SUPPORTED` when
the host bridge is not on Linux's whitelist) or **across sockets** (`SYS`). It also depends on the BAR: a GPU whose
memory BAR is the classic 256 MiB window can expose only 256 MiB of its device-private memory to peers at once,
while a resized BAR exposes all of it. And migration pays per page, so 4 KiB and 2 MiB pages differ.

This notebook answers the three parts with the kit's cost model and kernel model:
1. **Paths and designs on every shipped machine:** on each machine under `data/topologies` (kit JSON, lspci dumps,
   hwloc exports), one device pair per nvidia-smi class the machine has, priced by `transfer` steps for P2P, the
   bounce buffer and migration at 64 KiB, 2 MiB and 64 MiB; pairs Linux refuses are shown refused, with what
   `rule: "fabric"` (a vendor stack that does its own checks) would cost.
2. **A 256 MiB window against the resized BAR** under a working set larger than the window: a scenario that really
   maps memory (migrate into a GPU's device-private memory, a NIC's peer mappings through the GPU's BAR, DMA),
   once with the BAR at its full size and once resized to 256 MiB (`resizeBar`), in one run.
3. **4 KiB against 2 MiB pages:** what a migration costs at each granularity, and which share of it is per-page
   software rather than copying."""),
md("""## 1 · P2P, bounce and migration on every shipped machine
For each machine the cell picks, per nvidia-smi class, the pair of GPUs, accelerators or NICs (else NVMe drives) that
the class has, the device with memory as the owner. Each pair gets `transfer` steps: P2P over PCIe under the
P2PDMA rule (`pci_p2pdma_map_type`: it fails where the map type is `NOT_SUPPORTED`), P2P over NVLink where the pair
has links, the bounce through pinned RAM of the owner's NUMA node, and stock HMM migration; a refused pair also
gets P2P with `rule: "fabric"`. A machine runs with its own calibration when the kit has one of the same name,
else with the defaults and the platform profile its root complex matches."""),
code("""import * as Plot from "@observablehq/plot";
import {
  loadTopologyFile, pairMatrix, pcieTopoClass, nvlinkCount, getFunction, calibrationNames, loadCalibration, loadScenario, runScenario, runPassed, resultOf,
  sim, units, show, plotDocument,
  type DevicePair, type Fabric,
} from "p2pdma-lab";
import { readdirSync } from "fs";

const KiB = 1024, MiB = 1024 * KiB;
const SIZES = [64 * KiB, 2 * MiB, 64 * MiB];
const DIR = "../data/topologies";
const CLASSES = ["PIX", "PXB", "PHB", "NODE", "SYS"];
/** Where a pair's traffic turns, by the PCIe part of its nvidia-smi class. */
const GROUP: Record<string, string> = { PIX: "switch", PXB: "switch", PHB: "root complex", NODE: "root complex", SYS: "across sockets" };
const GROUPS = ["switch", "root complex", "across sockets"];
const DESIGNS = ["P2P over PCIe", "P2P over NVLink", "bounce through RAM", "migrate to RAM (HMM)", "P2P, rule fabric"];
const weight = (role: string) => (role === "gpu" || role === "accelerator" ? 2 : role === "nic" ? 1 : 0);
const fmt = (b: number) => (b >= MiB ? `${b / MiB} MiB` : `${b / KiB} KiB`);

interface Point { machine: string; cls: string; group: string; pair: string; mapType: string; bytes: number; design: string }
/** Transfers that ran, with their time, rate and the part of the time that is not bytes on links; those refused, with the reason. */
const rows: (Point & { ns: number; gbps: number; fixedNs: number })[] = [];
const refused: (Point & { error: string })[] = [];
const picked: { machine: string; cls: string; group: string; pair: string; mapType: string; nvlinks: number }[] = [];
const started = Date.now();
for (const file of readdirSync(DIR).filter((f) => /\\.(json|lspci\\.txt|hwloc\\.xml)$/.test(f)).sort()) {
  const fabric: Fabric = loadTopologyFile(`${DIR}/${file}`);
  const pairs = pairMatrix(fabric, { chipset: false }).pairs;
  const pcie = (p: DevicePair) => pcieTopoClass(fabric, getFunction(fabric, p.a).id, getFunction(fabric, p.b).id);
  const steps: object[] = [];
  const meta: Point[] = [];
  for (const cls of CLASSES) {
    const best = pairs.filter((p) => pcie(p) === cls).sort((x, y) => weight(y.aRole) + weight(y.bRole) - weight(x.aRole) - weight(x.bRole))[0];
    if (!best) continue;
    // The owner is the device with memory; the reader pulls from it.
    const [owner, reader] = (getFunction(fabric, best.b).memory ?? 0) > (getFunction(fabric, best.a).memory ?? 0) ? [best.b, best.a] : [best.a, best.b];
    const nvlinks = nvlinkCount(fabric, getFunction(fabric, owner).id, getFunction(fabric, reader).id);
    const role = (id: string) => getFunction(fabric, id).role ?? "other";
    const pair = `${owner.replace(/^0000:/, "")} ${role(owner)} → ${reader.replace(/^0000:/, "")} ${role(reader)}`;
    picked.push({ machine: fabric.name, cls, group: GROUP[cls], pair, mapType: best.mapType, nvlinks });
    for (const bytes of SIZES) {
      const add = (design: string, step: object) => {
        steps.push({ op: "transfer", from: owner, to: reader, bytes, ...step });
        meta.push({ machine: fabric.name, cls, group: GROUP[cls], pair, mapType: best.mapType, bytes, design });
      };
      add("P2P over PCIe", { design: "p2p", via: "pcie" });
      if (best.mapType === "NOT_SUPPORTED") add("P2P, rule fabric", { design: "p2p", via: "pcie", rule: "fabric" });
      if (nvlinks > 0) add("P2P over NVLink", { design: "p2p", via: "nvlink" });
      add("bounce through RAM", { design: "bounce" });
      add("migrate to RAM (HMM)", { design: "migrate" });
    }
  }
  if (steps.length === 0) {
    console.log(`${fabric.name}: ${pairs.length === 0 ? "one device, no pair" : "no pair of a PCIe class"}`);
    continue;
  }
  const name = fabric.name.replace(/-dump$/, "");
  const calibration = calibrationNames().includes(name) ? { calibration: name } : {};
  const run = runScenario(loadScenario({ topology: `${DIR}/${file}`, ...calibration, steps })).result;
  run.steps.forEach((s, i) => {
    if (s.op !== "transfer") return;
    if (s.ok) rows.push({ ...meta[i], ns: s.result.ns, gbps: s.result.gbps, fixedNs: s.result.fixedNs ?? 0 });
    else refused.push({ ...meta[i], error: s.error });
  });
  console.log(`${fabric.name.padEnd(28)} ${String(steps.length).padStart(3)} transfers, calibration ${run.counters.calibration}`);
}
console.log(`${picked.length} pairs on ${new Set(picked.map((p) => p.machine)).size} machines: ${rows.length} transfers priced, ${refused.length} refused, in ${((Date.now() - started) / 1000).toFixed(1)} s`);
const notSupported = (r: { error: string }) => r.error.includes("NOT_SUPPORTED");
console.log(`refused by P2PDMA (NOT_SUPPORTED), at each size: ${[...new Set(refused.filter(notSupported).map((r) => `${r.machine} ${r.cls}`))].join(", ")}`);
console.log(`e.g. ${refused.find(notSupported)?.error}`);
for (const r of refused.filter((r) => !notSupported(r) && r.bytes === SIZES[0])) console.log(`failed otherwise: ${r.machine} ${r.cls} ${r.pair} ${r.design}: ${r.error}`);"""),
md("""### Each pair: the rate of every design at 64 MiB, and the fastest design Linux allows at each size
`refused` is a P2P step that failed because P2PDMA gives the pair `NOT_SUPPORTED`; the rate after `fabric` is what
`rule: "fabric"` would reach. The fastest design is chosen among those Linux allows (P2P over PCIe only where
P2PDMA maps the pair; NVLink, the bounce and migration always). The figure puts every pair on one axis, grouped by
where the traffic turns; the rate axis is logarithmic so that NVLink (hundreds of GB/s) and migration (a few GB/s)
fit. A pair without a blue P2P dot is one P2PDMA refuses: its hollow purple dot is what `rule: "fabric"` would cost.
After `NVLink` comes the pair's link count as nvidia-smi prints it (`NV2`: two links). Where P2P over PCIe is slower
than the bounce at 64 MiB, the cell prints how much of each time is fixed (not bytes on the links: mapping, setup).

Two things to keep in mind when reading it. An lspci dump says nothing of a function without its `-vvv` block, so
the cost model runs that function's link at its default: the ASUS dump's NIC pair moves 13.8 GB/s where the kit JSON
of the same machine, whose links come from the vendor's specifications, gives 48.9. And where GPUs meet through
NVSwitches the kit splits a transfer over every NVLink route between them, in proportion to each route's narrowest
link: on the DGX-2H a GPU's six links into its baseboard's switches, and between the two baseboards the switches'
trunks, so the cross-socket pair has an NVLink rate too."""),
code("""type Pair = { machine: string; cls: string };
const same = (p: Pair, r: Pair) => r.machine === p.machine && r.cls === p.cls;
const at = (p: Pair, design: string, bytes: number) => rows.find((r) => same(p, r) && r.design === design && r.bytes === bytes);
const refusedAt = (p: Pair, design: string, bytes: number) => refused.some((r) => same(p, r) && r.design === design && r.bytes === bytes);
const short: Record<string, string> = { "P2P over PCIe": "P2P", "P2P over NVLink": "NVLink", "bounce through RAM": "bounce", "migrate to RAM (HMM)": "migrate", "P2P, rule fabric": "fabric" };
const fastest = (p: Pair, bytes: number) =>
  rows.filter((r) => same(p, r) && r.bytes === bytes && r.design !== "P2P, rule fabric").sort((x, y) => x.ns - y.ns)[0];
for (const p of picked) {
  const rates = DESIGNS.map((d) => {
    if (refusedAt(p, d, 64 * MiB)) return `${short[d]} ${d === "P2P over PCIe" ? "refused" : "no route"}`;
    const r = at(p, d, 64 * MiB);
    return r ? `${short[d]} ${r.gbps.toFixed(1)}${d === "P2P over NVLink" ? ` (NV${p.nvlinks})` : ""}` : "";
  }).filter((t) => t !== "").join(", ");
  const wins = SIZES.map((b) => `${fmt(b)} ${short[fastest(p, b)?.design ?? ""] ?? "-"}`).join(", ");
  console.log(`${p.machine.padEnd(28)} ${p.cls.padEnd(4)} ${p.pair.padEnd(38)} ${p.mapType.padEnd(16)} ${rates}; fastest: ${wins}`);
}
// Where P2P over PCIe loses to the bounce at 64 MiB: how much of its time is not the bytes on the links.
for (const p of picked) {
  const p2p = at(p, "P2P over PCIe", 64 * MiB), bounce = at(p, "bounce through RAM", 64 * MiB);
  if (!p2p || !bounce || p2p.ns <= bounce.ns) continue;
  console.log(`P2P slower than the bounce at 64 MiB: ${p.machine} ${p.cls}: P2P ${(p2p.ns / 1e6).toFixed(2)} ms (fixed ${(p2p.fixedNs / 1e6).toFixed(2)} ms), ` +
    `bounce ${(bounce.ns / 1e6).toFixed(2)} ms (fixed ${(bounce.fixedNs / 1e6).toFixed(2)} ms)`);
}
const label = (r: { group: string; machine: string; cls: string }) => `${r.group} · ${r.machine} ${r.cls}`;
const order = GROUPS.flatMap((g) => picked.filter((p) => p.group === g).map(label));
const at64 = rows.filter((r) => r.bytes === 64 * MiB);
// The rate axis spans every mark with room for its symbol on both sides.
const rates = at64.map((r) => r.gbps);
show("06-designs-by-pair", Plot.plot({
  document: plotDocument(),
  title: "64 MiB from the owner to the reader, every design on one pair per class of every shipped machine",
  width: 900, height: 40 + 17 * order.length, marginLeft: 300, marginRight: 20,
  x: { type: "log", domain: [Math.min(...rates) / 1.2, Math.max(...rates) * 1.2], label: "rate (GB/s, log scale)", labelAnchor: "center", grid: true },
  y: { domain: order, label: null },
  color: { legend: true, domain: DESIGNS, range: ["#4e79a7", "#59a14f", "#f28e2b", "#e15759", "#b07aa1"] },
  symbol: { domain: DESIGNS, range: ["circle", "diamond", "square", "triangle", "circle"] },
  marks: [
    Plot.dot(at64.filter((r) => r.design !== "P2P, rule fabric"), { x: "gbps", y: label, fill: "design", stroke: "design", symbol: "design", r: 4 }),
    Plot.dot(at64.filter((r) => r.design === "P2P, rule fabric"), { x: "gbps", y: label, stroke: "design", symbol: "design", r: 4 }),
  ],
}));"""),
md("""### Where P2P over PCIe beats the bounce buffer, by size
The bounce's time over P2P's for every pair, by size and by where the traffic turns (above 1: P2P is faster). Pairs
P2PDMA refuses are drawn with the time `rule: "fabric"` would take, dashed."""),
code("""const ratios = picked.flatMap((p) => SIZES.flatMap((bytes) => {
  const bounce = at(p, "bounce through RAM", bytes);
  const p2p = at(p, "P2P over PCIe", bytes) ?? at(p, "P2P, rule fabric", bytes);
  const migrate = at(p, "migrate to RAM (HMM)", bytes);
  if (!bounce || !p2p || !migrate) return [];
  return [{ ...p, bytes, rule: p2p.design === "P2P over PCIe" ? "P2PDMA allows P2P" : "refused: rule fabric", ratio: bounce.ns / p2p.ns, migrateRatio: migrate.ns / p2p.ns }];
}));
const range = (xs: number[]) => xs.length ? `${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)}` : "-";
for (const g of GROUPS) for (const bytes of SIZES) {
  const allowed = ratios.filter((r) => r.group === g && r.bytes === bytes && r.rule === "P2PDMA allows P2P");
  const fabric = ratios.filter((r) => r.group === g && r.bytes === bytes && r.rule !== "P2PDMA allows P2P");
  const lose = allowed.filter((r) => r.ratio < 1).map((r) => `${r.machine} ${r.cls}`);
  const ends = allowed.length ? ` (${[...allowed].sort((x, y) => x.ratio - y.ratio).filter((_, k, a) => k === 0 || k === a.length - 1).map((r) => `${r.machine} ${r.cls}`).join(" … ")})` : "";
  const machines = new Set(allowed.map((r) => r.machine)).size;
  console.log(`${g.padEnd(14)} ${fmt(bytes).padStart(7)}: ${String(allowed.length).padStart(2)} pairs P2P-capable on ${machines} machines, bounce/P2P time ${range(allowed.map((r) => r.ratio))}${ends}, ` +
    `migrate/P2P ${range(allowed.map((r) => r.migrateRatio))}` + (lose.length ? `; P2P slower on ${lose.join(", ")}` : "") +
    (fabric.length ? `; ${fabric.length} refused, bounce/fabric ${range(fabric.map((r) => r.ratio))}` : ""));
}
show("06-bounce-over-p2p", Plot.plot({
  document: plotDocument(),
  title: "Bounce time over P2P time (P2P over PCIe; rule fabric where P2PDMA refuses), by size and path",
  width: 900, height: 340, marginRight: 20,
  x: { type: "log", base: 2, label: "bytes moved (log scale)", labelAnchor: "center", ticks: SIZES, tickFormat: (d: number) => fmt(d), inset: 12 },
  y: { label: "bounce time / P2P time (ratio)", grid: true },
  fx: { domain: GROUPS, label: null },
  color: { legend: true, domain: ["P2PDMA allows P2P", "refused: rule fabric"], range: ["#4e79a7", "#e15759"] },
  marks: [
    Plot.frame({ stroke: "#ccc" }), Plot.ruleY([1]),
    ...["P2PDMA allows P2P", "refused: rule fabric"].map((rule) => Plot.line(ratios.filter((r) => r.rule === rule), {
      x: "bytes", y: "ratio", fx: "group", z: (r: { machine: string; cls: string }) => `${r.machine} ${r.cls}`, stroke: "rule", strokeOpacity: 0.6,
      strokeDasharray: rule === "P2PDMA allows P2P" ? null : "4 3", marker: "dot",
    })),
  ],
}));"""),
md("""## 2 · A 256 MiB window against the resized BAR, with a working set larger than the window
The ASUS ESC8000A-E12's RTX 6000 Ada GPUs have 48 GiB of memory behind BAR 1, a Resizable BAR assigned at 64 GiB that
allows 64 MiB to 64 GiB. The kit JSON gives them no ZONE_DEVICE memory, so a `topologyOverlay` hands the first GPU's
memory to the kernel as device-private pages (as a driver with HMM migration does). The reader is the ConnectX-7 port
on the same socket (nvidia-smi `NODE`, P2PDMA `THRU_HOST_BRIDGE`).

A process fills a 260 MiB buffer and migrates it into the GPU; the NIC then streams through it in 4 MiB chunks, each a
`peerMap` (`hmm_range_fault` with P2P, then a peer mapping of each page through a slot of the GPU's BAR window) and a
`dma` read, and starts a second pass. The run does this twice: first with the BAR as assigned (its window holds every
page of device memory), then, after `resizeBar` to 256 MiB (refused with `EBUSY` while peer mappings use the BAR,
accepted once the buffer is unmapped and its device pages freed), with the classic 256 MiB window, 4 MiB short of the
working set. When every slot is bound, the default `aperture: "lru"` takes the least recently used slot back: the
notifiers of the address it was mapped at run first (`MMU_NOTIFY_CLEAR`), so its users drop their mappings; with
`aperture: "fail"` no slot is taken back and `hmm_range_fault` returns `ENOSPC` to the NIC's driver, which with its
default `fallback: "migrate"` faults the chunk to RAM instead (the kit's ODP design); the step here asks for
`fallback: "bounce"`, which needs a slot too, so the mapping fails with `ENOSPC`. Every step states what it expects
(`expect`).

The cell then sums per phase the simulated time of its steps by part (`counters.stepTimesNs`), the slots taken back
(peer mappings dropped by invalidation during `peerMap` steps, `peerUnmapsByInvalidation`), the notifier callbacks
they ran, the `hmm_range_fault` calls of the NIC's driver (up to 32 pages each; a walk an invalidation overtook is
repeated on half as many pages, and the rest of that mapping keeps the smaller size), the pages the `dma` steps read, and the bytes on each link (`counters.bytesMoved`, for the whole run)."""),
code("""const MACHINE = "../data/topologies/asus-esc8000a-e12.json";
const GPU = "01:00.0", NIC = "21:00.0";
const WINDOW = 256 * MiB, WORKING_SET = 260 * MiB, CHUNK = 4 * MiB;
const PAGE = 4 * KiB, chunkPages = CHUNK / PAGE, chunks = WORKING_SET / CHUNK;
const asus = loadTopologyFile(MACHINE);
const gpuBar = getFunction(asus, GPU).bars.find((b) => b.index === 1);
const aperturePair = pairMatrix(asus).pairs.find((p) => p.a.endsWith(GPU) && p.b.endsWith(NIC));
console.log(`GPU ${GPU}: ${units.formatSize(getFunction(asus, GPU).memory ?? 0)} of memory; BAR 1 ${units.formatSize(gpuBar?.size ?? 0)}, ` +
  `resizable to ${gpuBar?.resizable.map(units.formatSize).join(", ")}`);
console.log(`GPU ${GPU} -> NIC ${NIC}: ${aperturePair?.class}, ${aperturePair?.mapType}; working set ${fmt(WORKING_SET)} in ${chunks} chunks of ${fmt(CHUNK)}`);

type Part = "fill and migrate in" | "peer mapping" | "DMA" | "BAR";
const steps: object[] = [];
const parts: { phase: string; part: Part }[] = [];
const add = (phase: string, part: Part, step: object) => { steps.push(step); parts.push({ phase, part }); };
const chunk = (k: number) => ({ buffer: "ws", first: k * chunkPages, count: chunkPages });
/** One phase: fill, migrate into the GPU, stream pass 1, start pass 2. `small`: the window is smaller than the working set. */
function phase(name: string, small: boolean) {
  add(name, "fill and migrate in", { op: "mmap", buffer: "ws", pages: WORKING_SET / PAGE, expect: "ok" });
  add(name, "fill and migrate in", { op: "cpuWrite", buffer: "ws", value: "index", expect: "ok" });
  add(name, "fill and migrate in", { op: "migrateToDevice", device: GPU, buffer: "ws", expect: "ok" });
  for (let k = 0; k < chunks; k++) {
    add(name, "peer mapping", { op: "peerMap", device: NIC, ...chunk(k), expect: "ok", comment: `pass 1, chunk ${k}` });
    add(name, "DMA", { op: "dma", device: NIC, ...chunk(k), expect: "ok", comment: `pass 1, chunk ${k}` });
  }
  // Pass 2 starts over: chunk 0 was mapped first, so it is what the window gave back first.
  add(name, "DMA", { op: "dma", device: NIC, ...chunk(0), expect: small ? "EFAULT" : "ok", comment: "pass 2: chunk 0 before mapping it again" });
  add(name, "peer mapping", { op: "peerMap", device: NIC, ...chunk(0), aperture: "fail", fallback: "bounce", expect: small ? "ENOSPC" : "ok", comment: "pass 2: chunk 0, aperture fail" });
  add(name, "peer mapping", { op: "peerMap", device: NIC, ...chunk(0), expect: "ok", comment: "pass 2: chunk 0, aperture lru" });
  add(name, "DMA", { op: "dma", device: NIC, ...chunk(0), expect: "ok", comment: "pass 2: chunk 0" });
  add(name, "DMA", { op: "dma", device: NIC, ...chunk(1), expect: small ? "EFAULT" : "ok", comment: "pass 2: chunk 1, not mapped again yet" });
}
const FULL = `BAR as assigned (${units.formatSize(gpuBar?.size ?? 0)})`, SMALL = `BAR resized to ${fmt(WINDOW)}`;
phase(FULL, false);
add("resize", "BAR", { op: "resizeBar", device: GPU, size: WINDOW, expect: "EBUSY", comment: "peer mappings still use the BAR" });
add("resize", "BAR", { op: "munmap", buffer: "ws", expect: "ok", comment: "frees the device pages: their BAR slots come free" });
add("resize", "BAR", { op: "resizeBar", device: GPU, size: WINDOW, expect: "ok" });
phase(SMALL, true);
const t0 = Date.now();
const aperture = runScenario(loadScenario({
  description: "A NIC streams through a GPU's device-private memory by peer mappings, with the BAR at full size and at 256 MiB",
  topology: MACHINE, topologyOverlay: { devices: { [GPU]: { zoneDevice: "private" } } }, steps,
})).result;
console.log(`${steps.length} steps in ${((Date.now() - t0) / 1000).toFixed(1)} s; passed: ${runPassed(aperture)}; violations ${aperture.violations.length}; simulated ${(aperture.simTimeNs / 1e6).toFixed(1)} ms`);
aperture.steps.forEach((s, i) => {
  if (s.ok) return;
  const st = steps[i];
  console.log(`  step ${String(i).padStart(3)} ${s.op.padEnd(9)} ${parts[i].phase}: ${s.error.split(":")[0]} as expected (${"comment" in st ? st.comment : ""})`);
});
const resized = aperture.steps.find((s) => s.op === "resizeBar" && s.ok);
if (resized?.op === "resizeBar" && resized.ok) console.log(`resizeBar: window ${units.formatSize(resized.result.size)}, ${resized.result.slots} page slots`);

// What each window cost, per phase.
const c = aperture.counters;
const byPhase = [FULL, SMALL].map((name) => {
  let faults = 0, dmaPages = 0;
  const ms = (part: Part) => parts.reduce((sum, p, i) => sum + (p.phase === name && p.part === part ? c.stepTimesNs[i] : 0), 0) / 1e6;
  const counted = (key: "peerUnmapsByInvalidation" | "invalidations") =>
    parts.reduce((sum, p, i) => sum + (p.phase === name && p.part === "peer mapping" ? c.stepCounters[i][key] : 0), 0);
  aperture.steps.forEach((s, i) => {
    if (parts[i].phase !== name || !s.ok) return;
    if (s.op === "peerMap") faults += s.result.faults;
    if (s.op === "dma") dmaPages += s.result.cpages;
  });
  return { name, fill: ms("fill and migrate in"), map: ms("peer mapping"), dma: ms("DMA"), evicted: counted("peerUnmapsByInvalidation"), callbacks: counted("invalidations"), faults, dmaPages };
});
for (const p of byPhase) {
  console.log(`${p.name.padEnd(26)} fill+migrate ${p.fill.toFixed(1)} ms, peer mapping ${p.map.toFixed(2)} ms, DMA ${p.dma.toFixed(2)} ms (${p.dmaPages} pages read); ` +
    `${p.evicted} slots taken back, ${p.callbacks} notifier callbacks, ${p.faults} hmm_range_fault calls`);
}
// The cost of one chunk mapped again under pressure, against mapping it into free slots and reading it.
const chunkStep = (name: string, comment: string) => steps.findIndex((st, i) => parts[i].phase === name && "comment" in st && st.comment === comment);
const remap = chunkStep(SMALL, "pass 2: chunk 0, aperture lru"), firstMap = chunkStep(SMALL, "pass 1, chunk 0"), read = firstMap + 1;
console.log(`one ${fmt(CHUNK)} chunk: mapped into free slots ${(c.stepTimesNs[firstMap] / 1e3).toFixed(0)} us, mapped again by taking slots back ${(c.stepTimesNs[remap] / 1e3).toFixed(0)} us ` +
  `(${c.stepCounters[remap].peerUnmapsByInvalidation} slots, ${c.stepCounters[remap].invalidations} callbacks), read by DMA ${(c.stepTimesNs[read] / 1e3).toFixed(0)} us`);
const cal = loadCalibration("default");
console.log(`each callback: notifierCallbackNs ${sim.param(cal, "notifierCallbackNs")} + deviceTlbInvalidateNs ${sim.param(cal, "deviceTlbInvalidateNs")} ns (calibration "default")`);
const dmaMiB = byPhase.reduce((sum, p) => sum + p.dmaPages, 0) * PAGE / MiB, migratedMiB = c.migrations * PAGE / MiB;
console.log(`migrated into the GPU ${migratedMiB} MiB, read by DMA ${dmaMiB} MiB (both phases)`);
for (const [link, bytes] of Object.entries(c.bytesMoved)) console.log(`link ${link}: ${(bytes / MiB).toFixed(0)} MiB`);
show("06-aperture", Plot.plot({
  document: plotDocument(),
  title: `Simulated time of each phase by part: ${fmt(WORKING_SET)} working set, BAR window full or ${fmt(WINDOW)}`,
  width: 820, height: 200, marginLeft: 200, marginRight: 30,
  x: { label: "simulated time (ms)", labelAnchor: "center", grid: true },
  y: { label: null, domain: [FULL, SMALL] },
  color: { legend: true, domain: ["fill and migrate in", "peer mapping", "DMA"], range: ["#bab0ac", "#e15759", "#4e79a7"] },
  marks: [
    Plot.barX(byPhase.flatMap((p) => [
      { phase: p.name, part: "fill and migrate in", ms: p.fill }, { phase: p.name, part: "peer mapping", ms: p.map }, { phase: p.name, part: "DMA", ms: p.dma },
    ]), { x: "ms", y: "phase", fill: "part" }),
    Plot.ruleX([0]),
  ],
}));"""),
md("""## 3 · 4 KiB against 2 MiB pages
A migration pays per page: the `migrate_vma` setup and finalize of each call, the unmap and remap of each page, the
TLB shootdowns and notifier callbacks, and per CPU fault when the CPU pulls pages back one fault at a time. The
`transfer` step's `granularity` says how much each page (and each fault) moves: 4 KiB base pages, 64 KiB (UVM's
big pages) or 2 MiB (a THP). Below, on the same GPU and NIC, 64 MiB moved four ways: RAM into the GPU by one
`migrate_vma` call (`mode: "prefetch"`), the GPU's pages back to RAM on CPU faults (`mode: "fault"`), stock HMM
from the GPU to the NIC (the pages migrate to RAM, then the NIC reads them), and P2P for reference (no migration).
`fixedNs` is the part of the time that is not the copy's bytes on the link: the per-page and per-call software.

The same in the kernel model: a 16 MiB buffer mapped with `huge: "pmd"` (THP-capable) against one of base pages.
The CPU fills it, the GPU migrates it in (`migrate_vma` collects a huge PMD as one entry and installs a device THP),
and the CPU reads back one page, which brings back the whole folio the page belongs to (`migrate_to_ram`)."""),
code("""const GRAINS = ["4KiB", "64KiB", "2MiB"];
const grainBytes: Record<string, number> = { "4KiB": 4 * KiB, "64KiB": 64 * KiB, "2MiB": 2 * MiB };
const WAYS = [
  { way: "RAM → GPU, one migrate_vma call", step: { from: "ram", to: GPU, design: "migrate", mode: "prefetch" } },
  { way: "GPU → RAM on CPU faults", step: { from: GPU, to: "ram", design: "migrate", mode: "fault" } },
  { way: "GPU → NIC, stock HMM", step: { from: GPU, to: NIC, design: "migrate" } },
  { way: "GPU → NIC, P2P", step: { from: GPU, to: NIC, design: "p2p" } },
];
const MOVED = 64 * MiB;
const grainSteps: object[] = [];
const grainMeta: { way: string; grain: string }[] = [];
for (const w of WAYS) for (const grain of GRAINS) {
  // P2P migrates nothing: the reader maps the owner's pages where they are, whatever their size.
  grainSteps.push({ op: "transfer", bytes: MOVED, ...w.step, ...(w.step.design === "p2p" ? {} : { granularity: grain }) });
  grainMeta.push({ way: w.way, grain });
}
const grainRun = runScenario(loadScenario({ topology: MACHINE, steps: grainSteps })).result;
const grains = grainRun.steps.flatMap((s, i) => {
  if (s.op !== "transfer" || !s.ok) return [];
  const software = s.result.fixedNs ?? 0;
  return [{ ...grainMeta[i], ms: s.result.ns / 1e6, gbps: s.result.gbps, copyMs: (s.result.ns - software) / 1e6, share: software / s.result.ns, perPageNs: software / (MOVED / grainBytes[grainMeta[i].grain]) }];
});
console.log(`${grains.length} of ${grainSteps.length} transfers priced`);
for (const g of grains) {
  const perPage = g.way.endsWith("P2P") ? "" : `, ${(g.perPageNs / 1e3).toFixed(2)} us of it per page`;
  console.log(`${g.way.padEnd(32)} ${g.grain.padStart(5)}: ${g.ms.toFixed(2).padStart(7)} ms, ${g.gbps.toFixed(2).padStart(5)} GB/s; software ${(100 * g.share).toFixed(0).padStart(2)} % of the time${perPage}`);
}
show("06-granularity", Plot.plot({
  document: plotDocument(),
  title: `${fmt(MOVED)} moved four ways at each page size: total time (solid) and the copy alone (dashed)`,
  width: 760, height: 380,
  x: { domain: GRAINS, label: "page size each fault or call moves", labelAnchor: "center", padding: 0.3 },
  y: { type: "log", label: "simulated time (ms, log scale)", grid: true },
  color: { legend: true, domain: WAYS.map((w) => w.way) },
  marks: [
    Plot.line(grains, { x: "grain", y: "ms", stroke: "way", marker: "dot" }),
    Plot.line(grains, { x: "grain", y: "copyMs", stroke: "way", strokeDasharray: "3 3", strokeOpacity: 0.7 }),
  ],
}));

// The kernel model: a buffer of base pages against a THP-capable one, filled, migrated in, one page read back.
function thpRun(huge: boolean) {
  return runScenario(loadScenario({
    topology: MACHINE, topologyOverlay: { devices: { [GPU]: { zoneDevice: "private" } } },
    steps: [
      { op: "mmap", buffer: "b", pages: 16 * MiB / PAGE, ...(huge ? { huge: "pmd" } : {}), expect: "ok" },
      { op: "cpuWrite", buffer: "b", value: 7, expect: "ok" },
      { op: "migrateToDevice", device: GPU, buffer: "b", expect: "ok" },
      { op: "cpuRead", buffer: "b", first: 0, count: 1, expect: "ok", comment: "one page back to RAM" },
    ],
  })).result;
}
for (const huge of [false, true]) {
  const r = thpRun(huge), t = r.counters.stepTimesNs, k = r.counters.stepCounters;
  const migrated = resultOf(r, 2, "migrateToDevice").cpages;
  console.log(`${huge ? "THP (2 MiB)" : "base pages (4 KiB)"}: passed ${runPassed(r)}; CPU fill ${k[1].faults} faults ${(t[1] / 1e6).toFixed(2)} ms; ` +
    `migrate in ${migrated} pages ${(t[2] / 1e6).toFixed(2)} ms; one-page CPU read migrated ${k[3].migrations} pages back in ${(t[3] / 1e6).toFixed(3)} ms`);
}"""),
md("""## Conclusion
Read from the numbers the cells print (the cost model's predictions; `transfer` steps at 64 KiB, 2 MiB and 64 MiB on
41 pairs of 17 machines, 411 transfers priced and 21 refused; the shipped `haswell-nfp6000` has one device and no pair).
- **Below a switch, P2P wins at every size** (17 pairs on 14 machines): the bounce through RAM takes 2.21–2.99 times
  as long as P2P at 64 KiB, 1.31–2.13 at 2 MiB and 1.09–1.39 at 64 MiB. At 64 MiB P2P moves 52.5 GB/s on the Gen5
  host (bounce 37.7), 26.3 on Gen4 (21.2) and 13.2 on Gen3 (11.3).
- **Through the root complex, P2P wins where Linux maps it, by less, and not everywhere.** On the 12 pairs P2PDMA maps
  `THRU_HOST_BRIDGE` (9 machines) the bounce takes 1.53–2.48 times as long at 64 KiB but only 0.53–1.18 at 64 MiB. On
  the DGX-2H (Skylake-SP) P2P through the root complex is slower than the bounce at 64 MiB (10.8 against 11.9 GB/s;
  0.00 of its 6.20 ms is fixed, so the links set the rate). On the two synthetic three-device machines, whose host
  bridge has the IOMMU translating DMA (`iommu: "dma"`), P2P maps and unmaps an IOVA for every page it moves (5.53 ms
  of its 10.63 ms at 64 MiB), so it loses to the bounce from 2 MiB on (0.99 at 2 MiB; 6.3 against 11.9 GB/s at
  64 MiB). On the 6 pairs P2PDMA refuses (`NOT_SUPPORTED`: the Z370 desktop, the DGX-1, the 4-GPU NVLink machine and
  the three reference hosts) the bounce is the fastest PCIe design; what `rule: "fabric"` would gain is large for
  small transfers (the bounce takes 2.05–2.51 times as long at 64 KiB) and small or negative at 64 MiB (0.91–1.10:
  43.2 against 39.3 GB/s on the Gen5 host, 10.8 against 11.9 on Gen3).
- **Across sockets, P2P over PCIe still beats the bounce** on the 5 pairs Linux maps (2.01–2.39 at 64 KiB, 1.08–1.17
  at 64 MiB) but at the socket link's rate: 24.0 GB/s on the Genoa server against 26.3 within a socket, 16.0 on the
  HGX A100, 22.0 on the HGX H100. The DGX-1's cross-socket pair is refused; the bounce gets 5.7 GB/s there,
  `rule: "fabric"` 6.0 (and its NV2 NVLink 39.9).
- **NVLink beats every PCIe design where a pair has it** (237.6 GB/s on the HGX A100, 365.2 on the HGX H100, 119.4 on
  the DGX-2H through its NVSwitches and 119.3 between its two baseboards, 39.9 for NV2 pairs and 20.0 for the DGX-1's
  NV1 pairs), whatever P2PDMA says of the PCIe path. **Migration to RAM never wins**: it takes 1.93–8.58 times as long
  as P2P, 2.7–6.1 GB/s at 64 MiB.
- **A 256 MiB BAR window costs time, not bytes, once the working set outgrows it.** Streaming a 260 MiB working set in
  4 MiB chunks, the full BAR mapped everything into free slots (peer mapping 1.92 ms in all, 0 slots taken back); the
  256 MiB window took 2048 slots back with 4096 notifier callbacks (peer mapping 30.56 ms). One chunk mapped again by
  taking slots back costs 14365 us against 29 us into free slots and 162 us to read it by DMA. The LRU is the wrong
  order for a cyclic stream: the second pass found chunk 0 unmapped (`EFAULT`), and mapping it again took chunk 1's
  slots (`EFAULT` next), so a second pass would map every chunk again; the NIC's driver, its walks overtaken by those
  invalidations and repeated on smaller chunks, made 5926 `hmm_range_fault` calls against 2144 with the full BAR.
  `aperture: "fail"` with `fallback: "bounce"` turns the reclaim into `ENOSPC`; resizing needs the BAR unused (`EBUSY`
  while mapped). Taking slots back moved no bytes: the links carried exactly what was migrated and read (1056 MiB on
  the GPU's link = 520 MiB migrated in + 536 MiB read by DMA over both phases; 536 MiB on the NIC's).
- **2 MiB pages take migration's per-page software out of the way, not its second copy.** From 4 KiB to 2 MiB pages,
  64 MiB from RAM into the GPU falls from 10.94 to 2.57 ms (software from 77 % to 1 % of the time); back to RAM on CPU
  faults from 121.20 ms (0.55 GB/s, 7.24 us per fault) to 2.81 ms. Stock HMM from the GPU to the NIC falls from 12.34 to
  3.98 ms, still 1.56 times P2P's 2.55 ms: the NIC reads only once the pages have reached RAM, two copies one after
  the other where P2P makes one. In the kernel model a 16 MiB THP buffer takes 8 CPU faults to fill instead of 4096
  and migrates into the GPU in 0.70 ms instead of 2.79 (a folio migrated whole is priced as one 2 MiB page, as the
  `transfer` step's 2 MiB rows are); one CPU read of one page brings back its whole folio, 512 pages, in 0.095 ms
  against 0.014 ms for the one base page."""),
]
write("06", cells)
