# Writes notebooks/03-peer-mapping.ipynb (cells kept here as plain text so they can be reviewed in diffs).
import sys

sys.dont_write_bytecode = True  # importing course/ leaves no __pycache__ in notebooks/src
from course import code, heading, md, write  # noqa: E402

cells = [
md(heading("03") + """

**Question:** the scenario the kit exists for (DESIGN §1). A process's buffer lives in GPU memory as
device-private pages. A NIC driver (think RDMA on-demand paging) snapshots the buffer asking for P2P
(`HMM_PFN_ALLOW_P2P`, the unmerged P2P series): instead of migrating the pages back to RAM, the GPU's page map
hands out P2PDMA pages inside its BAR. The NIC's peer mapping DMA-maps them (P2PDMA map type `BUS_ADDR`: by bus
address through the shared switch) and the NIC DMAs straight into GPU memory. Then the GPU migrates a page back to
RAM: the invalidation reaches the NIC's mirror first and tears its peer mapping down. Finally a broken NIC driver
that ignores invalidations, and the violation the safety checker reports.

The machine: one host bridge, one PCIe switch with a GPU (1 GiB of device-private memory behind a 256 MiB BAR)
and a NIC under it, plus a second NIC on its own root port of an AMD host bridge for comparison."""),
code("""import * as Plot from "@observablehq/plot";
import { loadScenario, runScenario, resultOf, buildFabric, routeAddress, show, plotDocument } from "p2pdma-lab";

/** Runs a scenario object as `p2pdma-lab run` runs a file. */
const run = (scenario: object) => runScenario(loadScenario(scenario)).result;

const topology = {
  name: "gpu-nic-switch",
  nodes: [
    { kind: "hostBridge", id: "hb0", rootBus: 0, cpu: { vendor: "amd", family: 25 } },
    { kind: "endpoint", id: "hb0-fn", bdf: "0000:00:00.0", parent: "hb0", vendor: "1022", device: "14a4", class: "0600" },
    { kind: "rootPort", id: "rp0", bdf: "0000:00:01.1", parent: "hb0", class: "0604" },
    { kind: "switchUpstream", id: "sw-up", bdf: "0000:01:00.0", parent: "rp0", class: "0604" },
    { kind: "switchDownstream", id: "sw-dn0", bdf: "0000:02:00.0", parent: "sw-up", class: "0604" },
    { kind: "switchDownstream", id: "sw-dn1", bdf: "0000:02:01.0", parent: "sw-up", class: "0604" },
    { kind: "endpoint", id: "gpu", bdf: "0000:03:00.0", parent: "sw-dn0", class: "0302", memory: "1GiB", zoneDevice: "private",
      bars: [{ index: 0, size: "16MiB", is64: false, prefetchable: false }, { index: 1, size: "256MiB" }] },
    { kind: "endpoint", id: "nic", bdf: "0000:04:00.0", parent: "sw-dn1", class: "0207", bars: [{ index: 0, size: "32MiB" }] },
    { kind: "rootPort", id: "rp1", bdf: "0000:00:03.1", parent: "hb0", class: "0604" },
    { kind: "endpoint", id: "nic2", bdf: "0000:05:00.0", parent: "rp1", class: "0207", bars: [{ index: 0, size: "32MiB" }] },
  ],
};
const PAGES = 8;
const story = (policy: string) => [
  { op: "mmap", buffer: "a", pages: PAGES },
  { op: "cpuWrite", buffer: "a", value: "index" },
  { op: "migrateToDevice", device: "gpu", buffer: "a" },
  { op: "peerMap", device: "nic", buffer: "a", policy },
  { op: "dma", device: "nic", buffer: "a" },
  { op: "dma", device: "nic", buffer: "a", first: 2, count: 1, value: 100 },
  { op: "deviceRead", device: "gpu", buffer: "a" },
  { op: "cpuRead", buffer: "a", first: 2, count: 1 },
  { op: "dma", device: "nic", buffer: "a", first: 2, count: 1, value: 7 },
  { op: "cpuRead", buffer: "a" },
];
const good = run({ topology: topology, steps: story("correct") });
good.steps.forEach((s, i) => console.log(`${String(i).padStart(2)} ${s.op.padEnd(16)} ${s.ok ? "ok  " + JSON.stringify(s.result ?? {}).slice(0, 150) : "FAIL " + s.error}`));
const { faults, invalidations, migrations, peerMaps, peerUnmaps, peerUnmapsByInvalidation } = good.counters;
console.log("counters", JSON.stringify({ faults, invalidations, migrations, peerMaps, peerUnmaps, peerUnmapsByInvalidation }));
console.log("violations", good.violations.length);"""),
md("""## The broken driver
The same story with the NIC driver loaded with `policy: "ignoreInvalidation"`: its notifier callback bumps the
sequence but leaves its device page table alone. After the GPU migrates page 2 back to RAM (the CPU read), the
NIC still holds the page's bus address and DMAs into a BAR slot that no longer exposes that page."""),
code("""const bad = run({ topology: topology, steps: story("ignoreInvalidation") });
bad.steps.forEach((s, i) => console.log(`${String(i).padStart(2)} ${s.op.padEnd(16)} ${s.ok ? "ok" : "FAIL " + s.error}`));
for (const v of bad.violations) console.log(`violation at step ${v.step}: ${v.device} at ${v.address}: ${v.reason}`);
console.log("CPU sees page 2 =", resultOf(bad, 9, "cpuRead").values[2], "(the stray DMA of 7 did not reach the process's page)");"""),
md("""### Figure: the life of page 2
One lane per actor; each bar spans the steps during which page 2 was in that state, read from the step results
(the migration, the NIC's peer mapping by path, its teardown), and the broken run's violation as a red mark."""),
code("""type Span = { lane: string; state: string; from: number; to: number; run: string };
function life(run: typeof good, name: string): Span[] {
  const s = run.steps;
  const migratedIn = s.findIndex((x) => x.op === "migrateToDevice" && x.ok);
  const back = s.findIndex((x, i) => i > migratedIn && x.op === "cpuRead");
  const mapped = s.findIndex((x) => x.op === "peerMap" && x.ok);
  const path = resultOf(run, mapped, "peerMap").pagePaths![2];
  const failed = s.findIndex((x, i) => i > mapped && x.op === "dma" && !x.ok);
  return [
    { lane: "page 2 memory", state: "RAM", from: 0, to: migratedIn, run: name },
    { lane: "page 2 memory", state: "GPU (device-private)", from: migratedIn, to: back, run: name },
    { lane: "page 2 memory", state: "RAM", from: back, to: s.length, run: name },
    { lane: "NIC peer mapping", state: `mapped (${path})`, from: mapped, to: failed >= 0 ? back : s.length, run: name },
  ];
}
const spans = [...life(good, "correct driver"), ...life(bad, "ignoreInvalidation")];
const marks = bad.violations.map((v) => ({ step: v.step + 0.5, lane: "NIC peer mapping", run: "ignoreInvalidation" }));
show("03-page-life", Plot.plot({
  document: plotDocument(), title: "Page 2: where it lives and whether the NIC maps it, step by step",
  width: 760, height: 280, marginLeft: 130, marginRight: 130,
  x: { label: "scenario step (index)", labelAnchor: "center", domain: [0, good.steps.length] }, y: { label: null }, color: { legend: true },
  fy: { label: "NIC driver policy" },
  marks: [
    Plot.barX(spans, { x1: "from", x2: "to", y: "lane", fy: "run", fill: "state", inset: 2 }),
    Plot.dot(marks, { x: "step", y: "lane", fy: "run", r: 7, fill: "red", symbol: "times", stroke: "red" }),
    Plot.text(marks, { x: "step", y: "lane", fy: "run", text: () => "violation", dy: -14, fill: "red" }),
  ],
}));"""),
md("""### Figure: the path a DMA takes through the fabric
The NIC's DMA to page 0 routes by address: from the NIC up to its switch downstream port, across the switch
into the GPU's BAR (bus address, no IOMMU). The second NIC, on its own root port, must go up through the root
complex (`THRU_HOST_BRIDGE`)."""),
code("""const fabric = buildFabric(topology);
const busAddr = Number(resultOf(good, 3, "peerMap").addresses![0]);
const viaHost = run({ topology: topology, steps: [...story("correct").slice(0, 3), { op: "peerMap", device: "nic2", buffer: "a" }] });
const hostAddr = Number(resultOf(viaHost, 3, "peerMap").addresses![0]);
console.log("nic  peerMap:", JSON.stringify(resultOf(good, 3, "peerMap").paths), "page 0 at", busAddr.toString(16));
console.log("nic2 peerMap:", JSON.stringify(resultOf(viaHost, 3, "peerMap").paths), "page 0 at", hostAddr.toString(16));
const hops: { issuer: string; hop: number; node: string; direction: string }[] = [];
for (const [issuer, addr] of [["nic", busAddr], ["nic2", hostAddr]] as const) {
  const r = routeAddress(fabric, issuer, addr);
  hops.push({ issuer, hop: 0, node: issuer, direction: "issuer" });
  r.hops.forEach((h, i) => hops.push({ issuer, hop: i + 1, node: h.node, direction: h.direction }));
  console.log(issuer, "->", r.hops.map((h) => `${h.node}(${h.direction})`).join(" -> "), r.unclaimed === false ? `BAR${r.bar} +0x${r.offset.toString(16)}` : "UNCLAIMED");
}
show("03-dma-path", Plot.plot({
  document: plotDocument(), title: "A DMA to page 0, hop by hop: below one switch, and across the root complex",
  width: 760, height: 220, marginLeft: 60, marginRight: 40,
  x: { label: "hops from the issuing device (count)", labelAnchor: "center", ticks: 6 }, y: { label: "issuing device" }, color: { legend: true, label: "direction" },
  marks: [
    Plot.line(hops, { x: "hop", y: "issuer", z: "issuer", stroke: "#999" }),
    Plot.dot(hops, { x: "hop", y: "issuer", fill: "direction", r: 8 }),
    Plot.text(hops, { x: "hop", y: "issuer", text: "node", dy: -14, fontSize: 10 }),
  ],
}));"""),
md("""## Conclusion
- **The peer mapping works and carries data both ways.** With the correct driver the NIC's `peerMap` put all 8
  pages on the `BUS_ADDR` path (bus addresses in the GPU's 256 MiB BAR, no IOMMU); its DMA read back the values
  0–7 the CPU wrote, and its write of 100 to page 2 was what the GPU then read: the data went through the BAR
  into GPU memory, without migrating a page to RAM.
- **Invalidation comes first.** The CPU read of page 2 migrated it back to RAM; the notifier tore the NIC's entry
  down before the GPU page was freed, so the next DMA failed with `EFAULT` (an IOMMU-style fault) and the run had
  **0 violations**. Over the run: 16 migrations (8 to the GPU, 8 back), 8 peer mappings, all 8 dropped by
  invalidation (`peerUnmapsByInvalidation` 8).
- **A driver that ignores invalidations is caught.** With `ignoreInvalidation` the same DMA went through the stale
  bus address and the checker reported **1 violation** at step 8, naming the NIC, the page's address and a BAR
  slot that no longer exposes any page; the CPU still reads 100 in page 2, because the stray write of 7 did not
  reach the process's page.
- **The path follows the P2PDMA map type.** The NIC below the GPU's switch reaches page 0 in 3 hops (up to its
  downstream port, across the switch, down to the GPU); the NIC on its own root port needs 6 hops through the host
  bridge, and its peer mapping is `THRU_HOST_BRIDGE` for all 8 pages.

The property tests (`test/p2p-property.test.ts`) run the same checks over random scenarios on three devices: the
correct driver gives no violation, and each broken policy (`ignoreInvalidation`, `noSeqRecheck`, `lateIovaUnmap`)
is caught and shrunk to a short scenario."""),
]
write("03", cells)
