// Device memory of imported GPUs and accelerators (an lspci or hwloc dump says nothing of VRAM):
// what the dump says, else the table of known parts, else the largest prefetchable BAR; handed to the
// kernel as ZONE_DEVICE private pages (memremap.h MEMORY_DEVICE_PRIVATE) and reported, one note per
// device. BMC display functions, integrated GPUs and NICs get none. Also the table of platforms.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { assumeDeviceMemory, KNOWN_PARTS, knownPart } from "../src/fabric/import/device-memory.js";
import { parseHwlocXml, parseLspciText } from "../src/fabric/import/index.js";
import type { ImportNote } from "../src/fabric/import/warnings.js";
import { KNOWN_PLATFORMS, platformOf } from "../src/fabric/import/platforms.js";
import { deviceIdFromName } from "../src/fabric/import/pci-names.js";
import { buildFabric } from "../src/fabric/build.js";
import { Topology, type TopologyInput } from "../src/fabric/schema.js";

const DATA = join(import.meta.dirname, "..", "data", "topologies");
const FIX = join(import.meta.dirname, "fixtures", "import");
const GiB = 2 ** 30;
const MiB = 2 ** 20;
type Nodes = TopologyInput["nodes"];

const endpoint = (id: string, extra: Record<string, unknown>) => ({ kind: "endpoint" as const, id, parent: "h", ...extra });

describe("assumeDeviceMemory", () => {
  it("a known part gets the table's size, whatever its BAR; ZONE_DEVICE private", () => {
    const nodes: Nodes = [endpoint("g", { vendor: "10de", device: "2330", class: "0302", bars: [{ index: 1, size: "256MiB" }] })];
    expect(assumeDeviceMemory(nodes)).toEqual([{ id: "g", memory: 80 * GiB, zoneDevice: "private", from: expect.stringContaining("known part 10de:2330 GH100 [H100 SXM5 80GB]") }]);
    expect(nodes[0]).toMatchObject({ memory: 80 * GiB, zoneDevice: "private" });
  });
  it("an unknown discrete GPU gets its largest prefetchable BAR, and says so", () => {
    const nodes: Nodes = [endpoint("g", {
      vendor: "10de", device: "1234", class: "0300",
      bars: [{ index: 0, size: 16 * MiB, prefetchable: false }, { index: 1, size: 8 * GiB }, { index: 3, size: 32 * MiB }],
    })];
    const [a] = assumeDeviceMemory(nodes);
    expect(a).toMatchObject({ memory: 8 * GiB, from: expect.stringContaining("largest prefetchable BAR (BAR1)") });
  });
  it("what the dump said stays (even for a known part), with its source", () => {
    const nodes: Nodes = [endpoint("g", { vendor: "10de", device: "2330", class: "0302", memory: 12 * GiB })];
    expect(assumeDeviceMemory(nodes, new Map([["g", "hwloc"]]))).toMatchObject([{ memory: 12 * GiB, from: "hwloc" }]);
  });
  it("a stated zoneDevice, a VF, a NIC, a BMC display (ASPEED), an Intel iGPU: nothing assumed", () => {
    const nodes: Nodes = [
      endpoint("given", { vendor: "10de", device: "2330", class: "0302", zoneDevice: "coherent" }),
      endpoint("vf", { vendor: "10de", device: "2330", class: "0302", physfn: "given" }),
      endpoint("nic", { vendor: "15b3", device: "1021", class: "0200", bars: [{ index: 0, size: "32MiB" }] }),
      endpoint("bmc", { vendor: "1a03", device: "2000", class: "0300", bars: [{ index: 0, size: "64MiB" }] }),
      endpoint("igpu", { vendor: "8086", device: "4680", class: "0300", bars: [{ index: 2, size: "256MiB" }] }),
    ];
    expect(assumeDeviceMemory(nodes)).toEqual([]);
    expect(nodes[0]).toMatchObject({ zoneDevice: "coherent" });
    expect(buildFabric({ name: "t", nodes: [{ kind: "hostBridge", id: "h", rootBus: 0 }, ...nodes.slice(2)] }).byId.get("bmc")).toMatchObject({ role: "other" });
  });
  it("accelerators (class 1200) count, and 0380 display controllers of GPU vendors are GPUs (MI210, Max 1550)", () => {
    const nodes: Nodes = [
      endpoint("mi300", { vendor: "1002", device: "74a1", class: "1200" }),
      endpoint("mi210", { vendor: "1002", device: "740f", class: "0380" }),
      endpoint("pvc", { vendor: "8086", device: "0bd5", class: "0380" }),
    ];
    expect(assumeDeviceMemory(nodes).map((a) => [a.id, a.memory / GiB])).toEqual([["mi300", 192], ["mi210", 64], ["pvc", 128]]);
  });
});

describe("the known parts", () => {
  it("every entry has 4-hex ids, a size and a source; ids are unique", () => {
    const keys = new Set<string>();
    for (const p of KNOWN_PARTS) {
      expect(p.vendor).toMatch(/^[0-9a-f]{4}$/);
      expect(p.device).toMatch(/^[0-9a-f]{4}$/);
      expect(p.memory).toBeGreaterThanOrEqual(16 * GiB);
      expect(p.source.length).toBeGreaterThan(10);
      keys.add(`${p.vendor}:${p.device}`);
    }
    expect(keys.size).toBe(KNOWN_PARTS.length);
  });
  it("is found by ids, or by the pci.ids name a dump without -nn prints", () => {
    expect(knownPart("10de", "26b1")?.memory).toBe(48 * GiB);
    expect(knownPart("10de", undefined, "AD102GL [RTX 6000 Ada Generation]")?.device).toBe("26b1");
    expect(deviceIdFromName("10de", "AD102 [GeForce RTX 4090]")).toBe("2684");
  });
});

describe("the platforms of root complexes", () => {
  it("maps root-bus ids and names to CPU and platform, the data fabric before the root complex", () => {
    expect(platformOf([{ vendor: "1022", device: "1480" }, { vendor: "1022", device: "1650" }])?.platform).toBe("milan");
    expect(platformOf([{ vendor: "1022", device: "1480" }])?.cpu).toEqual({ vendor: "amd", family: 0x17 });
    expect(platformOf([{ vendor: "8086", deviceName: "Sky Lake-E DMI3 Registers" }])).toMatchObject({ platform: "skylake-sp", cpu: { model: 0x55 } });
    expect(platformOf([{ vendor: "8086", device: "3e30" }])).toBeUndefined();
    for (const p of KNOWN_PLATFORMS) expect(platformOf([{ vendor: p.vendor, device: p.device }])?.platform).toBe(p.platform);
  });
});

describe("imports report what they assumed", () => {
  it("lspci: the ASUS ESC8000A-E12's four RTX 6000 Ada, one note each, and the description says so", () => {
    const notes: ImportNote[] = [];
    const text = readFileSync(join(DATA, "asus-esc8000a-e12-dump.lspci.txt"), "utf8");
    const spec = Topology.parse(parseLspciText(text, "asus.txt", { onNote: (n) => notes.push(n) }));
    expect(notes.map((n) => n.field)).toEqual(["0000:01:00.0", "0000:41:00.0", "0000:c1:00.0", "0000:e1:00.0"]);
    expect(notes[0].reason).toMatch(/^device memory 48GiB from known part 10de:26b1 .*ZONE_DEVICE private pages; an overlay/);
    expect(spec.description).toContain("Device memory assumed (ZONE_DEVICE private; an overlay changes it): 0000:01:00.0, 0000:41:00.0, 0000:c1:00.0, 0000:e1:00.0: 48GiB");
  });
  it("hwloc: the DGX-2H's V100s from the GPU model hwloc reports; CPU model and name from the export", () => {
    const notes: ImportNote[] = [];
    const spec = Topology.parse(parseHwlocXml(readFileSync(join(DATA, "nvidia-dgx-2h.hwloc.xml"), "utf8"), "dgx.xml", { onNote: (n) => notes.push(n) }));
    expect(notes).toHaveLength(16);
    expect(notes[0].reason).toContain('device memory 32GiB from the GPU model name hwloc reports ("Tesla V100-SXM3-32GB-H")');
    const hb = spec.nodes.find((n) => n.kind === "hostBridge") as { cpu?: unknown };
    expect(hb.cpu).toEqual({ vendor: "intel", family: 6, model: 85, name: "Intel(R) Xeon(R) Platinum 8174 CPU @ 3.10GHz" });
    expect(spec.platform).toBe("skylake-sp"); // root buses start with Sky Lake-E root ports 8086:2030
  });
  it("hwloc: CUDA memory the export states is kept, and its source named", () => {
    const notes: ImportNote[] = [];
    parseHwlocXml(readFileSync(join(FIX, "hwloc-v2.xml"), "utf8"), "h.xml", { onNote: (n) => notes.push(n) });
    expect(notes.map((n) => n.reason)).toEqual([
      expect.stringContaining("device memory 80GiB from hwloc's CUDAGlobalMemorySize (83886080 KiB)"),
      expect.stringContaining('device memory 80GiB from the GPU model name hwloc reports ("NVIDIA H100 80GB HBM3")'),
    ]);
  });
});
