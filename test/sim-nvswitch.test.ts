// NVLink through several NVSwitches (src/sim/paths.ts nvlinkStripes): a GPU spreads its traffic over
// all its NVLink ports, so a transfer is striped over every bundle of the sender that reaches the
// receiver. On the DGX-2H (data/topologies/nvidia-dgx-2h.source.md: each V100 has one NVLink2 to each
// of the 6 NVSwitches of its baseboard; the baseboards' switches joined pairwise by 8-link trunks)
// a pair gets its 6 links (costs.md §4.1: V100, 6 links per GPU; §4.2: DGX-2 NCCL busbw ~120 GB/s
// flat from 2 to 16 GPUs, nccl #258) on one baseboard and across them, over the trunks.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadTopologyFile } from "../src/fabric/load.js";
import { loadCalibration } from "../src/scenario/load.js";
import { buildLinkGraph, param, pathBetween, simulate, soloGBps, type LinkGraph } from "../src/sim/index.js";
import { runObject, topologySpec } from "./support/run.js";

const TOPOLOGIES = join(import.meta.dirname, "..", "data", "topologies");
const DGX2H = join(TOPOLOGIES, "nvidia-dgx-2h.hwloc.xml");
const gpu = (bus: string) => `0000:${bus}:00.0`;
const BOARD0 = ["34", "36", "39", "3b", "57", "59", "5c", "5e"].map(gpu);
const BOARD1 = ["b7", "b9", "bc", "be", "e0", "e2", "e5", "e7"].map(gpu);

describe("NVLink striped over the NVSwitches of a DGX-2H", () => {
  const g: LinkGraph = buildLinkGraph(loadTopologyFile(DGX2H), loadCalibration());
  const cal = g.calibration;
  const perLink = param(cal, "nvlink2GBps");
  const hopNs = param(cal, "nvlinkHopNs");
  const issue = param(cal, "deviceDmaIssueNs");
  const ends = (li: number) => [g.links[li].a, g.links[li].b];

  it("same baseboard: six stripes, GPU -> switch -> GPU, one per NVSwitch, at 6 x the per-link rate", () => {
    const p = pathBetween(g, BOARD0[0], BOARD0[1], "write");
    expect([p.interconnect, p.topoClass]).toEqual(["nvlink", "NV6"]);
    const stripes = [...new Set(p.hops.map((h) => h.stripe))];
    expect(stripes).toEqual([0, 1, 2, 3, 4, 5]);
    const switches = new Set<string>();
    for (const k of stripes) {
      const hops = p.hops.filter((h) => h.stripe === k);
      expect(hops.map((h) => h.share)).toEqual([1 / 6, 1 / 6]);
      expect(ends(hops[0].link)).toContain(BOARD0[0]);
      expect(ends(hops[1].link)).toContain(BOARD0[1]);
      switches.add(ends(hops[0].link).find((x) => x !== BOARD0[0])!);
    }
    expect(switches.size).toBe(6);
    expect(soloGBps(g, p)).toBeCloseTo(6 * perLink, 9);
    expect(p.oneWayNs).toBe(issue + 2 * hopNs); // the stripes run side by side
  });

  it("across baseboards: NVLink over the switch trunks (GPU -> switch -> peer switch -> GPU), not PCIe", () => {
    const p = pathBetween(g, BOARD0[0], BOARD1[3], "write");
    expect([p.interconnect, p.topoClass]).toEqual(["nvlink", "NV6"]);
    expect(p.hops).toHaveLength(18);
    const trunks = p.hops.filter((h) => ends(h.link).every((x) => x.startsWith("nvswitch-")));
    expect(trunks).toHaveLength(6);
    for (const h of trunks) expect(g.links[h.link].count).toBe(8);
    expect(soloGBps(g, p)).toBeCloseTo(6 * perLink, 9);
    expect(p.oneWayNs).toBe(issue + 3 * hopNs);
    expect(pathBetween(g, BOARD1[3], BOARD0[0], "read").interconnect).toBe("nvlink");
  });

  it("carries a sixth of the payload on each of the sender's and receiver's bundles (linkBytes of a run)", () => {
    const bytes = 6 * 2 ** 20;
    const out = runObject({ topology: DGX2H, steps: [{ op: "transfer", from: BOARD0[2], to: BOARD1[5], bytes, design: "p2p" }] });
    const r = out.steps[0].result as { linkBytes: Record<string, number>; interconnect: string; gbps: number };
    expect(r.interconnect).toBe("nvlink");
    const values = Object.entries(r.linkBytes);
    expect(values).toHaveLength(18);
    for (const [, b] of values) expect(b).toBeCloseTo(bytes / 6, 3);
    expect(values.filter(([id]) => id.includes(BOARD0[2]))).toHaveLength(6);
    expect(values.filter(([id]) => id.includes(BOARD1[5]))).toHaveLength(6);
  });

  it("two transfers from one GPU share its six links; eight cross-board pairs at once fill the trunks exactly", () => {
    const bytes = 2 ** 30;
    const two = simulate(g, [
      { path: pathBetween(g, BOARD0[0], BOARD0[1], "write"), bytes },
      { path: pathBetween(g, BOARD0[0], BOARD1[0], "write"), bytes },
    ]);
    for (let i = 0; i < 2; i++) expect(bytes / (two.dataEndNs[i] - two.startNs[i])).toBeCloseTo(3 * perLink, 6);
    // Each trunk (8 links) carries a sixth of each of 8 transfers at 6 links' rate: 8 x 6/6 = 8 links.
    const eight = simulate(g, BOARD0.map((a, i) => ({ path: pathBetween(g, a, BOARD1[i], "write"), bytes })));
    for (let i = 0; i < 8; i++) expect(bytes / (eight.dataEndNs[i] - eight.startNs[i])).toBeCloseTo(6 * perLink, 6);
    const trunk = g.links.findIndex((l) => l.kind === "nvlink" && l.a.startsWith("nvswitch-") && l.b.startsWith("nvswitch-"));
    expect(eight.payloadBytes[2 * trunk] + eight.payloadBytes[2 * trunk + 1]).toBeCloseTo((8 * bytes) / 6, 0);
  });
});

describe("NVLink stripes of unequal bundles", () => {
  // Two GPUs, each with 2 links into sw0 and 1 into sw1: the payload splits 2:1 by the narrowest
  // bundle of each stripe, so the pair gets its 3 links.
  const t = topologySpec(join(TOPOLOGIES, "nvlink-4gpu.json"));
  const spec = {
    ...t,
    nodes: [...t.nodes, { kind: "nvswitch" as const, id: "sw0" }, { kind: "nvswitch" as const, id: "sw1" }],
    links: [
      { kind: "nvlink" as const, a: "gpu0", b: "sw0", count: 2, gen: 2 },
      { kind: "nvlink" as const, a: "gpu0", b: "sw1", count: 1, gen: 2 },
      { kind: "nvlink" as const, a: "sw0", b: "gpu1", count: 2, gen: 2 },
      { kind: "nvlink" as const, a: "gpu1", b: "sw1", count: 1, gen: 2 },
    ],
  };
  const g = buildLinkGraph(spec, loadCalibration());

  it("splits 2:1 and reaches 3 links' rate", () => {
    const p = pathBetween(g, "gpu1", "gpu0", "write");
    expect(p.topoClass).toBe("NV3");
    expect(p.hops.map((h) => [h.stripe, g.links[h.link].id, h.dir, h.share])).toEqual([
      [0, "nvlink:sw0-gpu1", 1, 2 / 3], [0, "nvlink:gpu0-sw0", 1, 2 / 3],
      [1, "nvlink:gpu1-sw1", 0, 1 / 3], [1, "nvlink:gpu0-sw1", 1, 1 / 3],
    ]);
    expect(soloGBps(g, p)).toBeCloseTo(3 * param(g.calibration, "nvlink2GBps"), 9);
  });
});
