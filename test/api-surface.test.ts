// Tests for the public surface (src/index.ts) against the internals (src/internals.ts), the one run
// entry with typed results, the run's counters as sums of the steps', and the error model's exit
// statuses (2 bad input, 70 a broken invariant of the kit).
import { describe, expect, it } from "vitest";
import * as api from "../src/index.js";
import * as internals from "../src/internals.js";

describe("public API", () => {
  it("exports the run entry, loaders and typed-result helper, and fences the kernel model off", () => {
    for (const name of ["runScenario", "loadScenario", "loadScenarioFile", "loadCalibration", "resultOf", "buildFabric", "loadTopologyFile", "pairMatrix", "cli"]) {
      expect(typeof (api as Record<string, unknown>)[name], name).toBe("function");
    }
    for (const name of ["FrameTable", "CHUNK_SHIFT", "NotifierTree", "ClientDevice", "Machine", "memory", "hmm", "devices", "runScenarioInput"]) {
      expect((api as Record<string, unknown>)[name], name).toBeUndefined();
    }
    expect(typeof internals.memory.FrameTable).toBe("function");
    expect(internals.memory.CHUNK_SHIFT).toBe(16);
    expect(typeof internals.hmm.NotifierTree).toBe("function");
    expect(typeof internals.devices.ClientDevice).toBe("function");
    const ops = api.Scenario.shape.steps.element.options.map((o) => o.shape.op.value);
    expect(Object.keys(internals.STEP_HANDLERS).sort()).toEqual([...ops].sort());
    for (const [op, handler] of Object.entries(internals.STEP_HANDLERS)) expect(handler.op).toBe(op);
  });

  it("resultOf gives a step's typed result and says what the step was otherwise", () => {
    const { result } = api.runScenario(api.loadScenario({
      topology: "dmirror",
      steps: [{ op: "mmap", buffer: "a", pages: 2 }, { op: "cpuWrite", buffer: "a", value: "index" }, { op: "cpuRead", buffer: "a" }, { op: "cpuRead", buffer: "b" }],
    }));
    expect(api.resultOf(result, 2, "cpuRead").values).toEqual([0, 1]);
    expect(api.resultOf(result, 0, "mmap").pages).toBe(2);
    expect(() => api.resultOf(result, 2, "mmap")).toThrow("step 2 is cpuRead, not mmap");
    expect(() => api.resultOf(result, 3, "cpuRead")).toThrow(/step 3 \(cpuRead\) failed: steps\[3\]\.buffer: unknown buffer "b"/);
    expect(() => api.resultOf(result, 9, "cpuRead")).toThrow("the run has no step 9 (4 steps)");
  });
});

describe("run counters", () => {
  it("are the sums of the steps' counters, peer unmaps by invalidation reported as such", () => {
    const { result } = api.runScenario(api.loadScenario({
      topology: "dmirror",
      steps: [
        { op: "mmap", buffer: "a", pages: 8 },
        { op: "cpuWrite", buffer: "a", value: 1 },
        { op: "migrateToDevice", device: "dmirror0", buffer: "a" },
        { op: "peerMap", device: "dmirror1", buffer: "a" },
        { op: "cpuRead", buffer: "a", count: 3 }, // three pages migrate back: the notifier drops dmirror1's mappings of them
        { op: "peerUnmap", device: "dmirror1", buffer: "a" }, // the other five
      ],
    }));
    const c = result.counters;
    expect(result.steps.every((s) => s.ok)).toBe(true);
    for (const k of ["faults", "invalidations", "migrations", "peerMaps", "peerUnmaps", "peerUnmapsByInvalidation"] as const) {
      expect(c[k], k).toBe(c.stepCounters.reduce((sum, s) => sum + s[k], 0));
    }
    expect(c.stepCounters[1].faults).toBe(8);
    expect(c.stepCounters[3].peerMaps).toBe(8);
    expect(c.stepCounters[4]).toMatchObject({ faults: 3, migrations: 3, peerUnmaps: 3, peerUnmapsByInvalidation: 3 });
    expect(c.stepCounters[5]).toMatchObject({ peerUnmaps: 5, peerUnmapsByInvalidation: 0 });
    expect(c.peerUnmaps).toBe(8);
  });
});

describe("exit statuses", () => {
  it("a broken invariant of the kit is an internal error, exit 70, never reported as bad input", async () => {
    const io = { out: () => { throw new api.InternalError("ledger out of order"); }, err: (t: string) => errs.push(t) };
    const errs: string[] = [];
    expect(await api.cli(["topo", "data/topologies/pcie-gen3-host.json"], io)).toBe(70);
    expect(errs.join("")).toBe("p2pdma-lab: internal error: ledger out of order\n");
  });
});
