# Writes notebooks/01-fabric.ipynb (cells kept here as plain text so they can be reviewed in diffs).
import sys

sys.dont_write_bytecode = True  # importing course/ leaves no __pycache__ in notebooks/src
from course import code, heading, md, write  # noqa: E402

cells = [
md(heading("01") + """

**Question:** on a given machine, which pairs of devices can DMA to each other peer to peer under the
Linux PCI P2PDMA rules, by which path (straight through a switch by bus address, `BUS_ADDR`; up through the
host bridge, `THRU_HOST_BRIDGE`; or not at all, `NOT_SUPPORTED`), and how does that line up with the classes
`nvidia-smi topo -m` prints?

We load a real machine from its own dump (`lspci -tv` plus the `lspci -vvv` blocks of its GPUs and NICs:
a Puget Threadripper PRO WRX90 workstation, AMD Zen 4), print its tree with BARs and windows, compute the
P2PDMA map type and distance of every device pair (`calc_map_type_and_dist` in `drivers/pci/p2pdma.c`) and the
nvidia-smi class, and draw both. Then we compare every machine in `data/topologies/`."""),
code("""import * as Plot from "@observablehq/plot";
import { loadTopologyFile, renderTree, pairMatrix, getFunction, hostBridgeOf, displayId, show, plotDocument } from "p2pdma-lab";
import type { Fabric, PciFunction } from "p2pdma-lab";
import { readdirSync } from "fs";

const fabric = loadTopologyFile("../data/topologies/puget-threadripper-pro-wrx90.lspci.txt");
const endpoints = fabric.functions.filter((f) => f.kind === "endpoint");
console.log(`${fabric.name}: ${fabric.hostBridges.length} host bridges, ${fabric.functions.length} PCI functions, ${endpoints.length} endpoints`);
console.log(`CPU ${fabric.hostBridges[0].cpu.vendor} family 0x${(fabric.hostBridges[0].cpu.family ?? 0).toString(16)}, IOMMU ${fabric.hostBridges[0].iommu}`);"""),
md("""## The tree
Host bridges (one per root bus), root ports, switches with their memory windows, endpoints with their BARs
(CPU address, size, 32/64-bit, prefetchable). Addresses come from the dump where it has them and are assigned as
the kernel's resource assignment would where it does not. We print the part that holds the GPUs and NICs."""),
code("""const tree = renderTree(fabric).split("\\n");
const first = tree.findIndex((l) => l.startsWith("host bridge pci0000:c0"));
console.log(tree.slice(first, first + 22).join("\\n"));
console.log(`... (${tree.length} lines in all)`);"""),
md("""## Devices that matter for P2P, and every pair among them
GPUs, NICs and NVMe drives. For each unordered pair: the nvidia-smi class, the P2PDMA map type with the first
device as provider, and the P2PDMA distance (−1 when `NOT_SUPPORTED`). The tally counts pairs by all three; the
list below it leaves out the NVMe–NVMe pairs."""),
code("""const interesting = endpoints.filter((f) => f.role === "gpu" || f.role === "nic" || f.role === "nvme");
const label = (f: PciFunction) => `${f.address.slice(5)} ${f.role}`;
const ids = new Set(interesting.map((f) => f.address));
const pairs = pairMatrix(fabric).pairs.filter((p) => ids.has(p.a) && ids.has(p.b));
const tally = new Map<string, number>();
for (const p of pairs) {
  const key = `${p.class.padEnd(5)} ${p.mapType.padEnd(17)} distance ${p.distance}`;
  tally.set(key, (tally.get(key) ?? 0) + 1);
}
console.log(`${interesting.length} devices, ${pairs.length} pairs`);
for (const [k, n] of [...tally].sort()) console.log(`${k}  ${String(n).padStart(3)} pairs`);
for (const p of pairs.filter((p) => getFunction(fabric, p.a).role !== "nvme" || getFunction(fabric, p.b).role !== "nvme"))
  console.log(`${label(getFunction(fabric, p.a)).padEnd(16)} ${label(getFunction(fabric, p.b)).padEnd(16)} ${p.class.padEnd(5)} ${p.mapType.padEnd(17)} ${p.distance}`);"""),
md("""### Figure: the fabric
Each path runs from a host bridge (root bus) through root ports and switch ports to a device."""),
code("""function pathOf(f: PciFunction): string {
  const parts: string[] = [label(f)];
  for (let up = f.parent; ; ) {
    const n = fabric.byId.get(up);
    if (!n || n.kind !== "rootPort" && n.kind !== "switchUpstream" && n.kind !== "switchDownstream" && n.kind !== "bridge") break;
    parts.unshift(`${n.address.slice(5)} ${n.kind === "rootPort" ? "RP" : n.kind === "switchUpstream" ? "USP" : n.kind === "switchDownstream" ? "DSP" : "bridge"}`);
    up = n.parent;
  }
  parts.unshift(`host ${hostBridgeOf(fabric, f).id}`);
  return parts.join("/");
}
const paths = interesting.map(pathOf);
show("01-fabric-tree", Plot.plot({
  document: plotDocument(),
  title: `${fabric.name}: GPUs, NICs and NVMe drives below their host bridges`,
  axis: null, height: 30 * paths.length + 40, width: 900, marginLeft: 10, marginRight: 110, marginTop: 20, marginBottom: 20,
  marks: [Plot.tree(paths, { textStroke: "white", fontSize: 10 })],
}));"""),
md("""### Figure: the pair matrix
Colour is the nvidia-smi class; the text is the P2PDMA map type (BUS = `BUS_ADDR`, HB = `THRU_HOST_BRIDGE`,
NO = `NOT_SUPPORTED`) and distance, the pair's first device in the list above taken as provider."""),
code("""const short: Record<string, string> = { BUS_ADDR: "BUS", THRU_HOST_BRIDGE: "HB", NOT_SUPPORTED: "NO" };
const cellsData = pairs.flatMap((p) => {
  const a = label(getFunction(fabric, p.a)), b = label(getFunction(fabric, p.b));
  const text = `${short[p.mapType]} ${p.distance}`;
  return [{ a, b, cls: p.class, text }, { a: b, b: a, cls: p.class, text }];
});
const order = interesting.map(label);
show("01-pair-matrix", Plot.plot({
  document: plotDocument(),
  title: "Every device pair: nvidia-smi class (colour), P2PDMA map type and distance (text)",
  width: 900, height: 780, marginLeft: 110, marginBottom: 120,
  x: { domain: order, tickRotate: -60, label: "device (PCI address, role)", labelAnchor: "center", labelOffset: 110 },
  y: { domain: order, label: "device (PCI address, role)", labelAnchor: "center", labelOffset: 100 },
  color: { legend: true, domain: ["PIX", "PXB", "PHB", "NODE", "SYS"], scheme: "tableau10" },
  marks: [Plot.cell(cellsData, { x: "a", y: "b", fill: "cls", inset: 0.5 }), Plot.text(cellsData, { x: "a", y: "b", text: "text", fontSize: 8 })],
}));"""),
md("""## Every machine in `data/topologies/`
The same computation on each machine the kit ships (real dumps and hand-written descriptions, each citing its
source): how many GPU/NIC/NVMe pairs fall in each P2PDMA map type."""),
code("""const dir = "../data/topologies";
const files = readdirSync(dir).filter((f) => /\\.(json|lspci\\.txt|hwloc\\.xml)$/.test(f)).sort();
const rows: { machine: string; mapType: string; pairs: number }[] = [];
for (const file of files) {
  const fb: Fabric = loadTopologyFile(`${dir}/${file}`);
  const keep = new Set(fb.functions.filter((f) => f.kind === "endpoint" && ["gpu", "nic", "nvme"].includes(f.role ?? "")).map(displayId));
  const count = new Map<string, number>();
  for (const p of pairMatrix(fb).pairs) if (keep.has(p.a) && keep.has(p.b)) count.set(p.mapType, (count.get(p.mapType) ?? 0) + 1);
  if (count.size === 0) continue; // cost-calibration hosts without GPU/NIC/NVMe pairs
  for (const [mapType, n] of count) rows.push({ machine: fb.name, mapType, pairs: n });
  console.log(`${fb.name.padEnd(34)} ${[...count].map(([t, n]) => `${t}=${n}`).join(" ")}`);
}
show("01-machines-map-types", Plot.plot({
  document: plotDocument(),
  title: "GPU/NIC/NVMe pairs by P2PDMA map type, per machine",
  width: 900, height: 440, marginLeft: 230, x: { label: "GPU/NIC/NVMe pairs (count)", grid: true }, y: { label: "machine (topology name)" },
  color: { legend: true, domain: ["BUS_ADDR", "THRU_HOST_BRIDGE", "NOT_SUPPORTED"], range: ["#4e79a7", "#f28e2b", "#e15759"] },
  marks: [Plot.barX(rows, { y: "machine", x: "pairs", fill: "mapType", sort: { y: "x", reverse: true } }), Plot.ruleX([0])],
}));"""),
md("""## Conclusion
- **On the Puget workstation, 30 of the 105 GPU/NIC/NVMe pairs map `BUS_ADDR`, 75 `THRU_HOST_BRIDGE`, none
  `NOT_SUPPORTED`.** The two GPUs sit on two root ports of one host bridge (`c0`): nvidia-smi calls them **PHB**;
  Linux finds no common upstream bridge and takes the host-bridge gate, which this AMD family 0x19 CPU passes
  (`cpu_supports_p2pdma`), so they map `THRU_HOST_BRIDGE` at distance 4. GPU–NIC pairs cross host bridges of one
  NUMA node (**NODE**) and are `THRU_HOST_BRIDGE` at distance 4 too: Linux has no notion of NUMA here.
- **`BUS_ADDR` needs a shared bridge.** The two ConnectX-7 functions share their root port: **PIX** at distance 2
  (2 pairs). The NVMe drives behind the cascaded switches are `BUS_ADDR` at distance 4 below one switch (12 pairs)
  and 8 across the cascade (16 pairs, which nvidia-smi calls **PXB**), because ACS redirect is off on this machine
  (its `ACSCtl` lines are all `-`).
- **Across the 11 machines with GPU/NIC/NVMe pairs, the CPU decides the rest.** `BUS_ADDR` pairs appear only where
  devices share a switch (DGX-1 12, DGX-2H 24, HGX A100 and H100 4 each, the PEX890xx box 1). Root-complex pairs
  pass on every AMD machine (Puget, both ASUS files, the RTX 4090 box, HGX A100) and on an Intel host bridge in
  the whitelist (HGX H100's Ice Lake `8086:09a2`: 24 pairs `THRU_HOST_BRIDGE`); the Broadwell DGX-1 (54 pairs), the
  Z370 desktop (1) and the Intel NVLink box (6) get `NOT_SUPPORTED`, whatever nvidia-smi prints."""),
]
write("01", cells)
