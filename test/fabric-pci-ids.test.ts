// Device names and ids from the PCI ID database (pci.ids, as lspci reads it): the parser, names
// for ids a dump gives (hwloc, `lspci -n`, lspci's "Device 14a4"), ids for names a dump gives
// (`lspci -tv` without -nn), an `lspci -nn` listing after the tree, and where the system's file is
// looked for (P2PDMA_LAB_PCI_IDS, then the distributions' paths). Fixture: test/fixtures/import/pci.ids.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseHwlocXml, parseLspciText } from "../src/fabric/import/index.js";
import { parsePciIds, pciIdsClassCode, pciIdsName, pciIdsOfName } from "../src/fabric/import/pci-ids.js";
import { PCI_IDS_ENV, readPciIdsFile, systemPciIds } from "../src/fabric/pci-ids-file.js";
import { buildFabric } from "../src/fabric/build.js";
import { Topology, type TopologySpec } from "../src/fabric/schema.js";
import { expectInputError, nodeOf } from "./fabric-helpers.js";

const FIX = join(import.meta.dirname, "fixtures", "import");
const read = (f: string) => readFileSync(join(FIX, f), "utf8");
const IDS = parsePciIds(read("pci.ids"));
const GiB = 2 ** 30;

const node = nodeOf;

describe("pci.ids parser", () => {
  it("reads vendors, devices and classes; skips comments, subsystems and programming interfaces", () => {
    expect(IDS.vendors.get("10de")).toBe("NVIDIA Corporation");
    expect(IDS.devices.get("10de:26b1")).toBe("AD102GL [RTX 6000 Ada Generation]");
    expect(IDS.devices.size).toBe(8);
    expect(IDS.classes.get("0302")).toBe("3D controller");
    expect(IDS.classes.get("0300")).toBe("VGA compatible controller"); // the subclass line, not "Display controller"
    expect(pciIdsClassCode(IDS, "Infiniband controller")).toBe("0207");
  });
  it("names ids as lspci prints them, and finds ids for a name (the longest vendor name first)", () => {
    expect(pciIdsName(IDS, "1022", "14a4")).toBe("Advanced Micro Devices, Inc. [AMD] Genoa/Bergamo Root Complex");
    expect(pciIdsName(IDS, "1022", "ffff")).toBeUndefined();
    expect(pciIdsOfName(IDS, "Mellanox Technologies MT2910 Family [ConnectX-7]")).toEqual({ vendor: "15b3", device: "1021" });
    expect(pciIdsOfName(IDS, "Mellanox Technologies Unknown Thing")).toEqual({ vendor: "15b3", device: undefined });
    expect(pciIdsOfName(IDS, "Nobody Inc. Thing")).toEqual({});
  });
});

describe("names and ids in the importers", () => {
  const listing = read("listing-nn.lspci.txt");

  it("an `lspci -nn` listing after the tree gives class and ids (not BARs: those stay defaults by role)", () => {
    const spec = Topology.parse(parseLspciText(listing, "l.txt"));
    expect(node(spec, "0000:01:00.0")).toMatchObject({ kind: "endpoint", vendor: "10de", device: "26b1", class: "0300", name: "NVIDIA Corporation Device 26b1" });
    // Known part 10de:26b1 (RTX 6000 Ada): 48 GiB; the default BAR1 is sized to it.
    expect(node(spec, "0000:01:00.0")).toMatchObject({ memory: 48 * GiB, zoneDevice: "private" });
    expect(node(spec, "0000:01:00.0").bars.map((b: { size: number }) => b.size)).toEqual([16 * 2 ** 20, 64 * GiB]);
    expect(node(spec, "0000:02:00.0")).toMatchObject({ vendor: "15b3", device: "1021", class: "0200" });
    expect(node(spec, "0000:00:01.1")).toMatchObject({ kind: "rootPort", vendor: "1022", device: "14a5" });
    expect(spec.description).toContain("Names, class and ids of 6 function(s) from an lspci -nn listing.");
    expect(spec.platform).toBe("genoa");
  });

  it("with no warning about a block without its closing blank line (a listing has none)", () => {
    const warnings: string[] = [];
    parseLspciText(listing, "l.txt", { onWarning: (w) => warnings.push(w.message) });
    expect(warnings).toEqual([]);
  });

  it("names come from pci.ids when it knows the ids, else stay as the dump printed them", () => {
    const spec = Topology.parse(parseLspciText(listing, "l.txt", { pciIds: IDS }));
    expect(node(spec, "0000:01:00.0").name).toBe("NVIDIA Corporation AD102GL [RTX 6000 Ada Generation]");
    expect(node(spec, "0000:00:00.0").name).toBe("Advanced Micro Devices, Inc. [AMD] Genoa/Bergamo Root Complex");
    expect((spec.nodes[0] as { name?: string }).name).toBe("Advanced Micro Devices, Inc. [AMD] Genoa/Bergamo Root Complex");
  });

  it("ids come from pci.ids for names a dump without -nn printed", () => {
    const tree = "-[0000:00]-+-00.0  Advanced Micro Devices, Inc. [AMD] Genoa/Bergamo Root Complex\n           \\-03.1-[02]----00.0  Mellanox Technologies MT2910 Family [ConnectX-7]\n";
    const without = Topology.parse(parseLspciText(tree, "t.txt"));
    expect(node(without, "0000:02:00.0").device).toBeUndefined();
    const withIds = Topology.parse(parseLspciText(tree, "t.txt", { pciIds: IDS }));
    expect(node(withIds, "0000:02:00.0")).toMatchObject({ vendor: "15b3", device: "1021" });
    // The root complex by name: platform and CPU family from the table of platforms, with or without pci.ids.
    expect(without.platform).toBe("genoa");
    expect((without.nodes[0] as { cpu?: unknown }).cpu).toEqual({ vendor: "amd", family: 0x19 });
  });

  it("hwloc devices are named from pci.ids (hwloc XML carries ids only)", () => {
    const xml = read("hwloc-v2.xml");
    const spec = Topology.parse(parseHwlocXml(xml, "h.xml", { pciIds: IDS }));
    expect(node(spec, "0000:40:00.0").name).toBe("Advanced Micro Devices, Inc. [AMD] Genoa/Bergamo Root Complex");
    expect(node(spec, "0000:41:00.0").name).toBe("NVIDIA H100 80GB HBM3"); // the GPU model hwloc reports wins
  });
});

describe("the system's pci.ids", () => {
  const dir = mkdtempSync(join(tmpdir(), "p2pdma-ids-"));
  const fixture = join(FIX, "pci.ids");

  it("is the file P2PDMA_LAB_PCI_IDS names, or none with \"none\"", () => {
    expect(systemPciIds({ [PCI_IDS_ENV]: fixture }, [])?.vendors.get("15b3")).toBe("Mellanox Technologies");
    expect(systemPciIds({ [PCI_IDS_ENV]: "none" }, [fixture])).toBeUndefined();
  });
  it("else the first distribution path that exists (none on a machine without one)", () => {
    expect(systemPciIds({}, [join(dir, "missing.ids"), fixture])?.vendors.size).toBe(4);
    expect(systemPciIds({}, [join(dir, "missing.ids")])).toBeUndefined();
  });
  it("a missing or empty file is bad input naming it", () => {
    expectInputError(() => systemPciIds({ [PCI_IDS_ENV]: join(dir, "nope.ids") }, []), PCI_IDS_ENV, "nope.ids");
    const empty = join(dir, "empty.ids");
    writeFileSync(empty, "# nothing\n");
    expectInputError(() => readPciIdsFile(empty), "pci.ids", "empty.ids");
  });
  it("names reach the built machine", () => {
    const fabric = buildFabric(parseLspciText(read("listing-nn.lspci.txt"), "l.txt", { pciIds: readPciIdsFile(fixture) }));
    expect(fabric.byId.get("0000:02:00.0")?.name).toBe("Mellanox Technologies MT2910 Family [ConnectX-7]");
  });
});
