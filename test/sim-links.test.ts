// Checks the machine's resources and paths (src/sim/pcie-rate.ts, link-graph.ts, paths.ts, platform.ts,
// devices.ts) and the calibration files: PCIe encodings and overheads after pcie-model (costs.md §1.1),
// links at both ends' capability or their dump-time status, payload sizes from DevCap and the root
// port, TLPs cut to 64 B through an Intel root complex (NCCL topo.h INTEL_P2P_OVERHEAD, costs.md §4.3),
// a read bounded by its requests in flight over its own round trip (§1.5, §6.1), and the platform
// profile picked from the machine.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  buildLinkGraph, completionWireBytes, parseCalibration, parsePlatform, param, pathBetween, rawGBps, readGBps, soloGBps,
  tlpGBps, withParams, writeGBps, writeWireBytes, type LinkGraph,
} from "../src/sim/index.js";
import { loadCalibration } from "../src/scenario/load.js";
import { topologySpec } from "./support/run.js";
import { InputError } from "../src/units/input-error.js";

const DATA = join(import.meta.dirname, "..", "data");
const topo = (name: string) => topologySpec(join(DATA, "topologies", `${name}.json`));
const graph = (name: string, cal = loadCalibration()): LinkGraph => buildLinkGraph(topo(name), cal);

describe("PCIe rates (pcie-model formulas, costs.md §1.1)", () => {
  it("encodes 8b/10b for Gen1-2, 128b/130b for Gen3-5 and flit (1b/1b) for Gen6", () => {
    expect(rawGBps(1, 1)).toBeCloseTo(0.25, 6);
    expect(rawGBps(2, 16)).toBeCloseTo(8.0, 6);
    expect(rawGBps(3, 16)).toBeCloseTo(15.754, 3);
    expect(rawGBps(5, 16)).toBeCloseTo(63.015, 3);
    expect(rawGBps(6, 16)).toBeCloseTo(128, 6);
  });

  it("gives the costs.md §1.1 table: TLP-layer and write/read rates at MPS 128/256/512", () => {
    expect(tlpGBps(4, 16, 256)).toBeCloseTo(28.43, 2);
    expect(tlpGBps(3, 16, 128)).toBeCloseTo(13.96, 2);
    const c = (gen: 3 | 4 | 5, mps: number) => ({ gen, width: 16 as const, mps, mrrs: 512 });
    expect(writeGBps(c(3, 128))).toBeCloseTo(11.76, 2);
    expect(writeGBps(c(4, 512))).toBeCloseTo(27.37, 2);
    expect(readGBps(c(4, 256))).toBeCloseTo(26.37, 2);
    expect(readGBps(c(5, 512))).toBeCloseTo(55.16, 2);
    expect(tlpGBps(6, 16, 256)).toBeCloseTo(118.0, 1);
    expect(writeGBps({ gen: 6, width: 16, mps: 256, mrrs: 512, flitHeaderBytes: 16 })).toBeCloseTo(111.06, 1);
  });

  it("charges one MWr header per MPS chunk and completions no larger than the read request", () => {
    const c = { gen: 3 as const, width: 8 as const, mps: 256, mrrs: 128 };
    expect(writeWireBytes(c, 1000)).toBe(1000 + 4 * 24);
    expect(completionWireBytes(c, 1024)).toBe(1024 + 8 * 20);
    expect(() => writeGBps({ gen: 3, width: 16, mps: 100, mrrs: 512 })).toThrow();
  });
});

describe("the machine's resources", () => {
  it("runs a link at the lower of both ends' capability, or at its dump-time status when asked", () => {
    const spec = topo("asus-esc8000a-e12");
    // The dump's GPUs idle at 2.5 GT/s (LnkSta); the model uses their LnkCap (Gen4 x16) by default.
    const cap = buildLinkGraph(spec, loadCalibration());
    const gpuLink = cap.links[cap.upLink.get("0000:01:00.0")!];
    expect(gpuLink.pcie).toMatchObject({ gen: 4, width: 16 });
    const cur = buildLinkGraph({ ...spec, linkSpeed: "current" }, loadCalibration());
    expect(cur.links[cur.upLink.get("0000:01:00.0")!].pcie).toMatchObject({ gen: 1, width: 16 });
    expect(cur.links[cur.upLink.get("0000:01:00.0")!].capacityGBps).toBeCloseTo(tlpGBps(1, 16, 256), 9);
  });

  it("sizes payloads by DevCap and the root port: a GPU sends 256 B, a ConnectX-7 below an AMD root port 512 B", () => {
    const g = graph("asus-esc8000a-e12");
    expect(g.mps.get("0000:01:00.0")).toBe(256); // gpuMpsCap (RTX 6000 Ada DevCap)
    expect(g.mps.get("0000:21:00.0")).toBe(512); // nicMpsCap, AMD root port (genoa profile)
    expect(graph("hgx-h100").mps.get("gpu0")).toBe(256);
  });

  it("has one host memory per NUMA node, a network port for a NIC it knows, and an internal port for a root-bus endpoint", () => {
    const g = graph("asus-esc8000a-e12");
    expect([...g.memory.keys()]).toEqual([0, 1]);
    expect(g.resourceNames[g.memory.get(1)!]).toBe("memory:numa1");
    // ConnectX-7 (15b3:1021): 400 Gb/s x the wire efficiency.
    const port = g.port.get("0000:21:00.0")!;
    expect(g.capacities[port]).toBeCloseTo((400 / 8) * param(g.calibration, "nicWireEfficiency"), 6);
    // The host-bridge function 00:00.0 sits on the root bus: it reaches the root complex through an internal port.
    expect(g.links[g.upLink.get("0000:00:00.0")!].id).toBe("internal:hb00-0000:00:00.0");
  });
});

describe("platform profiles (the platform comes from the machine)", () => {
  it("picks the profile by CPU model, else by vendor, family and PCIe generation, else by the topology's name", () => {
    expect(graph("haswell-nfp6000").calibration.platform).toBe("haswell-ep"); // model 63
    expect(graph("nvidia-dgx-1-v100").calibration.platform).toBe("broadwell-ep"); // model 79
    expect(graph("hgx-h100").calibration.platform).toBe("sapphire-rapids"); // Intel, Gen5, no model
    expect(graph("hgx-a100").calibration.platform).toBe("rome"); // AMD 0x17, Gen4
    expect(graph("asus-esc8000a-e12").calibration.platform).toBe("genoa"); // AMD 0x19 model 17
    expect(graph("asus-esc8000a-e13p-pex890xx").calibration.platform).toBe("turin");
    expect(graph("intel-z370-two-gtx1080ti").calibration.platform).toBe("intel-client");
    expect(graph("dmirror").calibration.platform).toBeUndefined(); // no CPU family: the defaults stand
    expect(buildLinkGraph({ ...topo("pcie-gen3-host"), platform: "dgx-h100" }, loadCalibration()).calibration.platform).toBe("sapphire-rapids");
    expect(() => buildLinkGraph({ ...topo("pcie-gen3-host"), platform: "cray-1" }, loadCalibration())).toThrow(/platform.*not a known platform/);
  });

  it("gives the platform's parameters to the run, except those a named calibration sets itself", () => {
    const spr = graph("hgx-h100");
    expect(param(spr.calibration, "socketGBps")).toBe(22); // NCCL SRP_QPI_BW
    expect(spr.calibration.params.socketGBps.sourceId).toBe("nccl/topo.h@SRP_QPI_BW");
    expect(param(spr.calibration, "rcP2pTlpBytes")).toBe(64); // Intel root complex
    expect(param(graph("hgx-a100").calibration, "rcP2pTlpBytes")).toBe(4096);
    const named = buildLinkGraph(topo("hgx-h100"), withParams(loadCalibration(), { socketGBps: 30 }));
    expect(param(named.calibration, "socketGBps")).toBe(30);
    expect(named.calibration.platform).toBe("sapphire-rapids");
  });
});

describe("paths", () => {
  const g = graph("hgx-h100");
  const cal = g.calibration;
  const link = param(cal, "pcieLinkNs"), sw = param(cal, "switchHopNs"), rc = param(cal, "rootComplexHopNs"), issue = param(cal, "deviceDmaIssueNs");

  it("classifies NVLink, switch, host-bridge and cross-socket paths and adds up each hop's latency", () => {
    expect(pathBetween(g, "gpu0", "gpu1", "write").topoClass).toBe("NV18");
    const pix = pathBetween(g, "gpu0", "gpu1", "write", "pcie");
    expect(pix.topoClass).toBe("PIX");
    expect(pix.hops.length).toBe(2); // gpu0's link up, gpu1's link down: the uplink is not crossed
    expect(pix.latencyNs).toBe(issue + 2 * link + sw);
    const phb = pathBetween(g, "gpu0", "gpu2", "write", "pcie");
    expect(phb.topoClass).toBe("PHB");
    expect(phb.latencyNs).toBe(issue + 4 * link + 2 * sw + rc);
    const sys = pathBetween(g, "gpu0", "gpu4", "write", "pcie");
    expect(sys.topoClass).toBe("SYS");
    expect(sys.latencyNs).toBe(phb.latencyNs + g.links.find((l) => l.kind === "socket")!.latencyNs);
    expect(pathBetween(g, "gpu0", "host:1", "write").topoClass).toBe("HOST-SYS");
  });

  it("cuts peer TLPs to 64 B through an Intel root complex, on the target's side for a write, both sides for a read", () => {
    const phb = pathBetween(g, "gpu0", "gpu2", "write", "pcie");
    expect(phb.hops.map((h) => [h.side, h.tlpBytes])).toEqual([["initiator", 256], ["initiator", 256], ["target", 64], ["target", 64]]);
    expect(soloGBps(g, phb)).toBeCloseTo((tlpGBps(5, 16, 256) * 64) / (64 + 24), 6);
    const read = pathBetween(g, "gpu0", "gpu2", "read", "pcie");
    expect(read.hops.every((h) => h.tlpBytes === 64)).toBe(true);
    // On AMD (no split) the same path keeps MPS-sized TLPs.
    const amd = graph("hgx-a100");
    expect(pathBetween(amd, "gpu0", "gpu2", "write", "pcie").hops.every((h) => h.tlpBytes === 256)).toBe(true);
  });

  it("makes a read pay the round trip to its completer and hold its requests on the reader's tags", () => {
    const r = pathBetween(g, "host:0", "gpu0", "read");
    const oneWay = issue + 2 * link + sw + rc;
    expect(r.oneWayNs).toBe(oneWay);
    expect(r.latencyNs).toBe(issue + 2 * (oneWay - issue) + param(cal, "memoryReadNs"));
    expect(r.windowBytes).toBe(param(cal, "gpuReadTags") * param(cal, "pcieMrrs"));
    // Little's law: rate x round trip / request size requests in flight, on a resource of `tags`.
    const tags = g.tags.get("gpu0")!;
    expect(g.capacities[tags]).toBe(param(cal, "gpuReadTags"));
    expect(r.weights[r.resources.indexOf(tags)]).toBeCloseTo(r.latencyNs / param(cal, "pcieMrrs"), 12);
    expect(soloGBps(g, r)).toBeLessThanOrEqual(r.windowBytes / r.latencyNs);
    // A remote node's memory is further: the socket hop twice.
    expect(pathBetween(g, "host:1", "gpu0", "read").latencyNs - r.latencyNs).toBeCloseTo(2 * param(cal, "socketHopNs"), 9);
    // Every path has a latency; a write's is one way.
    expect(pathBetween(g, "gpu0", "host:0", "write").latencyNs).toBe(oneWay);
  });

  it("rejects unknown devices, missing NVLinks and missing socket links with InputError", () => {
    expect(() => pathBetween(g, "gpu0", "gpu99", "write")).toThrow(InputError);
    expect(() => pathBetween(graph("pcie-gen4-host"), "dev0", "dev1", "read", "nvlink")).toThrow(/no NVLink path/);
    const one = buildLinkGraph({ ...topo("hgx-h100"), links: [] }, loadCalibration());
    expect(() => pathBetween(one, "gpu0", "gpu4", "write", "pcie")).toThrow(/socket link/);
    expect(() => pathBetween(g, "host:0", "gpu0", "write")).toThrow(/host memory does not initiate DMA/);
  });

  it("builds a route once per graph, so transfers on one route share one path", () => {
    expect(pathBetween(g, "gpu0", "gpu1", "read")).toBe(pathBetween(g, "gpu0", "gpu1", "read"));
  });
});

describe("calibration files", () => {
  it("every file in data/calibration and its platforms parses strictly; every number has a source, a source id and a status", () => {
    const dir = join(DATA, "calibration");
    const check = (params: Record<string, { source: string; sourceId?: string; status: string } | undefined>, file: string) => {
      for (const [name, p] of Object.entries(params)) {
        expect(p!.source.length, `${file} ${name}`).toBeGreaterThan(10);
        expect(p!.sourceId, `${file} ${name}`).toMatch(/^[^@\s]+(@\S+)?$/);
      }
    };
    for (const f of readdirSync(dir).filter((n) => n.endsWith(".json"))) {
      check(parseCalibration(JSON.parse(readFileSync(join(dir, f), "utf8")), f).params, f);
      const cal = loadCalibration(f.replace(/\.json$/, ""));
      if (cal.topology) expect(() => topo(cal.topology!)).not.toThrow();
    }
    const platforms = readdirSync(join(dir, "platforms"));
    expect(platforms.length).toBeGreaterThanOrEqual(12);
    for (const f of platforms) check(parsePlatform(JSON.parse(readFileSync(join(dir, "platforms", f), "utf8")), f).params, f);
  });

  it("rejects unknown parameters, wrong units and non-numbers, naming the field", () => {
    const base = { name: "x", description: "y", params: {} };
    expect(() => parseCalibration({ ...base, params: { pcieMPS: { value: 1, unit: "B", source: "s", status: "READ" } } }, "f")).toThrow(/pcieMPS/);
    expect(() => parseCalibration({ ...base, params: { pcieMps: { value: 256, unit: "ns", source: "s", status: "READ" } } }, "f")).toThrow(/params\.pcieMps\.unit/);
    expect(() => parseCalibration({ ...base, params: { pcieMps: { value: "256", unit: "B", source: "s", status: "READ" } } }, "f")).toThrow(InputError);
    expect(() => parseCalibration({ ...base, params: { pcieMps: { value: 256, unit: "B", source: "s", sourceId: "two words", status: "READ" } } }, "f")).toThrow(/sourceId/);
    expect(() => loadCalibration("no-such-machine")).toThrow(InputError);
    expect(() => withParams(loadCalibration(), { pcieMps: Number.NaN })).toThrow(/pcieMps/);
  });
});
