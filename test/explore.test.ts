// The explorer (src/explore): on the explorer machine (every GPU page has its own BAR slot, so no
// slot is ever reclaimed and what it finds are races in the driver), each classic driver bug is
// found within 10^4 runs and shrunk to a scenario of at most 10 steps that reproduces, through
// `p2pdma-lab run`, the same violation; the correct designs give none; a seed gives the same
// report whatever the number of worker threads; bad workloads are named.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { explore } from "../src/explore/explore.js";
import { caseScenario, EVENT_KINDS, MAP_START_NS, parseWorkload, workloadDevices } from "../src/explore/workload.js";
import { loadScenario, resolveTopology } from "../src/scenario/load.js";
import { parseScenario } from "../src/scenario/parse.js";
import { runScenario } from "../src/scenario/run.js";
import { parseQuantity } from "../src/units/size.js";

const FULL = "data/topologies/p2p-three-devices-full-bar.json";

describe("the explorer machine", () => {
  it("exposes every page of each GPU through its memory BAR (no slot reclaim can cause a violation)", () => {
    const t = JSON.parse(readFileSync(FULL, "utf8"));
    const gpus = t.nodes.filter((n: { zoneDevice?: string }) => n.zoneDevice === "private");
    expect(gpus.map((g: { id: string }) => g.id)).toEqual(["gpu0", "gpu1"]);
    for (const g of gpus) {
      const bar = g.bars.find((b: { index: number }) => b.index === 1);
      expect(parseQuantity(bar.size)).toBeGreaterThanOrEqual(parseQuantity(g.memory)!);
    }
  });
});

describe("the explorer's cases", () => {
  it("are scenarios as the schema makes them, for every event kind (runs take them unchecked)", () => {
    const fabric = resolveTopology(FULL, process.cwd());
    const devices = workloadDevices(parseWorkload({}), fabric);
    expect(devices).toEqual({ owners: ["gpu0", "gpu1"], client: "nic0" });
    for (const kind of EVENT_KINDS) {
      const built = caseScenario({ owner: "gpu1", pages: 3, events: [{ kind, offsetNs: 5, first: 1, count: 9 }], seed: 2 }, devices, "odp", FULL);
      const plain = JSON.parse(JSON.stringify(built));
      expect(parseScenario(plain), kind).toEqual(plain);
      // The event lands 5 ns after the mapping starts, on pages 1-2 (its count clipped to the buffer).
      const event = plain.steps[4];
      expect(event.at).toBe(MAP_START_NS + 5);
      if ("first" in event) expect([event.first, event.count]).toEqual([1, 2]);
    }
  });
});

describe("explore() finds each classic bug and shrinks it", () => {
  const bugs: [string, RegExp][] = [
    ["odp-no-fence-wait", /empty-bar-slot|lost-write|freed-page|moved/],
    ["odp-no-seq-recheck", /empty-bar-slot|moved|reused/],
    ["odp-late-iova-unmap", /empty-bar-slot|moved|reused|lost-write/],
    ["odp-ignore-invalidation", /empty-bar-slot|moved|reused|lost-write/],
    ["pinned-short-term", /unpinned/],
  ];
  for (const [driver, codes] of bugs) {
    it(`${driver}: within 10^4 runs, at most 10 steps, replayed the same`, async () => {
      const r = await explore(driver, { topology: FULL, runs: 10_000, seed: 1, workers: 0 });
      expect(r.finding).toBeDefined();
      const f = r.finding!;
      expect(r.runs).toBeLessThanOrEqual(10_000);
      expect((f.scenario.steps as unknown[]).length).toBeLessThanOrEqual(10);
      expect(f.reproduced).toBe(true);
      expect(f.scenario.drivers).toEqual({ nic0: driver });
      expect(f.result.violations.length).toBeGreaterThan(0);
      for (const v of f.result.violations) expect(v.code).toMatch(codes);
      // The printed scenario is a scenario file: loaded and run afresh, it breaks the same way.
      const again = runScenario(loadScenario(JSON.parse(JSON.stringify(f.scenario)))).result;
      expect(again.violations).toEqual(f.result.violations);
      expect(f.trace.some((s) => s.track === "steps")).toBe(true);
    }, 120_000);
  }
});

describe("explore() on the correct designs", () => {
  for (const driver of ["odp", "pinned", "dmabuf"]) {
    it(`${driver}: no violation in 2000 runs (bench/explore.js runs 10^5), and the runs reach many states`, async () => {
      const r = await explore(driver, { topology: FULL, runs: 2000, seed: 7, workers: 0 });
      expect(r.finding).toBeUndefined();
      expect(r.runs).toBe(2000);
      expect(r.systematic + r.random).toBe(2000);
      expect(r.systematic).toBeGreaterThan(0);
      expect(r.distinctStates).toBeGreaterThan(50);
    }, 120_000);
  }
});

describe("determinism", () => {
  it("a seed gives the same report in this thread and in two workers (the built package: workers load dist/)", async () => {
    const kit = await import("../dist/index.js");
    const a = await kit.explore("odp-late-iova-unmap", { topology: FULL, runs: 3000, seed: 3, workers: 0 });
    const b = await kit.explore("odp-late-iova-unmap", { topology: FULL, runs: 3000, seed: 3, workers: 2 });
    expect(b.workers).toBe(2);
    expect({ runs: b.runs, systematic: b.systematic, random: b.random, states: b.distinctStates, scenario: b.finding?.scenario })
      .toEqual({ runs: a.runs, systematic: a.systematic, random: a.random, states: a.distinctStates, scenario: a.finding?.scenario });
    const c = await kit.explore("odp", { topology: FULL, runs: 1200, seed: 3, workers: 0 });
    const d = await kit.explore("odp", { topology: FULL, runs: 1200, seed: 3, workers: 2 });
    expect([d.runs, d.distinctStates, d.finding]).toEqual([c.runs, c.distinctStates, c.finding]);
  }, 120_000);
});

describe("bad input", () => {
  it("names the workload field and value", () => {
    expect(() => parseWorkload({ pages: 100 }, "w.json")).toThrow(/pages.*100/);
    expect(() => parseWorkload({ events: ["teleport"] }, "w.json")).toThrow(/events.*teleport/);
  });

  it("names an owner without device-private memory, an unknown client, a driver that is no builtin", async () => {
    await expect(explore("odp", { topology: FULL, workload: { owners: ["nic0"] }, workers: 0 })).rejects.toThrow(/owners.*gpu0, gpu1.*nic0/);
    await expect(explore("odp", { topology: FULL, client: "nic9", workers: 0 })).rejects.toThrow(/client.*nic9/);
    await expect(explore("odq", { topology: FULL, workers: 0 })).rejects.toThrow(/driver.*builtin: odp.*odq/);
    await expect(explore("odp", { topology: FULL, runs: 0 })).rejects.toThrow(/runs/);
  });

  it("refuses workers for a driver object (it cannot be sent to a thread)", async () => {
    const { BUILTIN_DRIVERS } = await import("../src/drivers/builtin/index.js");
    await expect(explore(BUILTIN_DRIVERS.get("odp")!, { topology: FULL, workers: 2 })).rejects.toThrow(/workers.*this thread only/);
  });
});
