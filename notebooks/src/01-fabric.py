# Writes notebooks/01-fabric.ipynb (cells kept here as plain text so they can be reviewed in diffs).
import sys

import nbformat
from nbformat.v4 import new_notebook, new_markdown_cell as md, new_code_cell as code

cells = [
md("""# 01 · The PCIe fabric of a real machine, and what Linux P2PDMA makes of it

**Question:** on a given machine, which pairs of devices can DMA to each other peer-to-peer under the
Linux PCI P2PDMA rules, by which path (straight through a switch with a bus address, or up through the host
bridge), and how does that line up with the classes `nvidia-smi topo -m` prints?

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
GPUs, NICs and NVMe drives. For each unordered pair: the nvidia-smi class, the Linux map type with the first
device as provider, and the Linux distance (−1 when not supported)."""),
code("""const interesting = endpoints.filter((f) => f.role === "gpu" || f.role === "nic" || f.role === "nvme");
const label = (f: PciFunction) => `${f.address.slice(5)} ${f.role}`;
const ids = new Set(interesting.map((f) => f.address));
const pairs = pairMatrix(fabric).pairs.filter((p) => ids.has(p.a) && ids.has(p.b));
const tally = new Map<string, number>();
for (const p of pairs) tally.set(`${p.class} ${p.mapType}`, (tally.get(`${p.class} ${p.mapType}`) ?? 0) + 1);
console.log(`${interesting.length} devices, ${pairs.length} pairs`);
for (const [k, n] of [...tally].sort()) console.log(`${k.padEnd(24)} ${n}`);
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
Colour is the nvidia-smi class; the text is the Linux map type (BUS = `BUS_ADDR`, HB = `THRU_HOST_BRIDGE`,
NO = `NOT_SUPPORTED`) and distance."""),
code("""const short: Record<string, string> = { BUS_ADDR: "BUS", THRU_HOST_BRIDGE: "HB", NOT_SUPPORTED: "NO" };
const cellsData = pairs.flatMap((p) => {
  const a = label(getFunction(fabric, p.a)), b = label(getFunction(fabric, p.b));
  const text = `${short[p.mapType]} ${p.distance}`;
  return [{ a, b, cls: p.class, text }, { a: b, b: a, cls: p.class, text }];
});
const order = interesting.map(label);
show("01-pair-matrix", Plot.plot({
  document: plotDocument(),
  title: "Every device pair: nvidia-smi class (colour), Linux P2PDMA map type and distance (text)",
  width: 900, height: 760, marginLeft: 110, marginBottom: 110,
  x: { domain: order, tickRotate: -60, label: null }, y: { domain: order, label: null },
  color: { legend: true, domain: ["PIX", "PXB", "PHB", "NODE", "SYS"], scheme: "tableau10" },
  marks: [Plot.cell(cellsData, { x: "a", y: "b", fill: "cls", inset: 0.5 }), Plot.text(cellsData, { x: "a", y: "b", text: "text", fontSize: 8 })],
}));"""),
md("""## Every machine in `data/topologies/`
The same computation on each machine the kit ships (real dumps and hand-written descriptions, each citing its
source): how many GPU/NIC/NVMe pairs fall in each map type."""),
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
  title: "GPU/NIC/NVMe pairs by Linux P2PDMA map type, per machine",
  width: 900, height: 420, marginLeft: 230, x: { label: "pairs", grid: true }, y: { label: null },
  color: { legend: true, domain: ["BUS_ADDR", "THRU_HOST_BRIDGE", "NOT_SUPPORTED"], range: ["#4e79a7", "#f28e2b", "#e15759"] },
  marks: [Plot.barX(rows, { y: "machine", x: "pairs", fill: "mapType", sort: { y: "x", reverse: true } }), Plot.ruleX([0])],
}));"""),
md("""## What this shows
- On the Puget workstation the two GPUs sit on two root ports of one host bridge (`c0`): nvidia-smi calls them
  **PHB**, Linux finds no common upstream bridge and takes the host-bridge gate, which an AMD Zen CPU passes
  (`cpu_supports_p2pdma`), so they map **THRU_HOST_BRIDGE** at distance 4. GPU–NIC pairs cross host bridges of one
  NUMA node (**NODE**) and are also THRU_HOST_BRIDGE: Linux has no notion of NUMA here.
- The two ConnectX-7 functions share their root port: **PIX**, **BUS_ADDR**, distance 2. The NVMe drives behind the
  cascaded switches are BUS_ADDR at distance 4 (one switch) or 8 (across the cascade, nvidia-smi would say PXB),
  because ACS redirect is off on this machine (its `ACSCtl` lines are all `-`).
- Across machines, BUS_ADDR needs a shared switch (DGX-1, DGX-2, the PEX890xx box); root-complex pairs depend on
  the CPU: AMD passes everything, Intel needs its host bridge in the whitelist (Skylake-SP and Ice Lake+ are, the
  Z370 desktop's 8086:591f and the Broadwell DGX-1's 8086:6f00 are not: NOT_SUPPORTED, whatever nvidia-smi prints)."""),
]
nb = new_notebook(cells=cells, metadata={"kernelspec": {"name": "tslab", "display_name": "TypeScript", "language": "typescript"}, "language_info": {"name": "typescript"}})
# The notebook goes next to notebooks/src, or where the first argument says.
nbformat.write(nb, sys.argv[1] if len(sys.argv) > 1 else __file__.replace("/src/", "/").replace(".py", ".ipynb"))
