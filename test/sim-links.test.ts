// Checks the link and path model (src/sim/pcie-rate.ts, paths.ts, fair-share.ts, simulate.ts) and the
// calibration files (calibration.ts): PCIe encodings and overheads after pcie-model (costs.md §1.1),
// posted vs non-posted reads (§1.5), path classes and hop latencies (§1.4, §4.3), max-min sharing and
// the bounce-through-a-shared-uplink halving (nccl #1086, costs.md §2.5, §6.1).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  CalibrationFile, bounceCopy, completionWireBytes, costTransfer, machine, maxMinRates, param, parseCalibration,
  pathBetween, rawGBps, readGBps, simulate, tlpGBps, withParams, writeGBps, writeWireBytes,
} from "../src/sim/index.js";
import { loadCalibration } from "../src/scenario/load.js";
import { topologySpec } from "./support/run.js";
import { InputError } from "../src/units/input-error.js";

const DATA = join(import.meta.dirname, "..", "data");
const topo = (name: string) => topologySpec(join(DATA, "topologies", `${name}.json`));

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
    // Gen6 flit: 118 GB/s of TLP bytes, ~111 GB/s of 256 B payloads with a 16 B header (§1.6).
    expect(tlpGBps(6, 16, 256)).toBeCloseTo(118.0, 1);
    expect(writeGBps({ gen: 6, width: 16, mps: 256, mrrs: 512, flitHeaderBytes: 16 })).toBeCloseTo(111.06, 1);
  });

  it("charges one MWr header per MPS chunk and completions no larger than the read request", () => {
    const c = { gen: 3 as const, width: 8 as const, mps: 256, mrrs: 128 };
    expect(writeWireBytes(c, 1000)).toBe(1000 + 4 * 24);
    expect(completionWireBytes(c, 1024)).toBe(1024 + 8 * 20); // 128 B completions (MRRS 128 < MPS)
    expect(() => writeGBps({ gen: 3, width: 16, mps: 100, mrrs: 512 })).toThrow();
  });
});

describe("paths on topologies", () => {
  const g = machine(topo("hgx-h100"), loadCalibration("hgx-h100"));

  it("classifies NVLink, switch, host-bridge and cross-socket paths and charges hop latencies", () => {
    expect(pathBetween(g, "gpu0", "gpu1", "write").topoClass).toBe("NV18");
    const pix = pathBetween(g, "gpu0", "gpu1", "write", "pcie");
    expect(pix.topoClass).toBe("PIX");
    expect(pix.latencyNs).toBe(105); // one switch turnaround
    expect(pix.resources.length).toBe(2); // gpu0's link up, gpu1's link down: the uplink is not crossed
    const phb = pathBetween(g, "gpu0", "gpu2", "write", "pcie");
    expect(phb.topoClass).toBe("PHB");
    expect(phb.latencyNs).toBe(2 * 105 + param(g.calibration, "rootComplexHopNs"));
    expect(phb.capGBps).toBeCloseTo(writeGBps({ gen: 5, width: 16, mps: 256, mrrs: 512 }) / 1.2, 2); // INTEL_P2P_OVERHEAD
    expect(pathBetween(g, "gpu0", "gpu4", "write", "pcie").topoClass).toBe("SYS");
    expect(pathBetween(g, "gpu0", "host:1", "write").topoClass).toBe("HOST-SYS");
  });

  it("makes a read pay the device read round trip and its request direction, and caps it by the read window", () => {
    const r = pathBetween(g, "host:0", "gpu0", "read");
    expect(r.latencyNs).toBe(2 * 105 + param(g.calibration, "deviceReadRttNs"));
    expect(r.resources.length).toBe(4); // two links, each with a data and a request direction
    expect(r.capGBps).toBeCloseTo(18128 / 515, 3);
    const w = pathBetween(g, "gpu0", "host:0", "write");
    expect(w.latencyNs).toBe(105);
  });

  it("rejects unknown devices and missing socket links with InputError", () => {
    expect(() => pathBetween(g, "gpu0", "gpu99", "write")).toThrow(InputError);
    const one = machine({ ...topo("hgx-h100"), links: [] }, loadCalibration("hgx-h100"));
    expect(() => pathBetween(one, "gpu0", "gpu4", "write")).toThrow(/socket link/);
  });
});

describe("max-min fair sharing and contention", () => {
  it("splits a link evenly and gives spare capacity to the flow that can use it", () => {
    // Resource 0 capacity 10, resource 1 capacity 4: flow A uses 0, flow B uses 0 and 1.
    const set = {
      count: 2, offsets: Int32Array.from([0, 1, 3]), resources: Int32Array.from([0, 0, 1]), weights: Float64Array.from([1, 1, 1]),
      caps: Float64Array.from([Infinity, Infinity]), active: Uint8Array.from([1, 1]),
    };
    const rates = new Float64Array(2);
    const scratch = { left: new Float64Array(2), load: new Float64Array(2), frozen: new Uint8Array(2) };
    maxMinRates(set, Float64Array.from([10, 4]), rates, scratch);
    expect([...rates]).toEqual([6, 4]);
    set.caps[0] = 3;
    maxMinRates(set, Float64Array.from([10, 4]), rates, scratch);
    expect([...rates]).toEqual([3, 4]);
  });

  it("halves bounce bandwidth when two GPUs bounce through one switch uplink at once (nccl #1086)", () => {
    const g = machine(topo("pcie-gen4-host"), loadCalibration("pcie-gen4-host"));
    const bytes = 256 << 20;
    // Two GPUs below one switch both push to host RAM: the uplink carries both flows up.
    const shared = simulate(g, [
      { path: pathBetween(g, "dev0", "host:0", "write"), bytes },
      { path: pathBetween(g, "dev1", "host:0", "write"), bytes },
    ]);
    const separate = simulate(g, [
      { path: pathBetween(g, "dev0", "host:0", "write"), bytes },
      { path: pathBetween(g, "dev2", "host:0", "write"), bytes },
    ]);
    expect(shared.makespanNs / separate.makespanNs).toBeCloseTo(2, 1);
    // Per-link counters: the uplink (rp1-usp) carried both payloads upward, and was busy the whole time.
    const up = shared.links.find((l) => l.id === "pcie:rp1-usp")!;
    expect(up.bytes[1]).toBeCloseTo(2 * bytes, -3);
    expect(up.wireBytes[1]).toBeCloseTo(2 * bytes * (256 + 24) / 256, -3);
    expect(up.busyNs[1]).toBeGreaterThan(0.99 * shared.transfers[0].dataEndNs);
  });

  it("recomputes shares when a transfer finishes: a late starter speeds up after the first ends", () => {
    const g = machine(topo("pcie-gen4-host"), loadCalibration("pcie-gen4-host"));
    const p = pathBetween(g, "dev0", "host:0", "write");
    const solo = costTransfer(g, p, 1 << 20);
    const r = simulate(g, [{ path: p, bytes: 1 << 20 }, { path: p, bytes: 2 << 20, startNs: 0 }]);
    // Both at half rate until the 1 MiB one ends (2 MiB moved in total), then the rest alone.
    const t1 = (2 << 20) / solo.rateGBps;
    expect(r.transfers[0].dataEndNs).toBeGreaterThanOrEqual(Math.floor(t1) - 1);
    expect(r.transfers[0].dataEndNs).toBeLessThanOrEqual(Math.ceil(t1) + 1);
    expect(r.transfers[1].dataEndNs).toBeCloseTo((3 << 20) / solo.rateGBps, -1);
    expect(r.events).toBeGreaterThanOrEqual(4);
  });

  it("pipelined bounce runs at the slower leg; unpipelined at the harmonic sum", () => {
    const g = machine(topo("pcie-gen4-host"), loadCalibration("pcie-gen4-host"));
    const bytes = 512 << 20;
    const pipe = bounceCopy(g, "dev0", "dev2", bytes);
    const serial = bounceCopy(g, "dev0", "dev2", bytes, { pipelined: false });
    const w = writeGBps({ gen: 4, width: 16, mps: 256, mrrs: 512 });
    const r = readGBps({ gen: 4, width: 16, mps: 256, mrrs: 512 });
    expect(pipe.gbps).toBeCloseTo(Math.min(w, r), 1);
    expect(serial.gbps).toBeCloseTo(1 / (1 / w + 1 / r), 1);
  });
});

describe("calibration files", () => {
  it("every file in data/calibration parses strictly and every number has a source and status", () => {
    const dir = join(DATA, "calibration");
    for (const f of readdirSync(dir).filter((n) => n.endsWith(".json"))) {
      const spec = parseCalibration(JSON.parse(readFileSync(join(dir, f), "utf8")), f);
      for (const p of Object.values(spec.params)) {
        expect(p!.source.length).toBeGreaterThan(10);
        expect(["READ", "DERIVED", "MEMORY", "ESTIMATE"]).toContain(p!.status);
      }
      const cal = loadCalibration(f.replace(/\.json$/, ""));
      if (cal.topology) expect(() => topo(cal.topology!)).not.toThrow();
    }
  });

  it("rejects unknown parameters, wrong units and non-numbers, naming the field", () => {
    const base = { name: "x", description: "y", params: {} };
    expect(() => parseCalibration({ ...base, params: { pcieMPS: { value: 1, unit: "B", source: "s", status: "READ" } } }, "f")).toThrow(/pcieMPS/);
    expect(() => parseCalibration({ ...base, params: { pcieMps: { value: 256, unit: "ns", source: "s", status: "READ" } } }, "f")).toThrow(/params\.pcieMps\.unit/);
    expect(() => parseCalibration({ ...base, params: { pcieMps: { value: "256", unit: "B", source: "s", status: "READ" } } }, "f")).toThrow(InputError);
    expect(() => loadCalibration("no-such-machine")).toThrow(InputError);
    expect(() => withParams(loadCalibration(), { pcieMps: Number.NaN })).toThrow(/pcieMps/);
    expect(CalibrationFile.safeParse({ ...base, extra: 1 }).success).toBe(false);
  });
});
