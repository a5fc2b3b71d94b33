// Tests for the cost layer wired into scenario runs (src/scenario/costs.ts, src/sim/designs.ts,
// migration.ts, ledger.ts): a migrate step's time and per-link bytes follow the migration's parts
// (costs.md §6.2), and the `transfer` and `parallel` steps of DESIGN §4: designs "dma" (with
// "ram" / "ram:N" ends), "p2p" (`via`, `rule`, `interconnect`, `mapType`), "bounce" and "migrate"
// (`mode`), each reporting what a program sees (fixed costs included), and transfers started
// together sharing the machine.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadCalibration } from "../src/scenario/load.js";
import { resultOf } from "../src/scenario/results.js";
import { param } from "../src/sim/calibration.js";
import { bounceCopy, compareDesigns, costTransfer, smallCopyLatencyNs } from "../src/sim/designs.js";
import { launchNs } from "../src/sim/devices.js";
import { buildLinkGraph } from "../src/sim/link-graph.js";
import { migrationCost } from "../src/sim/migration.js";
import { pathBetween } from "../src/sim/paths.js";
import { peerMapNs } from "../src/sim/hmm-costs.js";
import { builtinTopology } from "../src/fabric/builtin.js";
import { loadTopologyFile } from "../src/fabric/load.js";
import type { PciFunction } from "../src/fabric/types.js";
import { InputError } from "../src/units/input-error.js";
import { runObject } from "./support/run.js";

const TOPO = join(import.meta.dirname, "..", "data", "topologies");
const VALIDATION = join(import.meta.dirname, "..", "data", "validation", "machines");
const MiB = 1024 * 1024;
const graphOf = (file: string) => buildLinkGraph(loadTopologyFile(file), loadCalibration());

describe("scenario run costs", () => {
  it("a migrateToDevice step takes its migration's parts and moves its bytes over the device's links", () => {
    const pages = 1024;
    const r = runObject({
      topology: "dmirror",
      steps: [
        { op: "mmap", buffer: "a", pages },
        { op: "cpuWrite", buffer: "a", value: 7 },
        { op: "migrateToDevice", device: "dmirror0", buffer: "a" },
      ],
    });
    const g = buildLinkGraph(builtinTopology("dmirror"), loadCalibration());
    const cal = g.calibration;
    const m = migrationCost(g, { device: "dmirror0", direction: "toDevice", bytes: pages * 4096 });
    // Batched TLB flush (Linux 6.3 migrate_pages batch flushing, costs.md §3.4): each batch of <= 512
    // pages flushes min(batch, tlb_single_page_flush_ceiling) pages and sends one shootdown IPI.
    const batches = Math.ceil(pages / param(cal, "migrateBatchMax"));
    expect(m.parts.flush).toBe(batches * (param(cal, "tlbFlushCeilingPages") * param(cal, "invlpgNs") + param(cal, "ipiShootdownNs") + (param(cal, "mmCpus") - 1) * param(cal, "ipiPerCpuNs")));
    expect(m.parts.copy).toBeCloseTo((pages * 4096) / m.rateGBps + batches * m.path.latencyNs, 6);
    const notifier = r.counters.invalidations * (param(cal, "notifierCallbackNs") + param(cal, "deviceTlbInvalidateNs"));
    expect(r.steps[2].ok).toBe(true);
    expect(r.counters.stepTimesNs[2]).toBeCloseTo(m.ns + notifier, 0);
    expect(r.counters.stepTimesNs[1]).toBe(pages * param(cal, "cpuFaultNs")); // first-touch CPU faults
    expect(r.counters.bytesMoved).toEqual({ "pcie:rp0-sw0-up": pages * 4096, "pcie:sw0-dn0-dmirror0": pages * 4096 });
    expect(r.counters.links["pcie:sw0-dn0-dmirror0"].down.bytes).toBe(pages * 4096);
    expect(r.counters.opLatency["migrate_vma_finalize"]).toMatchObject({ count: 1, meanNs: param(cal, "migrateFinalizeNs") });
    expect(r.simTimeNs).toBeCloseTo(r.counters.stepTimesNs.reduce((a, b) => a + b, 0), 6);
  });

  it("a RAM-to-device migrate transfer scales with granularity, and charges dma_map under an IOMMU", () => {
    const topo = join(TOPO, "pcie-gen4-host.json");
    const g = graphOf(topo);
    const times: Record<string, number> = {};
    for (const [granularity, pageBytes] of [["4KiB", 4096], ["64KiB", 65536], ["2MiB", 2 * MiB]] as const) {
      const out = resultOf(runObject({ topology: topo, steps: [{ op: "transfer", from: "ram", to: "dev2", bytes: "64MiB", design: "migrate", granularity }] }), 0, "transfer");
      const m = migrationCost(g, { device: "dev2", direction: "toDevice", bytes: 64 * MiB, pageBytes });
      expect(out.ns).toBeCloseTo(m.ns, -1);
      expect(out.fixedNs).toBeCloseTo(m.fixedNs, 6);
      expect(out.linkBytes).toEqual({ "pcie:rp2-dev2": 64 * MiB });
      times[granularity] = out.ns;
    }
    expect(times["4KiB"]).toBeGreaterThan(times["64KiB"]);
    expect(times["64KiB"]).toBeGreaterThan(times["2MiB"]);
    const iommu = loadTopologyFile(join(TOPO, "haswell-nfp6000.json"));
    const withIommu = migrationCost(buildLinkGraph(iommu, loadCalibration()), { device: "nfp", direction: "toDevice", bytes: 4 * MiB });
    expect(withIommu.parts.dmaMap).toBeGreaterThan(0);
    expect(migrationCost(g, { device: "dev2", direction: "toDevice", bytes: 4 * MiB }).parts.dmaMap).toBe(0);
  });

  it("fault-driven migration pays a service pass per batch of <= faultBatchMax faults (UVM, costs.md §3.2); back to RAM one CPU fault and one call per page", () => {
    const g = buildLinkGraph(builtinTopology("dmirror"), loadCalibration());
    const cal = g.calibration;
    const pre = migrationCost(g, { device: "dmirror0", direction: "toDevice", bytes: 4 * MiB, mode: "prefetch" });
    const flt = migrationCost(g, { device: "dmirror0", direction: "toDevice", bytes: 4 * MiB, mode: "fault" });
    const batches = Math.ceil(1024 / param(cal, "faultBatchMax"));
    expect(flt.faultBatches).toBe(batches);
    expect(flt.parts.fault).toBe(batches * param(cal, "deviceFaultBatchNs") + 1024 * param(cal, "deviceFaultPageNs"));
    expect(flt.parts.setup).toBe(batches * param(cal, "migrateSetupNs"));
    expect(pre.calls).toBe(1);
    expect(flt.ns).toBeGreaterThan(pre.ns);
    const back = migrationCost(g, { device: "dmirror0", direction: "toRam", bytes: 16 * 4096, mode: "fault" });
    expect(back.calls).toBe(16);
    expect(back.parts.fault).toBe(16 * param(cal, "cpuFaultNs"));
    // Closed forms: 2^40 pages cost no more work than 2^10.
    const huge = migrationCost(g, { device: "dmirror0", direction: "toDevice", bytes: 2 ** 52, mode: "fault" });
    expect(huge.calls).toBe(Math.ceil(2 ** 40 / param(cal, "faultBatchMax")));
  });
});

describe("the transfer step's designs (DESIGN §4)", () => {
  it("dma: a device's DMA engine to and from pinned RAM of its own node or of node N, paying its copy launch", () => {
    const topo = join(TOPO, "hgx-h100.json");
    const r = runObject({
      topology: topo,
      steps: [
        { op: "transfer", from: "gpu0", to: "ram", bytes: "1GiB", design: "dma" },
        { op: "transfer", from: "ram", to: "gpu0", bytes: "1GiB", design: "dma" },
        { op: "transfer", from: "gpu0", to: "ram:1", bytes: "1GiB", design: "dma" },
        { op: "transfer", from: "gpu0", to: "ram", bytes: 4, design: "dma" },
      ],
    });
    const [d2h, h2d, remote, tiny] = r.steps.map((_, i) => resultOf(r, i, "transfer"));
    const g = graphOf(topo);
    const launch = launchNs(g.calibration, g.nodes.get("gpu0") as PciFunction);
    expect(d2h.class).toBe("HOST");
    expect(d2h.interconnect).toBe("pcie");
    expect(d2h.ns).toBeCloseTo(launch + costTransfer(g, pathBetween(g, "gpu0", "host:0", "write"), 1 << 30).ns, 0);
    expect(d2h.gbps).toBeGreaterThan(50); // Gen5 x16, MPS 256: 51.98 GB/s of posted writes
    expect(h2d.gbps).toBeGreaterThan(50);
    expect(d2h.linkBytes).toEqual({ "pcie:sw0-dp0-gpu0": 1 << 30, "pcie:rp0-sw0-up": 1 << 30 });
    // The other socket's memory: the socket link (Sapphire Rapids' 22 GB/s) is the bottleneck.
    expect(remote.class).toBe("HOST-SYS");
    expect(remote.gbps).toBeCloseTo(22, 0);
    expect(remote.linkBytes["socket:0-1"]).toBe(1 << 30);
    // What the program sees for 4 bytes: the copy launch and the path latency, not a wire time.
    expect(tiny.ns).toBeGreaterThan(launch + pathBetween(g, "gpu0", "host:0", "write").latencyNs);
    expect(tiny.fixedNs).toBe(launch);
  });

  it("p2p: NVLink where the pair has it (as CUDA chooses), PCIe on request; the result names its interconnect and map type", () => {
    const r = runObject({
      topology: join(TOPO, "hgx-h100.json"),
      steps: [
        { op: "transfer", from: "gpu0", to: "gpu1", bytes: "1GiB", design: "p2p" },
        { op: "transfer", from: "gpu0", to: "gpu1", bytes: "1GiB", design: "p2p", via: "pcie" },
        { op: "transfer", from: "gpu0", to: "gpu2", bytes: "1GiB", design: "p2p", via: "pcie" },
      ],
    });
    const [nv, pix, phb] = r.steps.map((_, i) => resultOf(r, i, "transfer"));
    expect(nv).toMatchObject({ interconnect: "nvlink", class: "NV18", mapType: "BUS_ADDR" });
    expect(nv.gbps).toBeGreaterThan(360);
    expect(pix).toMatchObject({ interconnect: "pcie", class: "PIX", mapType: "BUS_ADDR" });
    expect(phb).toMatchObject({ interconnect: "pcie", class: "PHB", mapType: "THRU_HOST_BRIDGE" });
    // Through an Intel root complex the peer TLPs are 64 B: slower than below the switch.
    expect(phb.gbps).toBeLessThan(0.85 * pix.gbps);
  });

  it("p2p rule: \"p2pdma\" fails where the kernel would (NOT_SUPPORTED), \"fabric\" costs what the hardware routes", () => {
    const topo = join(VALIDATION, "haswell-mi25.json"); // no whitelisted host bridge, Intel before Skylake
    const r = runObject({
      topology: topo,
      steps: [
        { op: "transfer", from: "gpu0", to: "gpu1", bytes: "64MiB", design: "p2p" },
        { op: "transfer", from: "gpu0", to: "gpu1", bytes: "64MiB", design: "p2p", rule: "fabric" },
        { op: "transfer", from: "gpu0", to: "gpu1", bytes: "64MiB", design: "p2p", via: "nvlink" },
      ],
    });
    expect(r.steps[0].error).toMatch(/^steps\[0\]\.design: "p2p" is not supported between gpu0 and gpu1 \(P2PDMA map type NOT_SUPPORTED/);
    expect(resultOf(r, 1, "transfer")).toMatchObject({ mapType: "NOT_SUPPORTED", class: "PHB", interconnect: "pcie" });
    expect(r.steps[2].error).toMatch(/^steps\[2\]\.via: no NVLink path between gpu0 and gpu1/);
  });

  it("p2p through a switch beats a bounce, which crosses the switch uplink twice (nccl #1086)", () => {
    const topo = join(TOPO, "pcie-gen4-host.json");
    const bytes = 64 * MiB;
    const r = runObject({
      topology: topo,
      steps: [
        { op: "transfer", from: "dev0", to: "dev1", bytes: "64MiB", design: "p2p" },
        { op: "transfer", from: "dev0", to: "dev1", bytes, design: "bounce" },
      ],
    });
    const [p2p, bounce] = r.steps.map((_, i) => resultOf(r, i, "transfer"));
    const g = graphOf(topo);
    expect(p2p).toMatchObject({ mapType: "BUS_ADDR", class: "PIX" });
    expect(p2p.linkBytes).toEqual({ "pcie:dsp0-dev0": bytes, "pcie:dsp1-dev1": bytes });
    const fixed = launchNs(g.calibration, g.nodes.get("dev1") as PciFunction) + peerMapNs(g.calibration, 1);
    expect(p2p.fixedNs).toBe(fixed);
    expect(p2p.ns).toBeCloseTo(fixed + costTransfer(g, pathBetween(g, "dev0", "dev1", "read"), bytes).ns, 0);
    expect(bounce.linkBytes).toEqual({ "pcie:rp1-usp": 2 * bytes, "pcie:dsp0-dev0": bytes, "pcie:dsp1-dev1": bytes });
    // Every 2 MiB chunk of the staged copy is handed over once (hostStagingSyncNs).
    expect(bounce.fixedNs).toBe(launchNs(g.calibration, g.nodes.get("dev0") as PciFunction) + 32 * param(g.calibration, "hostStagingSyncNs"));
    expect(p2p.ns).toBeLessThan(bounce.ns);
    expect(r.counters.bytesMoved["pcie:rp1-usp"]).toBe(2 * bytes);
    expect(r.simTimeNs).toBeCloseTo(p2p.ns + bounce.ns, 3);
  });

  it("migrate: device to device as stock HMM does it (to RAM, then read), and `mode` fault costs more than prefetch", () => {
    const topo = join(TOPO, "pcie-gen4-host.json");
    const r = runObject({
      topology: topo,
      steps: [
        { op: "transfer", from: "dev0", to: "dev2", bytes: "16MiB", design: "migrate" },
        { op: "transfer", from: "ram", to: "dev2", bytes: "16MiB", design: "migrate", mode: "prefetch" },
        { op: "transfer", from: "ram", to: "dev2", bytes: "16MiB", design: "migrate", mode: "fault" },
        { op: "transfer", from: "dev2", to: "ram", bytes: "16MiB", design: "migrate", mode: "fault" },
      ],
    });
    const [d2d, pre, flt, back] = r.steps.map((_, i) => resultOf(r, i, "transfer"));
    expect(d2d.linkBytes).toEqual({ "pcie:dsp0-dev0": 16 * MiB, "pcie:rp1-usp": 16 * MiB, "pcie:rp2-dev2": 16 * MiB });
    expect(flt.ns).toBeGreaterThan(pre.ns);
    expect(back.ns).toBeGreaterThan(flt.ns); // one CPU fault and one migrate_vma call per page
  });

  it("fails a transfer step naming field and value, and rejects a bad design as input", () => {
    const r = runObject({
      topology: "dmirror",
      steps: [
        { op: "transfer", from: "dmirror0", to: "gpu9", bytes: 4096, design: "p2p" },
        { op: "transfer", from: "dmirror0", to: "dmirror1", bytes: "lots", design: "p2p" },
        { op: "transfer", from: "ram", to: "dmirror1", bytes: 4096, design: "bounce" },
        { op: "transfer", from: "dmirror0", to: "dmirror1", bytes: 4096, design: "dma" },
        { op: "transfer", from: "ram:3", to: "dmirror1", bytes: 4096, design: "dma" },
        { op: "transfer", from: "dmirror0", to: "dmirror1", bytes: 4096, design: "bounce", via: "pcie" },
        { op: "transfer", from: "ram", to: "ram:0", bytes: 4096, design: "dma" },
      ],
    });
    expect(r.steps[0].error).toMatch(/^steps\[0\]\.to: "gpu9" is not "ram" or an endpoint/);
    expect(r.steps[1].error).toMatch(/^steps\[1\]\.bytes: "lots" is not a positive size/);
    expect(r.steps[2].error).toMatch(/^steps\[2\]\.design: "bounce" needs two devices/);
    expect(r.steps[3].error).toMatch(/^steps\[3\]\.design: "dma" moves bytes between a device and RAM/);
    expect(r.steps[4].error).toMatch(/^steps\[4\]\.from: "ram:3": topology "dmirror" has no NUMA node 3/);
    expect(r.steps[5].error).toMatch(/^steps\[5\]\.via: "pcie" applies to design "p2p"/);
    expect(r.steps[6].error).toMatch(/two RAM ends/);
    expect(r.simTimeNs).toBe(0);
    expect(() => runObject({ topology: "dmirror", steps: [{ op: "transfer", from: "a", to: "b", bytes: 1, design: "teleport" }] })).toThrow(/steps\[0\]\.design.*teleport/);
    expect(() => runObject({ topology: "dmirror", steps: [{ op: "transfer", from: "a", to: "b", bytes: 1, design: "p2p", via: "pcie4" }] })).toThrow(InputError);
    expect(() => runObject({ topology: "dmirror", calibration: "nosuch", steps: [] })).toThrow(InputError);
  });
});

describe("designs from the library", () => {
  it("cost a design alone as the transfer step does, and compare P2P, bounce and migrate for one owner and reader", () => {
    const topo = join(TOPO, "pcie-gen4-host.json");
    const g = graphOf(topo);
    const step = resultOf(runObject({ topology: topo, steps: [{ op: "transfer", from: "dev0", to: "dev1", bytes: "64MiB", design: "bounce" }] }), 0, "transfer");
    expect(bounceCopy(g, "dev0", "dev1", 64 * MiB).ns).toBeCloseTo(step.ns, 6);
    const one = resultOf(runObject({ topology: topo, steps: [{ op: "transfer", from: "dev0", to: "dev1", bytes: 1, design: "p2p" }] }), 0, "transfer");
    expect(smallCopyLatencyNs(g, "dev0", "dev1", "p2p")).toBeCloseTo(one.ns, 6);
    const c = compareDesigns(g, "dev0", "dev1", 64 * MiB);
    expect(c.p2p!.topoClass).toBe("PIX");
    expect(c.p2p!.ns).toBeLessThan(c.bounce.ns);
    expect(c.bounce.ns).toBeLessThan(c.migrate.ns);
    // P2PDMA refuses the pair: no p2p entry, the other two still priced.
    const refused = compareDesigns(graphOf(join(VALIDATION, "haswell-mi25.json")), "gpu0", "gpu1", 64 * MiB);
    expect(refused.p2p).toBeUndefined();
    expect(refused.bounce.gbps).toBeGreaterThan(0);
  });
});

describe("the parallel step", () => {
  it("starts its transfers together: they share the machine; its result is the makespan, the aggregate rate and each transfer's result", () => {
    const topo = join(TOPO, "pcie-gen4-host.json");
    const one = { op: "transfer", from: "dev0", to: "ram", bytes: "256MiB", design: "dma" };
    const r = runObject({
      topology: topo,
      steps: [
        { op: "parallel", steps: [one] },
        one,
        // dev0 and dev1 below one switch push through its uplink together: each at half the rate.
        { op: "parallel", steps: [one, { ...one, from: "dev1" }] },
        // dev0 and dev2 on different root ports do not share a link.
        { op: "parallel", steps: [one, { ...one, from: "dev2" }] },
      ],
    });
    const alone = resultOf(r, 0, "parallel");
    expect(alone.transfers).toHaveLength(1);
    expect(alone.ns).toBeCloseTo(resultOf(r, 1, "transfer").ns, 6);
    expect(alone.transfers[0]).toEqual(resultOf(r, 1, "transfer"));
    const shared = resultOf(r, 2, "parallel"), apart = resultOf(r, 3, "parallel");
    expect(shared.ns).toBe(Math.max(...shared.transfers.map((t) => t.ns)));
    expect(shared.gbps).toBeCloseTo((512 * MiB) / shared.ns, 9);
    expect(shared.transfers[0].gbps).toBeCloseTo(alone.gbps / 2, 1);
    expect(apart.gbps).toBeCloseTo(2 * alone.gbps, 0);
    expect(r.counters.stepTimesNs[2]).toBeCloseTo(shared.ns, 6);
  });

  it("fails as a whole when one of its transfers would, naming the transfer's field", () => {
    const r = runObject({
      topology: "dmirror",
      steps: [{ op: "parallel", steps: [{ op: "transfer", from: "dmirror0", to: "ram", bytes: 4096, design: "dma" }, { op: "transfer", from: "dmirror0", to: "nope", bytes: 4096, design: "dma" }] }],
    });
    expect(r.steps[0].error).toMatch(/^steps\[0\]\.steps\[1\]\.to: "nope"/);
    expect(() => runObject({ topology: "dmirror", steps: [{ op: "parallel", steps: [] }] })).toThrow(InputError);
  });

  it("is deterministic", () => {
    const s = {
      topology: join(TOPO, "hgx-h100.json"),
      steps: [{ op: "parallel", steps: ["gpu1", "gpu2", "gpu4", "ram"].map((to) => ({ op: "transfer", from: "gpu0", to, bytes: "64MiB", design: to === "ram" ? "dma" : "p2p" })) }],
    };
    expect(JSON.stringify(runObject(s))).toBe(JSON.stringify(runObject(s)));
  });
});

describe("transfer ends", () => {
  it("are named by id, PCI address or its short form, as everywhere (DESIGN §4)", () => {
    const by = (from: string, to: string) => resultOf(runObject({ topology: "dmirror", steps: [{ op: "transfer", from, to, bytes: "1MiB", design: "p2p" }] }), 0, "transfer");
    const named = by("dmirror0", "dmirror1");
    // The result names the ends as the step wrote them; the transfer is the same.
    expect(by("03:00.0", "0000:04:00.0")).toEqual({ ...named, from: "03:00.0", to: "0000:04:00.0" });
  });
});
