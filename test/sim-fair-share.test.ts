// Checks how concurrent transfers share the machine (src/sim/fair-share.ts, simulate.ts): max-min
// fairness (costs.md §6.1), a limit that is a capacity shared by streams (two streams never get twice
// a limit: the nccl #1086 shared uplink, a device's DMA engines and read tags, a root complex's
// forwarding), the incremental re-share equal to a
// full recomputation at every event, one event per start and per finish (no stale events), and flows
// that cross no external link (a root-bus function) or move petabytes finishing in bounded work.
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  buildLinkGraph, fillRates, packetNs, pathBetween, simulate, soloGBps, withParams, writeGBps, type ClassSet, type LinkGraph, type Transfer,
} from "../src/sim/index.js";
import { FillScratch } from "../src/sim/fair-share.js";
import { loadCalibration } from "../src/scenario/load.js";
import { runObject } from "./support/run.js";
import { resultOf } from "../src/scenario/results.js";
import { topologySpec } from "./support/run.js";

const topo = (name: string) => topologySpec(join(import.meta.dirname, "..", "data", "topologies", `${name}.json`));
const graph = (name: string): LinkGraph => buildLinkGraph(topo(name), loadCalibration());

function classSet(paths: { res: number[]; w?: number[]; cap?: number; n?: number }[], resources: number): ClassSet {
  const offsets = [0], res: number[] = [], wt: number[] = [];
  for (const p of paths) {
    res.push(...p.res);
    wt.push(...(p.w ?? p.res.map(() => 1)));
    offsets.push(res.length);
  }
  const resOffsets = new Int32Array(resources + 1);
  for (const r of res) resOffsets[r + 1]++;
  for (let r = 0; r < resources; r++) resOffsets[r + 1] += resOffsets[r];
  const fill = resOffsets.slice(0, resources), resClasses = new Int32Array(res.length);
  paths.forEach((p, c) => p.res.forEach((r) => (resClasses[fill[r]++] = c)));
  return {
    offsets: Int32Array.from(offsets), resources: Int32Array.from(res), weights: Float64Array.from(wt),
    caps: Float64Array.from(paths.map((p) => p.cap ?? Infinity)), counts: Float64Array.from(paths.map((p) => p.n ?? 1)), resOffsets, resClasses,
  };
}

function fill(set: ClassSet, room: number[]): number[] {
  const n = set.caps.length, members = Int32Array.from({ length: n }, (_, i) => i);
  const touched = Int32Array.from(new Set(set.resources));
  const rates = new Float64Array(n);
  const comp = { members, memberCount: n, isMember: new Uint8Array(n).fill(1), touched, touchedCount: touched.length, room: Float64Array.from(room) };
  fillRates(set, comp, rates, new FillScratch(room.length, n));
  return [...rates];
}

/** Progressive filling written the plain way, one flow at a time, for comparison. */
function referenceRates(set: ClassSet, room: number[]): number[] {
  const n = set.caps.length, rates = new Array<number>(n).fill(0), frozen = new Array<boolean>(n).fill(false), left = [...room];
  let unfrozen = n;
  while (unfrozen > 0) {
    const load = new Array<number>(room.length).fill(0);
    for (let c = 0; c < n; c++) if (!frozen[c]) for (let k = set.offsets[c]; k < set.offsets[c + 1]; k++) load[set.resources[k]] += set.counts[c] * set.weights[k];
    let step = Infinity;
    load.forEach((l, r) => l > 0 && (step = Math.min(step, left[r] / l)));
    for (let c = 0; c < n; c++) if (!frozen[c]) step = Math.min(step, set.caps[c] - rates[c]);
    load.forEach((l, r) => (left[r] -= step * l));
    for (let c = 0; c < n; c++) {
      if (frozen[c]) continue;
      rates[c] += step;
      let stop = set.caps[c] !== Infinity && set.caps[c] - rates[c] <= 1e-9 * set.caps[c];
      for (let k = set.offsets[c]; k < set.offsets[c + 1]; k++) if (left[set.resources[k]] <= 1e-9 * room[set.resources[k]]) stop = true;
      if (stop) {
        frozen[c] = true;
        unfrozen--;
      }
    }
  }
  return rates;
}

function lcg(seed: number): () => number {
  return () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
}

describe("max-min fair share", () => {
  it("splits a resource evenly, gives spare capacity to the class that can use it, and honours caps", () => {
    // Resource 0 capacity 10, resource 1 capacity 4: class A uses 0, class B uses 0 and 1.
    expect(fill(classSet([{ res: [0] }, { res: [0, 1] }], 2), [10, 4])).toEqual([6, 4]);
    expect(fill(classSet([{ res: [0], cap: 3 }, { res: [0, 1] }], 2), [10, 4])).toEqual([3, 4]);
    // Counts: three flows of A and one of B on a 12 GB/s resource get 3 each.
    expect(fill(classSet([{ res: [0], n: 3 }, { res: [0] }], 1), [12])).toEqual([3, 3]);
  });

  it("equals plain progressive filling on random instances, by levels (small) and by heap (large)", () => {
    const rnd = lcg(11);
    for (let trial = 0; trial < 400; trial++) {
      const resources = 2 + Math.floor(rnd() * 10), classes = 1 + Math.floor(rnd() * 30);
      const paths = Array.from({ length: classes }, () => {
        const res = [...new Set(Array.from({ length: 1 + Math.floor(rnd() * 4) }, () => Math.floor(rnd() * resources)))];
        return { res, w: res.map(() => 1 + rnd() * 0.3), cap: rnd() < 0.3 ? 1 + rnd() * 20 : Infinity, n: 1 + Math.floor(rnd() * 5) };
      });
      const set = classSet(paths, resources);
      const room = Array.from({ length: resources }, () => 5 + rnd() * 100);
      const got = fill(set, room), want = referenceRates(set, room);
      got.forEach((x, c) => expect(Math.abs(x - want[c]) / want[c], `trial ${trial} class ${c}`).toBeLessThan(1e-9));
    }
  });

  it("never gives two streams twice a limit: two pushes through one switch uplink share it (nccl #1086)", () => {
    const g = graph("pcie-gen4-host");
    const bytes = 256 << 20;
    const shared = simulate(g, [
      { path: pathBetween(g, "dev0", "host:0", "write"), bytes },
      { path: pathBetween(g, "dev1", "host:0", "write"), bytes },
    ]);
    const separate = simulate(g, [
      { path: pathBetween(g, "dev0", "host:0", "write"), bytes },
      { path: pathBetween(g, "dev2", "host:0", "write"), bytes },
    ]);
    expect(shared.makespanNs / separate.makespanNs).toBeCloseTo(2, 2);
    const up = g.links.findIndex((l) => l.id === "pcie:rp1-usp");
    expect(shared.payloadBytes[2 * up + 1]).toBe(2 * bytes);
    expect(shared.wireBytes[2 * up + 1]).toBeCloseTo((2 * bytes * (256 + 24)) / 256, 0);
    expect(shared.busyNs[2 * up + 1]).toBeGreaterThan(0.99 * shared.dataEndNs[0]);
  });

  it("caps a transfer at one DMA engine and shares the device's engines among its transfers; a root complex's forwarding rate is shared too", () => {
    const spec = topo("pcie-gen4-host");
    const dev0 = spec.nodes.find((n) => n.id === "dev0")! as { dmaEngines?: { count: number; gbps: number } };
    dev0.dmaEngines = { count: 2, gbps: 8 };
    const g = buildLinkGraph(spec, loadCalibration());
    const push = pathBetween(g, "dev0", "host:0", "write");
    expect(push.capGBps).toBe(8);
    expect(g.resourceNames[g.engines.get("dev0")!]).toBe("engines:dev0");
    const gb = 1 << 30;
    const one = simulate(g, [{ path: push, bytes: gb }]);
    expect(gb / one.dataEndNs[0]).toBeCloseTo(8, 6); // one engine
    const three = simulate(g, [0, 1, 2].map(() => ({ path: push, bytes: gb })));
    expect((3 * gb) / three.dataEndNs[2]).toBeCloseTo(16, 3); // two engines' worth, never three
    // A platform giving the root complex a forwarding rate: two peers through it share that rate.
    const fwd = buildLinkGraph(topo("pcie-gen4-host"), withParams(loadCalibration(), { rcP2pGBps: 12 }));
    const p2p = pathBetween(fwd, "dev0", "dev2", "write");
    expect(p2p.throughRootComplex).toBe(true);
    const both = simulate(fwd, [{ path: p2p, bytes: gb }, { path: pathBetween(fwd, "dev2", "dev0", "write"), bytes: gb }]);
    expect((2 * gb) / both.dataEndNs[1]).toBeCloseTo(12, 3);
  });

  it("shares a device's read tags among its read streams: together they never beat tags x request size over the round trip", () => {
    // An endpoint with few tags (8-bit extended tags off: 32) reading host memory over two paths.
    const spec = topo("pcie-gen4-host");
    const g = buildLinkGraph(spec, { ...loadCalibration(), params: { ...loadCalibration().params, endpointReadTags: { value: 4, unit: "requests", source: "test", sourceId: "test", status: "ESTIMATE" } } });
    const read = pathBetween(g, "host:0", "dev2", "read");
    const window = read.windowBytes / read.latencyNs;
    expect(soloGBps(g, read)).toBeCloseTo(window, 9);
    const two = simulate(g, [{ path: read, bytes: 64 << 20 }, { path: read, bytes: 64 << 20 }]);
    expect((128 << 20) / two.dataEndNs[1]).toBeCloseTo(window, 3);
  });
});

/** A simulation that recomputes every flow's rate from scratch at every event (the plain way). */
function referenceSimulation(g: LinkGraph, transfers: Transfer[]): number[] {
  const n = transfers.length;
  const end = new Array<number>(n).fill(NaN), start = new Array<number>(n).fill(NaN), left = transfers.map((t) => t.bytes);
  transfers.forEach((t, i) => t.after === undefined && (start[i] = t.startNs ?? 0));
  const active = new Set<number>();
  let t = 0;
  start.forEach((s, i) => s === t && active.add(i));
  for (let guard = 0; guard < 100 * n + 10; guard++) {
    const set = classSet([...active].map((i) => ({ res: transfers[i].path.resources, w: transfers[i].path.weights })), g.capacities.length);
    const rates = active.size > 0 ? referenceRates(set, [...g.capacities]) : [];
    const ids = [...active];
    let next = Infinity;
    ids.forEach((i, k) => (next = Math.min(next, t + left[i] / rates[k])));
    start.forEach((s, i) => !Number.isNaN(s) && s > t && (next = Math.min(next, s)));
    if (next === Infinity) break;
    ids.forEach((i, k) => (left[i] -= rates[k] * (next - t)));
    t = next;
    for (const i of ids) {
      if (left[i] > 1e-6 * transfers[i].bytes) continue;
      active.delete(i);
      end[i] = t + transfers[i].path.latencyNs + packetNs(g, transfers[i].path, transfers[i].bytes) + (transfers[i].tailNs ?? 0);
      transfers.forEach((d, j) => d.after === i && (start[j] = end[i] + (d.startNs ?? 0)));
    }
    start.forEach((s, i) => s === t && !active.has(i) && Number.isNaN(end[i]) && active.add(i));
  }
  return end;
}

describe("simulate", () => {
  it("re-shares incrementally to the same times as recomputing everything at every event, with one event per start and finish", () => {
    const g = graph("hgx-h100");
    const rnd = lcg(5);
    const ends = ["gpu0", "gpu1", "gpu2", "gpu4", "host:0", "host:1"];
    for (let trial = 0; trial < 6; trial++) {
      const transfers: Transfer[] = [];
      for (let i = 0; i < 40; i++) {
        let a: string, b: string;
        do {
          a = ends[Math.floor(rnd() * ends.length)];
          b = ends[Math.floor(rnd() * ends.length)];
        } while (a === b || (a.startsWith("host") && b.startsWith("host")));
        const kind = a.startsWith("host") ? "read" : b.startsWith("host") ? "write" : rnd() < 0.5 ? "read" : "write";
        const t: Transfer = { path: pathBetween(g, a, b, kind, rnd() < 0.3 ? "pcie" : "auto"), bytes: Math.floor(1e5 + rnd() * 4e7), startNs: Math.floor(rnd() * 2e5) };
        if (i > 5 && rnd() < 0.3) t.after = Math.floor(rnd() * i);
        transfers.push(t);
      }
      const sim = simulate(g, transfers);
      const want = referenceSimulation(g, transfers);
      expect(sim.events).toBe(2 * transfers.length);
      want.forEach((w, i) => expect(Math.abs(sim.endNs[i] - w) / w, `trial ${trial} transfer ${i}`).toBeLessThan(1e-6));
    }
  });

  it("re-shares incrementally to the recomputed times on random workloads (shared paths, equal sizes, chains, delays, tails), and counts a resource busy while any transfer crosses it", () => {
    // Busy time: share-state.ts counts a resource busy while an active class crosses it, so it is the
    // measure of the union of [start, last byte] of the transfers crossing it.
    const cases = [
      { g: graph("hgx-h100"), ends: ["gpu0", "gpu1", "gpu2", "gpu5", "host:0", "host:1"] },
      { g: graph("pcie-gen4-host"), ends: ["dev0", "dev1", "dev2", "host:0"] },
    ];
    const item = fc.record({
      a: fc.nat(), b: fc.nat(), read: fc.boolean(), pcie: fc.boolean(),
      bytes: fc.oneof(fc.constantFrom(1 << 20, 4 << 20), fc.integer({ min: 4096, max: 30_000_000 })),
      startNs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 200_000 })),
      after: fc.option(fc.nat(), { nil: undefined }),
      tailNs: fc.option(fc.integer({ min: 0, max: 5000 }), { nil: undefined }),
    });
    fc.assert(
      fc.property(fc.nat({ max: cases.length - 1 }), fc.array(item, { minLength: 1, maxLength: 30 }), (which, items) => {
        const { g, ends } = cases[which];
        const transfers: Transfer[] = items.map((x, i) => {
          const a = ends[x.a % ends.length];
          let b = ends[(x.a + 1 + (x.b % (ends.length - 1))) % ends.length];
          if (a.startsWith("host") && b.startsWith("host")) b = ends[0];
          const kind = a.startsWith("host") ? "read" : b.startsWith("host") ? "write" : x.read ? "read" : "write";
          const t: Transfer = { path: pathBetween(g, a, b, kind, x.pcie ? "pcie" : "auto"), bytes: x.bytes, startNs: x.startNs };
          if (x.after !== undefined && i > 0) t.after = x.after % i;
          if (x.tailNs !== undefined) t.tailNs = x.tailNs;
          return t;
        });
        const sim = simulate(g, transfers);
        expect(sim.events).toBe(2 * transfers.length);
        referenceSimulation(g, transfers).forEach((w, i) => expect(Math.abs(sim.endNs[i] - w) / w, `transfer ${i}`).toBeLessThan(1e-6));
        for (let r = 0; r < g.capacities.length; r++) {
          const spans = transfers.flatMap((t, i) => (t.path.resources.includes(r) ? [[sim.startNs[i], sim.dataEndNs[i]]] : [])).sort((x, y) => x[0] - y[0]);
          let union = 0, from = 0, to = -Infinity;
          for (const [s, e] of spans) {
            if (s > to) {
              if (to > -Infinity) union += to - from;
              from = s;
              to = e;
            } else to = Math.max(to, e);
          }
          if (to > -Infinity) union += to - from;
          expect(Math.abs(sim.busyNs[r] - union), `resource ${g.resourceNames[r]}`).toBeLessThanOrEqual(1e-9 * Math.max(1, union));
        }
      }),
      { numRuns: 40, seed: 7 },
    );
  });

  it("streams a transfer alone at its path's rate after its latency; every path has one", () => {
    const g = graph("pcie-gen4-host");
    const p = pathBetween(g, "dev0", "host:0", "write");
    const r = simulate(g, [{ path: p, bytes: 1 << 30 }]);
    expect(r.dataEndNs[0]).toBeCloseTo((1 << 30) / writeGBps({ gen: 4, width: 16, mps: 256, mrrs: 512 }), -1);
    expect(r.endNs[0] - r.dataEndNs[0]).toBeCloseTo(p.latencyNs, 6);
    const tiny = simulate(g, [{ path: p, bytes: 4 }]);
    expect(tiny.endNs[0]).toBeGreaterThan(p.latencyNs); // a 4-byte write is one whole 28-byte TLP, after the path latency
  });

  it("finishes transfers of a function on a root bus (no link of its own) and of petabytes without work per byte", () => {
    // 0000:00:14.0 is an integrated endpoint on the root bus, as a chipset USB controller is.
    const spec = topo("intel-z370-two-gtx1080ti");
    spec.nodes.push({ kind: "endpoint", id: "0000:00:14.0", parent: "hb00", vendor: "8086", device: "a36d", class: "0c03", bars: [] } as never);
    const g = buildLinkGraph(spec, loadCalibration());
    const r = simulate(g, [
      { path: pathBetween(g, "0000:00:14.0", "host:0", "write"), bytes: 1 << 20 },
      { path: pathBetween(g, "0000:00:14.0", "0000:00:00.0", "write", "pcie"), bytes: 1 << 20 },
      { path: pathBetween(g, "0000:01:00.0", "host:0", "write"), bytes: 2 ** 52 },
    ]);
    expect(r.events).toBe(6);
    for (const e of r.endNs) expect(Number.isFinite(e) && e > 0).toBe(true);
    const run = runObject({
      topology: spec, steps: [
        { op: "transfer", from: "0000:00:14.0", to: "ram", bytes: "1MiB", design: "dma" },
        { op: "transfer", from: "ram", to: "0000:01:00.0", bytes: 2 ** 52, design: "migrate", mode: "fault" },
      ],
    });
    expect(resultOf(run, 0, "transfer").ns).toBeGreaterThan(0);
    expect(resultOf(run, 1, "transfer").gbps).toBeLessThan(13);
  });

  it("is deterministic and rejects bad transfers", () => {
    const g = graph("hgx-a100");
    const list: Transfer[] = [0, 1, 2, 3].map((i) => ({ path: pathBetween(g, `gpu${i}`, `gpu${(i + 1) % 4}`, "write"), bytes: 1 << 24, startNs: i * 10 }));
    expect(JSON.stringify(simulate(g, list))).toBe(JSON.stringify(simulate(g, list)));
    expect(() => simulate(g, [{ ...list[0], bytes: 0 }])).toThrow(/bytes/);
    expect(() => simulate(g, [{ ...list[0], after: 0 }])).toThrow(/earlier transfer/);
    expect(() => simulate(g, [{ ...list[0], startNs: -1 }])).toThrow(/startNs/);
  });
});
