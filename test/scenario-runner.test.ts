// Tests for src/scenario: schema errors naming field and value (DESIGN §4), per-step errors with
// the kernel's errno, state kept consistent after a failed step, and determinism.
import { describe, expect, it } from "vitest";
import { builtinTopology } from "../src/fabric/builtin.js";
import { deviceSpecs } from "../src/devices/machine.js";
import { parseScenario } from "../src/scenario/parse.js";
import { InputError } from "../src/units/input-error.js";
import { runObject } from "./support/run.js";

const devices = deviceSpecs(builtinTopology("dmirror"));
const run = (steps: unknown[]) => runObject({ topology: "dmirror", steps });

describe("scenario schema", () => {
  it("names an unknown op, an unknown field and a wrong type with path and value", () => {
    const bad = (steps: unknown[]) => {
      try {
        parseScenario({ topology: "dmirror", steps });
      } catch (e) {
        return e as InputError;
      }
      throw new Error("accepted");
    };
    let e = bad([{ op: "mmap", buffer: "a", pages: 1 }, { op: "frobnicate" }]);
    expect(e.field).toBe("steps[1].op");
    expect(e.value).toBe("frobnicate");
    e = bad([{ op: "mmap", buffer: "a", pages: 1, hugee: "pmd" }]);
    expect(e.field).toBe("steps[0].hugee");
    e = bad([{ op: "mmap", buffer: "a", pages: "many" }]);
    expect(e.field).toBe("steps[0].pages");
    expect(e.message).toContain('"many"');
  });

  it("finds the four dmirror devices of the builtin topology", () => {
    expect(devices.map((d) => `${d.id}:${d.zoneDevice}`)).toEqual([
      "dmirror0:private", "dmirror1:private", "dmirror2:coherent", "dmirror3:coherent",
    ]);
  });
});

describe("scenario runner", () => {
  it("reports a kernel failure with its errno first, and later steps still run", () => {
    const r = run([
      { op: "mmap", buffer: "a", pages: 4, prot: "none" },
      { op: "deviceRead", device: "dmirror0", buffer: "a" },
      { op: "mprotect", buffer: "a", prot: "rw" },
      { op: "cpuWrite", buffer: "a", value: "index" },
      { op: "deviceRead", device: "dmirror0", buffer: "a" },
    ]);
    expect(r.steps[1].ok).toBe(false);
    expect(r.steps[1].error).toMatch(/^EFAULT: .*page 0/);
    expect(r.steps[4]).toEqual({ op: "deviceRead", ok: true, result: { cpages: 4, faults: 1, values: [0, 1, 2, 3] } });
  });

  it("names unknown buffers, devices and out-of-bounds ranges, changing nothing", () => {
    const r = run([
      { op: "mmap", buffer: "a", pages: 2 },
      { op: "cpuWrite", buffer: "b", value: 1 },
      { op: "deviceRead", device: "gpu9", buffer: "a" },
      { op: "cpuWrite", buffer: "a", first: 1, count: 2, value: 5 },
      { op: "cpuRead", buffer: "a" },
    ]);
    expect(r.steps[1].error).toContain('steps[1].buffer: unknown buffer "b"');
    expect(r.steps[2].error).toContain('steps[2].device: unknown device "gpu9"');
    expect(r.steps[3].error).toContain("steps[3].count: 2 is out of bounds");
    expect(r.steps[4].result).toEqual({ values: [0, 0] });
    expect(r.counters.faults).toBe(2); // only the last read faulted (zero page twice)
  });

  it("summarizes a large snapshot, counts migrations and bytes per real link", () => {
    const r = run([
      { op: "mmap", buffer: "a", pages: 4096 },
      { op: "cpuWrite", buffer: "a", value: 1 },
      { op: "migrateToDevice", device: "dmirror0", buffer: "a", count: 1000 },
      { op: "snapshot", device: "dmirror0", buffer: "a", summarize: true },
    ]);
    expect(r.steps[3].result).toEqual({ cpages: 4096, faults: 0, counts: { "WRITE|DEV_PRIVATE_LOCAL": 1000, WRITE: 3096 } });
    expect(r.counters.migrations).toBe(1000);
    // The copy crosses the root port's link and dmirror0's link (builtin dmirror topology, costs.ts).
    expect(r.counters.bytesMoved).toEqual({ "pcie:rp0-sw0-up": 1000 * 4096, "pcie:sw0-dn0-dmirror0": 1000 * 4096 });
    expect(r.violations).toEqual([]);
    expect(r.simTimeNs).toBe(r.counters.stepTimesNs.reduce((a, b) => a + b, 0));
  });

  it("is deterministic", () => {
    const steps = [
      { op: "mmap", buffer: "a", pages: 64 },
      { op: "cpuWrite", buffer: "a", value: "index" },
      { op: "fork", child: "c" },
      { op: "migrateToDevice", device: "dmirror1", buffer: "a", process: "c" },
      { op: "deviceWrite", device: "dmirror2", buffer: "a", value: 9 },
      { op: "snapshot", device: "dmirror1", buffer: "a", process: "c" },
    ];
    expect(JSON.stringify(run(steps))).toBe(JSON.stringify(run(steps)));
  });
});

describe("device names", () => {
  it("a short PCI address (as lspci prints it) names a device wherever its id does (DESIGN §4)", () => {
    // dmirror0 is 0000:03:00.0 and dmirror1 0000:04:00.0 in the builtin topology (src/fabric/builtin.ts).
    const r = run([
      { op: "mmap", buffer: "a", pages: 4 },
      { op: "cpuWrite", buffer: "a", value: "index" },
      { op: "migrateToDevice", device: "03:00.0", buffer: "a" },
      { op: "peerMap", device: "0000:04:00.0", buffer: "a" },
      { op: "snapshot", device: "dmirror0", buffer: "a" },
      { op: "deviceRead", device: "99:00.0", buffer: "a" },
    ]);
    expect(r.steps.slice(0, 5).map((s) => s.ok)).toEqual([true, true, true, true, true]);
    expect(r.steps[3].result).toMatchObject({ cpages: 4, paths: { BUS_ADDR: 4 } });
    expect(r.steps[4].result).toMatchObject({ entries: ["WRITE|DEV_PRIVATE_LOCAL", "WRITE|DEV_PRIVATE_LOCAL", "WRITE|DEV_PRIVATE_LOCAL", "WRITE|DEV_PRIVATE_LOCAL"] });
    expect(r.steps[5].error).toMatch(/^steps\[5\]\.device: unknown device "99:00\.0"/);
  });
});
