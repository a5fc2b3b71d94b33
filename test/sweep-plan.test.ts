// Tests for a sweep's edge and data (src/sweep: spec, grid, plan, metrics, output): point
// numbering, substitution, the clear errors of bad sweep files (named file, field and value, as
// for scenarios), CSV and JSON text, shard selection and the checks of `sweep merge`. Runs the
// points in the calling thread (workers: 0); the worker pool is tested in sweep-run.test.ts.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { gridOf, pointValues, substitute } from "../src/sweep/grid.js";
import { loadSweep, loadSweepFile, pointTask } from "../src/sweep/plan.js";
import { mergeSweeps, sweepCsv, sweepJson } from "../src/sweep/output.js";
import { parseShard, runSweep, type SweepResult } from "../src/sweep/run.js";
import { SweepFile } from "../src/sweep/spec.js";
import { InputError } from "../src/units/input-error.js";
import { runObject } from "./support/run.js";

const transferSweep = {
  scenario: {
    topology: "dmirror",
    steps: [{ op: "transfer", from: "dmirror0", to: "dmirror1", bytes: "${bytes}", design: "${design}" }],
  },
  grid: { design: ["p2p", "bounce"], bytes: [4096, "1MiB", 65536] },
  metrics: { gbps: "steps.0.result.gbps", ns: "steps[0].result.ns", links: "steps.0.result.linkBytes" },
};

describe("grid", () => {
  it("numbers points with the last name fastest", () => {
    const g = gridOf({ a: [1, 2], b: ["x", "y", "z"] });
    expect(g.points).toBe(6);
    expect([0, 1, 2, 3, 5].map((i) => pointValues(g, i))).toEqual([
      { a: 1, b: "x" }, { a: 1, b: "y" }, { a: 1, b: "z" }, { a: 2, b: "x" }, { a: 2, b: "z" },
    ]);
  });

  it("puts a whole \"${name}\" in as the value itself, and inside a longer string as its text", () => {
    const t = { n: "${n}", o: "${o}", s: "${n}MiB", deep: [{ k: "a-${o}-${n}" }], keep: "$n {n}", num: 3 };
    expect(substitute(t, { n: 64, o: { x: 1 } })).toEqual({ n: 64, o: { x: 1 }, s: "64MiB", deep: [{ k: "a-{\"x\":1}-64" }], keep: "$n {n}", num: 3 });
    expect(t.n).toBe("${n}"); // the template is left alone
  });
});

describe("loading a sweep", () => {
  it("checks every point as a scenario and gives each its machine and calibration", () => {
    const plan = loadSweep(transferSweep);
    expect(plan.grid.points).toBe(6);
    expect(plan.columns).toEqual(["design", "bytes", "gbps", "ns", "links", "ok", "error"]);
    expect(plan.env.topologies).toEqual([{ builtin: "dmirror" }]);
    expect(pointTask(plan, 4)).toEqual({
      index: 4, topology: 0, calibration: 0,
      scenario: { topology: "dmirror", steps: [{ op: "transfer", from: "dmirror0", to: "dmirror1", bytes: "1MiB", design: "bounce" }] },
    });
    expect(plan.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(loadSweep(structuredClone(transferSweep)).hash).toBe(plan.hash);
    expect(loadSweep({ ...transferSweep, grid: { ...transferSweep.grid, design: ["bounce", "p2p"] } }).hash).not.toBe(plan.hash);
  });

  it("reads each machine once, from files relative to the scenario file, and hashes no paths", () => {
    const dir = mkdtempSync(join(tmpdir(), "p2pdma-sweep-"));
    writeFileSync(join(dir, "s.json"), JSON.stringify({
      topology: "${machine}", calibration: "pcie-gen4-host",
      steps: [{ op: "transfer", from: "dev0", to: "dev1", bytes: "${bytes}", design: "p2p" }],
    }));
    const machines = [`${process.cwd()}/data/topologies/pcie-gen4-host.json`, `${process.cwd()}/data/topologies/pcie-gen5-host.json`];
    writeFileSync(join(dir, "sweep.json"), JSON.stringify({ scenario: "s.json", grid: { machine: machines, bytes: [1, 2, 3] }, metrics: { t: "simTimeNs" } }));
    const plan = loadSweepFile(join(dir, "sweep.json"));
    expect(plan.env.topologies).toHaveLength(2);
    expect(plan.env.calibrations).toHaveLength(1);
    expect(Array.from(plan.keys)).toEqual([0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 1, 0]);
    expect(JSON.stringify(plan.hash)).not.toContain(dir);
  });

  const bad = (sweep: unknown) => () => loadSweep(sweep, { source: "s.json" });

  it("bad sweep files are InputErrors naming the file, field and value", () => {
    expect(bad({ ...transferSweep, metrics: undefined })).toThrow(/^s\.json: metrics: .*\(value: missing\)/);
    expect(bad({ ...transferSweep, extra: 1 })).toThrow(/^s\.json: extra: unknown field/);
    expect(bad({ ...transferSweep, grid: { design: [] , bytes: [1] } })).toThrow(/^s\.json: grid\.design: .*\(value: \[\]\)/);
    expect(bad({ ...transferSweep, grid: { "2x": [1] } })).toThrow(/grid\.2x: a grid name is letters, digits and "_", not starting with a digit \(value: "2x"\)/);
    expect(bad({ ...transferSweep, metrics: { ok: "simTimeNs" } })).toThrow(/metrics\.ok: "index", "ok" and "error" are columns of every row/);
    expect(bad({ ...transferSweep, metrics: { design: "simTimeNs" } })).toThrow(/metrics\.design: is also a grid name/);
    expect(bad({ ...transferSweep, metrics: { g: "step.0.result.gbps" } })).toThrow(/metrics\.g: a metric path starts with one of the run result's fields: steps, counters, violations, simTimeNs \(value: "step\.0\.result\.gbps"\)/);
    expect(bad({ ...transferSweep, metrics: { g: "steps.3.result.gbps" } })).toThrow(/metrics\.g: the scenario has 1 steps \(steps\.0 to steps\.0\)/);
    expect(bad({ ...transferSweep, metrics: { g: "steps..gbps" } })).toThrow(/metrics\.g: a metric path is names and indices/);
    expect(bad({ ...transferSweep, metrics: { g: "steps.first" } })).toThrow(/metrics\.g: "steps" is followed by a step index/);
  });

  it("placeholders must name grid entries, and every grid entry must be used", () => {
    const typo = { ...transferSweep, scenario: { ...transferSweep.scenario, steps: [{ ...transferSweep.scenario.steps[0], design: "${desing}" }] } };
    expect(bad(typo)).toThrow(/^s\.json: scenario: scenario\.steps\[0\]\.design: no grid entry named "desing" \(grid: design, bytes\) \(value: "\$\{desing\}"\)/);
    expect(bad({ ...transferSweep, grid: { ...transferSweep.grid, seed: [1, 2] } })).toThrow(/grid\.seed: the scenario uses no "\$\{seed\}"/);
  });

  it("a grid value that makes a bad scenario is bad input naming the point, its values and the field", () => {
    const sweep = { ...transferSweep, grid: { design: ["p2p", "teleport"], bytes: [4096] } };
    expect(bad(sweep)).toThrow(InputError);
    expect(bad(sweep)).toThrow(/^s\.json: scenario: point 1 \(design="teleport", bytes=4096\): steps\[0\]\.design: .*\(value: "teleport"\)/);
    const machine = { ...transferSweep, scenario: { ...transferSweep.scenario, topology: "${m}" }, grid: { ...transferSweep.grid, m: ["dmirror", "nosuch"] } };
    expect(bad(machine)).toThrow(/point 1 \(design="p2p", bytes=4096, m="nosuch"\): topology: not a builtin topology/);
  });

  it("the sweep file's JSON Schema describes every field", () => {
    const schema = z.toJSONSchema(SweepFile, { io: "input", unrepresentable: "any" }) as { properties: Record<string, { description?: string }> };
    for (const [k, v] of Object.entries(schema.properties)) expect(v.description?.length, k).toBeGreaterThan(20);
  });
});

describe("running in this thread", () => {
  it("gives one row per point: grid values, metrics, ok and error, equal to single runs", async () => {
    const r = await runSweep(loadSweep(transferSweep), { workers: 0 });
    expect(r.rows.map((row) => row.index)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(Object.keys(r.rows[0])).toEqual(["index", "design", "bytes", "gbps", "ns", "links", "ok", "error"]);
    const single = runObject(pointTask(loadSweep(transferSweep), 4).scenario);
    const step = single.steps[0];
    if (step.op !== "transfer" || !step.ok) throw new Error("the single run failed");
    expect(r.rows[4]).toEqual({ index: 4, design: "bounce", bytes: "1MiB", gbps: step.result.gbps, ns: step.result.ns, links: step.result.linkBytes, ok: true, error: null });
  });

  it("a point that fails keeps its row: ok false, the reason, empty cells for what it lacks", async () => {
    const sweep = {
      scenario: { topology: "dmirror", steps: [{ op: "mmap", buffer: "a", pages: 1, prot: "${prot}" }, { op: "cpuRead", buffer: "a" }] },
      grid: { prot: ["r", "none"] },
      metrics: { v: "steps.1.result.values.0", faults: "counters.faults", violations: "violations.length" },
    };
    const r = await runSweep(loadSweep(sweep), { workers: 0 });
    expect(r.rows[0]).toEqual({ index: 0, prot: "r", v: 0, faults: 1, violations: 0, ok: true, error: null });
    expect(r.rows[1]).toMatchObject({ index: 1, prot: "none", v: null, ok: false });
    expect(r.rows[1].error).toMatch(/^steps\[1\] \(cpuRead\): EFAULT: CPU read of page 0/);
    const expected = await runSweep(loadSweep({ ...sweep, scenario: { ...sweep.scenario, steps: [sweep.scenario.steps[0], { op: "cpuRead", buffer: "a", expect: "${want}" }] }, grid: { prot: ["none"], want: ["EFAULT"] } }), { workers: 0 });
    expect(expected.rows[0]).toMatchObject({ ok: true, error: null, v: null });
  });

  it("a shard K/N runs the points whose index is K-1 modulo N, and says so", async () => {
    const plan = loadSweep(transferSweep);
    const r = await runSweep(plan, { workers: 0, shard: "2/4" });
    expect(r.rows.map((row) => row.index)).toEqual([1, 5]);
    expect(r.shard).toBe("2/4");
    expect(parseShard({ k: 1, n: 1 })).toEqual({ k: 1, n: 1 });
    for (const s of ["0/2", "3/2", "1/0", "a/b", "1"]) expect(() => parseShard(s), s).toThrow(/--shard: a shard is K\/N with 1 <= K <= N/);
  });

  it("reports progress for every point, the last with done == total", async () => {
    const seen: [number, number, number][] = [];
    await runSweep(loadSweep(transferSweep), { workers: 0, onProgress: (p) => seen.push([p.done, p.total, p.row.index]) });
    expect(seen.map((s) => s[0])).toEqual([1, 2, 3, 4, 5, 6]);
    expect(seen.every((s) => s[1] === 6)).toBe(true);
  });
});

describe("outputs", () => {
  const result: SweepResult = {
    sweep: "a".repeat(64), points: 2, columns: ["name", "x", "ok", "error"],
    rows: [
      { index: 0, name: "a,b", x: 0.1 + 0.2, ok: true, error: null },
      { index: 1, name: "say \"hi\"", x: null, ok: false, error: "line 1\nline 2" },
    ],
  };

  it("CSV: the columns in order, RFC 4180 quoting, numbers as JavaScript prints them, empty for null", () => {
    expect(sweepCsv(result)).toBe('name,x,ok,error\n"a,b",0.30000000000000004,true,\n"say ""hi""",,false,"line 1\nline 2"\n');
  });

  it("JSON: the sweep's identity, then one row per line; parses back to the result", () => {
    const text = sweepJson({ ...result, shard: "1/1" });
    expect(text.split("\n")[1]).toBe(JSON.stringify(result.rows[0]) + ",");
    expect(JSON.parse(text)).toEqual({ ...result, shard: "1/1" });
  });

  it("merge: shards of one sweep, each point once, give the whole sweep's result", () => {
    const shard = (k: number) => JSON.parse(sweepJson({ ...result, shard: `${k + 1}/2`, rows: [result.rows[k]] }));
    expect(mergeSweeps([shard(1), shard(0)], ["b.json", "a.json"])).toEqual(result);
    expect(() => mergeSweeps([shard(0)], ["a.json"])).toThrow(/a\.json: rows: points 1 are in none of the outputs: a shard is missing \(value: "1 of 2 points"\)/);
    expect(() => mergeSweeps([shard(0), shard(0)], ["a.json", "b.json"])).toThrow(/b\.json: rows\[0\]\.index: point 0 is also in a\.json/);
    expect(() => mergeSweeps([shard(0), { ...shard(1), sweep: "b".repeat(64) }], ["a.json", "b.json"])).toThrow(/b\.json: sweep: b\.json is from another sweep than a\.json/);
    expect(() => mergeSweeps([shard(0), { rows: [] }], ["a.json", "b.json"])).toThrow(/b\.json \(a sweep's --json output\): sweep: /);
    expect(() => mergeSweeps([], [])).toThrow(/shards: name the JSON outputs/);
  });
});

describe("sweep points with a topology overlay", () => {
  it("run on the overlaid machine, as `run` does (fabric/overlay.ts applied before the build)", async () => {
    // dmirror0 is given no ZONE_DEVICE memory: migrating to it then names an unknown device.
    const plan = loadSweep({
      scenario: {
        topology: "dmirror", topologyOverlay: { devices: { dmirror0: { zoneDevice: "${kind}" } } },
        steps: [{ op: "mmap", buffer: "a", pages: 2 }, { op: "migrateToDevice", device: "dmirror0", buffer: "a" }],
      },
      grid: { kind: ["private", "none"] },
      metrics: { cpages: "steps.1.result.cpages" },
    });
    const r = await runSweep(plan, { workers: 0 });
    expect(r.rows.map((row) => [row.kind, row.ok, row.cpages])).toEqual([["private", true, 2], ["none", false, null]]);
    expect(r.rows[1].error).toMatch(/steps\[1\]\.device: unknown device "dmirror0"/);
  });
});
