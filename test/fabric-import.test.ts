// Tests the topology importers: format detection, hostile input, the lspci -tv/-vvv reader and
// the hwloc XML reader on small hand-made dumps (test/fixtures/import) and on the DGX-2 export.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { detectTopologyFormat, parseHwlocXml, parseLspciText, parseTopologyBytes, parseTopologyText } from "../src/fabric/import/index.js";
import { linkFromHwlocSpeed } from "../src/fabric/import/hwloc-link.js";
import { Topology, type TopologySpec } from "../src/fabric/schema.js";
import { inputError, nodeOf } from "./fabric-helpers.js";

const FIX = join(import.meta.dirname, "fixtures", "import");
const DATA = join(import.meta.dirname, "..", "data", "topologies");
const read = (dir: string, f: string) => readFileSync(join(dir, f), "utf8");
const GiB = 2 ** 30;
const MiB = 2 ** 20;

function importFixture(file: string, dir = FIX): TopologySpec {
  return Topology.parse(parseTopologyText(read(dir, file), file));
}
const node = nodeOf;

describe("format detection (DESIGN §4: recognised from the content, not the name)", () => {
  it("recognises kit JSON, lspci -tv and hwloc XML whatever the file is called", () => {
    expect(detectTopologyFormat('  {"name": "x"}', "a.xml")).toBe("json");
    expect(detectTopologyFormat(read(FIX, "single-root.lspci.txt"), "a.json")).toBe("lspci");
    expect(detectTopologyFormat(read(FIX, "multi-root-nn.lspci.txt"), "a.json")).toBe("lspci");
    expect(detectTopologyFormat(read(FIX, "no-domain.lspci.txt"), "x")).toBe("lspci");
    expect(detectTopologyFormat(read(FIX, "hwloc-v2.xml"), "a.txt")).toBe("hwloc");
  });

  it("returns kit JSON as parsed, for the fabric to validate", () => {
    const kit = { name: "m", nodes: [{ kind: "hostBridge", id: "hb", rootBus: 0 }] };
    expect(parseTopologyText(`\uFEFF${JSON.stringify(kit, null, 2)}`, "m.json")).toEqual(kit);
  });

  it("names the JSON syntax error by line and column", () => {
    const e = inputError(() => parseTopologyText('{\n  "name": "m",\n  "nodes": [1,,2]\n}', "bad.json"));
    expect(e.message).toContain("bad.json");
    expect(e.field).toBe("line 3 column 15");
    expect(e.message).toMatch(/JSON syntax error: expected a value, found character ","/);
    const t = inputError(() => parseTopologyText('{"name": "m", "nodes": [', "cut.json"));
    expect(t.message).toMatch(/line 1 column 25.*unexpected end of input inside an array/);
  });

  it("refuses empty, unrecognised and -vvv-only text", () => {
    expect(inputError(() => parseTopologyText(" \n\t\n", "e.txt")).message).toMatch(/e\.txt: file: empty/);
    expect(inputError(() => parseTopologyText("hello world\n", "h.txt")).message).toMatch(/h\.txt: .*not a recognised topology format/);
    const vvv = "c1:00.0 VGA compatible controller: NVIDIA Corporation AD102GL\n\tNUMA node: 0\n";
    expect(inputError(() => parseTopologyText(vvv, "v.txt")).message).toMatch(/without the `lspci -tv` tree/);
  });

  it("refuses a 10 MB random binary in under a second, by bytes and by text", () => {
    const bytes = new Uint8Array(10 * 1024 * 1024);
    let x = 0x12345678;
    for (let i = 0; i < bytes.length; i++) {
      x = (x * 1103515245 + 12345) >>> 0; // deterministic LCG
      bytes[i] = x >>> 24;
    }
    const latin1 = Buffer.from(bytes).toString("latin1");
    const decoded = new TextDecoder().decode(bytes.map((b) => b | 1)); // no NUL: U+FFFD replacements
    const t0 = performance.now();
    const e1 = inputError(() => parseTopologyBytes(bytes, "random.bin"));
    const e2 = inputError(() => parseTopologyText(latin1, "random.bin"));
    const e3 = inputError(() => parseTopologyText(decoded, "random.bin"));
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(e1.message).toMatch(/random\.bin: file: not UTF-8 text/);
    expect(e2.message).toMatch(/random\.bin: .*binary data/);
    expect(e3.message).toMatch(/random\.bin: .*not UTF-8 text/);
  });

  it("refuses an entity-expansion document before parsing it, fast", () => {
    const lol = ['<?xml version="1.0"?>', '<!DOCTYPE topology [', '<!ENTITY a "aaaaaaaaaa">'];
    for (let i = 1; i < 10; i++) lol.push(`<!ENTITY ${"a".repeat(i + 1)} "${`&${"a".repeat(i)};`.repeat(10)}">`);
    lol.push("]>", `<topology>&${"a".repeat(10)};</topology>`);
    const t0 = performance.now();
    const e = inputError(() => parseTopologyText(lol.join("\n"), "lol.xml"));
    expect(performance.now() - t0).toBeLessThan(100);
    expect(e.message).toMatch(/lol\.xml: line 3 column 1: XML declares entities; refused/);
    const subset = inputError(() => parseTopologyText('<?xml version="1.0"?>\n<!DOCTYPE topology [ <!ATTLIST x y CDATA "z"> ]>\n<topology/>', "s.xml"));
    expect(subset.message).toMatch(/internal subset/);
  });

  it("refuses a truncated XML document, naming where it ends", () => {
    const xml = read(DATA, "nvidia-dgx-2h.hwloc.xml");
    const e = inputError(() => parseTopologyText(xml.slice(0, Math.floor(xml.length / 2)), "cut.xml"));
    expect(e.message).toMatch(/^cut\.xml: line \d+ column \d+: XML not well formed/);
  });

  it("refuses deeply nested junk quickly (XML and JSON)", () => {
    const deepXml = `<topology>${"<a>".repeat(100_000)}`;
    const deepJson = "[".repeat(1_000_000);
    const wide = `<topology>${"<a/>".repeat(300_000)}</topology>`;
    const t0 = performance.now();
    const xml = inputError(() => parseTopologyText(deepXml, "deep.xml"));
    const json = inputError(() => parseTopologyText(deepJson, "deep.json"));
    const many = inputError(() => parseTopologyText(wide, "wide.xml"));
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(xml.message).toMatch(/deep\.xml: line 1 column \d+: XML elements nested deeper than 256/);
    expect(json.message).toMatch(/deep\.json: line 1 column 65: JSON syntax error: nested deeper than 64 levels/);
    expect(many.message).toMatch(/wide\.xml: file: XML has more than 250000 elements/);
    const tags = inputError(() => parseTopologyText(`<topology ${'<a b="'.repeat(20_000)}`, "tags.xml"));
    expect(tags.message).toMatch(/tags\.xml: line 1 column 11: XML not well formed/);
  });

  it("refuses XML that is not an hwloc export", () => {
    expect(inputError(() => parseTopologyText('<?xml version="1.0"?>\n<svg><g/></svg>', "p.svg")).message).toMatch(/not an hwloc XML export \(expected <topology>\)/);
  });
});

describe("lspci -tv importer (pciutils ls-tree.c format)", () => {
  it("reads a multi-root -tvnn tree with domains: host bridges per root bus, ids from [vvvv:dddd]", () => {
    const spec = importFixture("multi-root-nn.lspci.txt");
    const hbs = spec.nodes.filter((n) => n.kind === "hostBridge");
    expect(hbs.map((h) => [h.id, (h as any).domain, (h as any).rootBus])).toEqual([
      ["pci0000:00", 0, 0x00],
      ["pci0000:17", 0, 0x17],
      ["pci0001:80", 1, 0x80],
    ]);
    // pci_host_bridge_dev(): the first root-bus device (00.0) stands for the host bridge (p2pdma.md §3.2).
    expect(node(spec, "0000:17:00.0")).toMatchObject({ kind: "endpoint", vendor: "8086", device: "09a2", parent: "pci0000:17" });
    expect(node(spec, "pci0000:17")).toMatchObject({ cpu: { vendor: "intel" }, numaNode: 1 });
    expect(node(spec, "0001:81:00.0")).toMatchObject({ kind: "endpoint", parent: "0001:80:01.0", vendor: "144d", device: "a80a", class: "0108" });
    expect(node(spec, "0001:80:01.0")).toMatchObject({ kind: "rootPort", secondaryBus: 0x81 });
  });

  it("reads port types from -vvv Express lines and infers the rest by shape", () => {
    const spec = importFixture("multi-root-nn.lspci.txt");
    expect(node(spec, "0000:17:02.0").kind).toBe("rootPort");
    expect(node(spec, "0000:18:00.0").kind).toBe("switchUpstream");
    expect(node(spec, "0000:19:08.0").kind).toBe("switchDownstream");
    // 19:00.0 and the empty 19:10.0 have no block: below a switch upstream port → downstream ports.
    expect(node(spec, "0000:19:00.0")).toMatchObject({ kind: "switchDownstream", parent: "0000:18:00.0", secondaryBus: 0x1a });
    expect(node(spec, "0000:19:10.0")).toMatchObject({ kind: "switchDownstream", secondaryBus: 0x1c });
  });

  it("reads BARs, resizable sizes, NUMA node, link status, ACS and windows from -vvv", () => {
    const spec = importFixture("multi-root-nn.lspci.txt");
    const gpu = node(spec, "0000:1a:00.0");
    // This dump has LnkSta lines only: they are the link's state (linkCurrent), not its capability.
    expect(gpu).toMatchObject({ vendor: "10de", device: "20f1", class: "0302", numaNode: 1, linkCurrent: { gen: 4, width: 16 } });
    expect(gpu.link).toBeUndefined();
    expect(gpu.bars).toEqual([
      { index: 0, size: 16 * MiB, addr: 0xc5000000, is64: false, prefetchable: false },
      {
        index: 1, size: 32 * GiB, addr: 0x200_0000_0000, is64: true, prefetchable: true,
        resizable: [64 * MiB, 128 * MiB, 256 * MiB, 512 * MiB, GiB, 2 * GiB, 4 * GiB, 8 * GiB, 16 * GiB, 32 * GiB],
      },
    ]);
    // BAR 3 is <unassigned> in the dump: it claims no address space, so it is left out and said so.
    expect(spec.description).toMatch(/1 BAR\(s\) the kernel left <unassigned> are left out/);
    // SR-IOV VF BAR (Region line inside the capability) is not a BAR of the PF.
    expect(node(spec, "0000:1b:00.0").bars).toEqual([{ index: 0, size: 32 * MiB, addr: 0x208_0000_0000, is64: true, prefetchable: true }]);
    expect(node(spec, "0000:1b:00.0")).toMatchObject({ class: "0207", acs: { capability: [], control: [] } });
    expect(node(spec, "0000:19:08.0").acs).toEqual({ capability: ["SV", "TB", "RR", "CR", "UF", "EC", "DT"], control: ["SV", "RR", "CR", "UF"] });
    expect(node(spec, "0000:17:02.0")).toMatchObject({
      windows: { mem: { base: 0xc5000000, size: 18 * MiB }, prefetch: { base: 0x200_0000_0000, size: 64 * GiB } },
      acs: { capability: ["SV", "TB", "RR", "CR", "UF"], control: [] },
      linkCurrent: { gen: 4, width: 16 },
    });
    expect(node(spec, "0000:18:00.0").linkCurrent).toEqual({ gen: 4, width: 16 }); // "(downgraded)" is the current state
  });

  it("a link trains to the lower of both ends' LnkCap; LnkSta is kept apart as linkCurrent", () => {
    const spec = importFixture("link-cap.lspci.txt");
    // The idle GPU: LnkCap 16GT/s x16 (the working speed), LnkSta 2.5GT/s (downgraded).
    expect(node(spec, "0000:1a:00.0")).toMatchObject({ link: { gen: 4, width: 16 }, linkCurrent: { gen: 1, width: 16 } });
    // Gen5 switch upstream port (LnkCap 32GT/s x16) below a gen4 root port (16GT/s x16): gen4 x16.
    expect(node(spec, "0000:18:00.0")).toMatchObject({ link: { gen: 4, width: 16 }, linkCurrent: { gen: 4, width: 16 } });
    // A downstream port's own LnkCap describes the link below it (no physical link above it).
    expect(node(spec, "0000:19:08.0")).toMatchObject({ link: { gen: 5, width: 8 }, linkCurrent: { gen: 4, width: 8 } });
    // Gen4 x16 NIC in that gen5 x8 port: gen4 x8, whatever LnkSta showed.
    expect(node(spec, "0000:1b:00.0")).toMatchObject({ link: { gen: 4, width: 8 }, linkCurrent: { gen: 4, width: 8 } });
    // A function without a -vvv block has neither.
    expect(node(spec, "0000:1b:00.1").link).toBeUndefined();
    expect(node(spec, "0000:1b:00.1").linkCurrent).toBeUndefined();
  });

  it("a LnkCap line the importer cannot read is refused, naming line and text (it is never skipped)", () => {
    const text = read(FIX, "link-cap.lspci.txt").replace("LnkCap:\tPort #0, Speed 16GT/s, Width x16, ASPM not supported\n\t\tLnkSta:\tSpeed 2.5GT/s", "LnkCap:\tPort #0, Speed 16GT/s Width x16\n\t\tLnkSta:\tSpeed 2.5GT/s");
    const e = inputError(() => parseLspciText(text, "c.txt"));
    expect(e.message).toMatch(/^c\.txt: line 31: lspci -vvv: LnkCap not understood \(expected `Port #N, Speed S, Width xN`\)/);
  });

  it("links an SR-IOV VF to the PF whose -vvv block shows the SR-IOV capability", () => {
    const spec = importFixture("multi-root-nn.lspci.txt");
    expect(node(spec, "0000:1b:00.2")).toMatchObject({ kind: "endpoint", physfn: "0000:1b:00.0", device: "101c" });
    expect(node(spec, "0000:1b:00.1").physfn).toBeUndefined();
  });

  it("reads a single-root tree without -nn: whitelisted Intel ids by name, 'Device xxxx' ids, default BARs", () => {
    const spec = importFixture("single-root.lspci.txt");
    expect(spec.nodes.filter((n) => n.kind === "hostBridge")).toHaveLength(1);
    // p2pdma.md §3.5: Sky Lake-E 0x2020 is in pci_p2pdma_whitelist; lspci prints it by name only.
    expect(node(spec, "0000:00:00.0")).toMatchObject({ vendor: "8086", device: "2020" });
    expect(node(spec, "0000:00:00.1")).toMatchObject({ vendor: "8086", device: "2021" });
    expect(node(spec, "0000:00:03.0")).toMatchObject({ kind: "rootPort", secondaryBus: 3 }); // empty root port `-[03]--`
    expect(node(spec, "0000:01:00.0")).toMatchObject({ kind: "endpoint", vendor: "10de", class: "0302" });
    expect(node(spec, "0000:01:00.0").bars).toEqual([
      { index: 0, size: 16 * MiB, is64: false, prefetchable: false },
      { index: 1, size: 256 * MiB, is64: true, prefetchable: true },
    ]);
    expect(node(spec, "0000:02:00.0")).toMatchObject({ class: "0200", bars: [{ index: 0, size: 32 * MiB, is64: true, prefetchable: true }] });
    expect(spec.description).toMatch(/default sizes per role/);
  });

  it("reads a tree without domains, a PCIe-to-PCI bridge, and Haswell-EP's DMI2 id", () => {
    const spec = importFixture("no-domain.lspci.txt");
    expect(node(spec, "pci0000:00")).toMatchObject({ domain: 0, rootBus: 0, cpu: { vendor: "intel" } });
    expect(node(spec, "0000:00:00.0").device).toBe("2f00");
    expect(node(spec, "0000:01:00.0")).toMatchObject({ kind: "bridge", secondaryBus: 2 }); // endpoints below: not a switch
    expect(node(spec, "0000:02:00.0")).toMatchObject({ kind: "endpoint", vendor: "1a03" });
    expect(node(spec, "0000:04:00.0".replace("04", "03"))).toMatchObject({ class: "0108", bars: [{ index: 0, size: 16384, is64: true, prefetchable: false }] });
  });

  it("accepts a tree copied without the leading dash of its single root bus", () => {
    const text = "[0000:00]-+-00.0  Intel Corporation Xeon E7 v3/Xeon E5 v3/Core i7 DMI2\n          +-01.0-[02]--\n          \\-02.0-[06]--+-00.0  Emulex Corporation OneConnect NIC (Skyhawk)\n                       \\-00.1  Emulex Corporation OneConnect NIC (Skyhawk)\n";
    expect(detectTopologyFormat(text, "t")).toBe("lspci");
    const spec = Topology.parse(parseLspciText(text, "t.txt"));
    expect(spec.nodes.map((n) => [n.kind, n.id])).toEqual([
      ["hostBridge", "pci0000:00"],
      ["endpoint", "0000:00:00.0"],
      ["rootPort", "0000:00:01.0"],
      ["rootPort", "0000:00:02.0"],
      ["endpoint", "0000:06:00.0"],
      ["endpoint", "0000:06:00.1"],
    ]);
  });

  it("AMD host bridges get the Zen family the P2PDMA CPU rule needs (p2pdma.md §3.1), from the root complex id", () => {
    // 1022:14a4 is the Genoa/Bergamo root complex (pci.ids): family 0x19, as the machine's lscpu says.
    const spec = importFixture("puget-threadripper-pro-wrx90.lspci.txt", DATA);
    for (const hb of spec.nodes.filter((n) => n.kind === "hostBridge")) expect((hb as any).cpu).toEqual({ vendor: "amd", family: 0x19 });
    expect(spec.platform).toBe("genoa");
    // An AMD root complex the table does not know keeps the Zen default.
    const unknown = parseLspciText("-[0000:00]-+-00.0  Advanced Micro Devices, Inc. [AMD] Device 1234\n           \\-01.0  Advanced Micro Devices, Inc. [AMD] Device 4321\n", "u.txt");
    expect((unknown.nodes[0] as any).cpu).toEqual({ vendor: "amd", family: 0x17 });
    expect(unknown.platform).toBeUndefined();
  });

  it("rejects a -vvv block for a function the tree lacks, naming the line", () => {
    const text = `${read(FIX, "single-root.lspci.txt")}\n05:00.0 Ethernet controller: Intel Corporation X710\n\tNUMA node: 0\n`;
    const e = inputError(() => parseLspciText(text, "m.txt"));
    expect(e.message).toMatch(/^m\.txt: line 7: lspci -vvv block for a function the lspci -tv tree does not list \(value: "0000:05:00\.0"\)/);
  });

  it("rejects broken tree art, naming line and column", () => {
    const broken = "-[0000:00]-+-00.0  Intel Corporation Device 2020\n           *-01.0  Intel Corporation Device 2030\n";
    const e = inputError(() => parseLspciText(broken, "b.txt"));
    expect(e.message).toMatch(/^b\.txt: line 2 column 12: lspci -tv: unexpected character "\*"/);
    const orphan = "-[0000:00]-+-00.0  X\n     +-01.0  Y\n";
    expect(inputError(() => parseLspciText(orphan, "o.txt")).message).toMatch(/line 2 column 6: lspci -tv: branch with no open parent/);
    const badRange = "-[0000:05]-+-01.0-[03]----00.0  X\n";
    expect(inputError(() => parseLspciText(badRange, "r.txt")).message).toMatch(/bad bus range \[03-03\] below bus 05/);
  });
});

describe("hwloc XML importer", () => {
  it("reads a v2 export: NUMA per Package nodeset, CPU info, bridges, link speed, GPU memory, NVLink", () => {
    const spec = importFixture("hwloc-v2.xml");
    expect(spec.name).toBe("test-box-2");
    expect(node(spec, "pci0000:40")).toMatchObject({ domain: 0, rootBus: 0x40, numaNode: 0, cpu: { vendor: "amd", family: 25 } });
    expect(node(spec, "pci0001:c0")).toMatchObject({ domain: 1, rootBus: 0xc0, numaNode: 1 });
    expect(node(spec, "0000:40:01.1")).toMatchObject({ kind: "rootPort", secondaryBus: 0x41, vendor: "1022", device: "149f", link: { gen: 4, width: 16 } });
    const gpu = node(spec, "0000:41:00.0");
    expect(gpu).toMatchObject({ kind: "endpoint", class: "0302", name: "NVIDIA H100 80GB HBM3", memory: 80 * GiB, link: { gen: 5, width: 16 } });
    // hwloc's pci_link_speed is the LnkSta (hwloc_pci_find_linkspeed): kept as linkCurrent, and the only estimate of `link`.
    expect(gpu.linkCurrent).toEqual({ gen: 5, width: 16 });
    expect(gpu.bars).toEqual([
      { index: 0, size: 16 * MiB, is64: false, prefetchable: false },
      { index: 1, size: 128 * GiB, is64: true, prefetchable: true }, // 80 GiB rounded up to a power of two
    ]);
    expect(node(spec, "0001:c1:00.0")).toMatchObject({ class: "0200", link: { gen: 3, width: 16 }, bars: [{ index: 0, size: 32 * MiB }] });
    // 450000 MB/s / 25000 MB/s per NVLink4 link = 18 bonded links.
    expect(spec.links).toEqual([
      { kind: "nvlink", a: "0000:41:00.0", b: "0000:42:00.0", count: 18, gen: 4 },
      // Two NUMA nodes: the CPU interconnect hwloc does not describe is assumed, for the cost model.
      { kind: "socket", a: 0, b: 1, name: "assumed: the dump does not describe the CPU interconnect" },
    ]);
    expect(spec.description).toContain("Socket links assumed between NUMA nodes 0, 1");
    expect(spec.description).toMatch(/default sizes per role/);
  });

  it("reads a v1 export: NUMA from the NUMANode ancestor, CPU from the host bridge's vendor", () => {
    const spec = importFixture("hwloc-v1.xml");
    expect(node(spec, "pci0000:80")).toMatchObject({ numaNode: 1, cpu: { vendor: "intel" } });
    expect(node(spec, "0000:80:02.0")).toMatchObject({ kind: "rootPort", link: { gen: 3, width: 8 } });
    expect(node(spec, "0000:81:00.0")).toMatchObject({ class: "0108", link: { gen: 3, width: 4 } });
    expect(spec.links).toEqual([]);
  });

  it("turns hwloc GB/s back into gen and width, the widest configuration first", () => {
    expect(linkFromHwlocSpeed(15.753846)).toEqual({ gen: 3, width: 16 });
    expect(linkFromHwlocSpeed(3.938462)).toEqual({ gen: 3, width: 4 });
    expect(linkFromHwlocSpeed(1.0)).toEqual({ gen: 1, width: 4 });
    expect(linkFromHwlocSpeed(0)).toBeUndefined();
    expect(linkFromHwlocSpeed(5.5)).toBeUndefined();
  });

  it("reads the DGX-2H export: 4 host bridges, cascaded PLX switches, 16 GPUs, 12 NVSwitches, NV links", () => {
    const spec = importFixture("nvidia-dgx-2h.hwloc.xml", DATA);
    const kinds = (k: string) => spec.nodes.filter((n) => n.kind === k);
    expect(kinds("hostBridge").map((h) => [h.id, (h as any).numaNode])).toEqual([
      ["pci0000:2b", 0], ["pci0000:4e", 0], ["pci0000:ae", 1], ["pci0000:d7", 1],
    ]);
    expect(kinds("hostBridge").every((h) => (h as any).cpu?.vendor === "intel" && (h as any).cpu?.family === 6)).toBe(true);
    expect(kinds("rootPort").map((r) => (r as any).device)).toEqual(["2030", "2030", "2030", "2030"]);
    const gpus = kinds("endpoint").filter((e) => (e as any).class === "0302");
    expect(gpus).toHaveLength(16);
    expect(gpus.every((g) => (g as any).memory === 32 * GiB && (g as any).name === "Tesla V100-SXM3-32GB-H")).toBe(true);
    expect(kinds("nvswitch")).toHaveLength(12);
    // 2c:00.0 (PEX9781) has only bridges below → switch upstream port; 2d:04.0 its downstream port;
    // 32:00.0 a second-level switch's upstream port; 33:00.0 a downstream port with GPU 34:00.0.
    expect(["0000:2c:00.0", "0000:2d:04.0", "0000:32:00.0", "0000:33:00.0"].map((id) => node(spec, id).kind)).toEqual([
      "switchUpstream", "switchDownstream", "switchUpstream", "switchDownstream",
    ]);
    const nv = spec.links.filter((l) => l.kind === "nvlink") as { a: string; b: string; count: number }[];
    // Each V100 has 6 links, one to each NVSwitch of its baseboard.
    for (const g of gpus) {
      const mine = nv.filter((l) => l.a === g.id || l.b === g.id);
      expect(mine.map((l) => l.count)).toEqual([1, 1, 1, 1, 1, 1]);
    }
    const board0 = new Set(["61", "62", "63", "65", "66", "67"].map((b) => `nvswitch-0000:${b}:00.0`));
    expect(nv.filter((l) => l.a === "0000:34:00.0").every((l) => board0.has(l.b))).toBe(true);
    // Baseboard trunks (not in NVML's matrix): 6 pairs of 8 links.
    const trunks = nv.filter((l) => l.a.startsWith("nvswitch-") && l.b.startsWith("nvswitch-"));
    expect(trunks.map((l) => [l.a.slice(14, 16), l.b.slice(14, 16), l.count])).toEqual([
      ["61", "c1", 8], ["62", "c2", 8], ["63", "c3", 8], ["65", "c5", 8], ["66", "c6", 8], ["67", "c7", 8],
    ]);
  });

  it("rejects an NVLink matrix of the wrong size and a PCI device outside a host bridge", () => {
    const v2 = read(FIX, "hwloc-v2.xml");
    expect(inputError(() => parseHwlocXml(v2.replace("0 450000 450000 0", "0 450000 0"), "m.xml")).message).toMatch(
      /m\.xml: distances NVLinkBandwidth: expected 2 indexes and 2x2 values/,
    );
    const stray = '<?xml version="1.0"?>\n<topology><object type="Machine"><object type="PCIDev" pci_busid="0000:01:00.0" pci_type="0302 [10de:1db8] [0000:0000] 00"/></object></topology>';
    expect(inputError(() => parseHwlocXml(stray, "s.xml")).message).toMatch(/hwloc PCIDev outside any host bridge/);
  });
});
