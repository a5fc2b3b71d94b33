// Tests for the cost layer wired into scenario runs (src/scenario/costs.ts, src/sim/migration.ts,
// src/sim/ledger.ts): a migrate step's time and per-link bytes equal the cost model's formula
// (costs.md §6.2: setup + per-page + copy + batched TLB flush + finalize), and a `transfer` step
// reports each design's time and bytes per real link on one machine (costs.md §6.1).
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadCalibration } from "../src/scenario/load.js";
import { resultOf } from "../src/scenario/results.js";
import { param } from "../src/sim/calibration.js";
import { runObject as runScenarioInput } from "./support/run.js";
import { bounceCopy, costTransfer } from "../src/sim/designs.js";
import { migrationCost } from "../src/sim/migration.js";
import { buildLinkGraph, pathBetween } from "../src/sim/paths.js";
import { peerMapNs } from "../src/sim/hmm-costs.js";
import { builtinTopology } from "../src/fabric/builtin.js";
import { loadTopologyFile } from "../src/fabric/load.js";
import { InputError } from "../src/units/input-error.js";

const TOPO = join(import.meta.dirname, "..", "data", "topologies");
const MiB = 1024 * 1024;

describe("scenario run costs", () => {
  it("a migrateToDevice step takes the migrate_vma formula's time and moves its bytes over the device's links", () => {
    const pages = 1024;
    const r = runScenarioInput({
      topology: "dmirror",
      steps: [
        { op: "mmap", buffer: "a", pages },
        { op: "cpuWrite", buffer: "a", value: 7 },
        { op: "migrateToDevice", device: "dmirror0", buffer: "a" },
      ],
    });
    const cal = loadCalibration("default");
    const g = buildLinkGraph(builtinTopology("dmirror"), cal);
    // The DMA engine of dmirror0 pulls the pages from RAM: root port link down, then its own link.
    const path = pathBetween(g, "host:0", "dmirror0", "read");
    const t = costTransfer(g, path, pages * 4096);
    const batches = Math.ceil(pages / param(cal, "migrateBatchMax"));
    // Batched TLB flush (Linux 6.3 migrate_pages batch flushing, costs.md §3.4): each batch flushes
    // min(batch, tlb_single_page_flush_ceiling) pages and sends one shootdown IPI.
    const flush = batches * (Math.min(param(cal, "migrateBatchMax"), param(cal, "tlbFlushCeilingPages")) * param(cal, "invlpgNs") + param(cal, "ipiShootdownNs"));
    const copy = (pages * 4096) / t.rateGBps + batches * t.latencyNs;
    const migrate = param(cal, "migrateSetupNs") + pages * param(cal, "migratePageNs") + copy + flush + param(cal, "migrateFinalizeNs");
    const inv = r.counters.invalidations; // the first touches delivered none; migrate_vma_setup's are counted
    const notifier = inv * (param(cal, "notifierCallbackNs") + param(cal, "deviceTlbInvalidateNs"));
    expect(r.steps[2].ok).toBe(true);
    // The builtin dmirror host has no IOMMU: dma_map is dma-direct and costs nothing.
    expect(r.counters.stepTimesNs[2]).toBeCloseTo(migrate + notifier, 6);
    expect(r.counters.stepTimesNs[1]).toBe(pages * param(cal, "cpuFaultNs")); // first-touch CPU faults
    expect(r.counters.bytesMoved).toEqual({ "pcie:rp0-sw0-up": pages * 4096, "pcie:sw0-dn0-dmirror0": pages * 4096 });
    expect(r.counters.links["pcie:sw0-dn0-dmirror0"].down.bytes).toBe(pages * 4096);
    expect(r.counters.opLatency["migrate_vma_finalize"]).toMatchObject({ count: 1, meanNs: param(cal, "migrateFinalizeNs") });
    expect(r.simTimeNs).toBeCloseTo(r.counters.stepTimesNs.reduce((a, b) => a + b, 0), 6);
  });

  it("a RAM-to-device migrate transfer scales with granularity as the formula says, and charges dma_map under an IOMMU", () => {
    const topo = join(TOPO, "pcie-gen4-host.json");
    const run = (granularity: string) => runScenarioInput({
      topology: topo, calibration: "pcie-gen4-host",
      steps: [{ op: "transfer", from: "ram", to: "dev2", bytes: "64MiB", design: "migrate", granularity }],
    });
    const cal = loadCalibration("pcie-gen4-host");
    const fabric = loadTopologyFile(topo);
    const g = buildLinkGraph(fabric, cal);
    const expected: Record<string, number> = {};
    for (const [gran, pageBytes] of [["4KiB", 4096], ["64KiB", 65536], ["2MiB", 2 * MiB]] as const) {
      const out = resultOf(run(gran), 0, "transfer");
      const m = migrationCost(g, { device: "dev2", direction: "toDevice", bytes: 64 * MiB, pageBytes });
      const pages = (64 * MiB) / pageBytes;
      expect(m.pages).toBe(pages);
      expect(m.parts.setup + m.parts.pages).toBe(param(cal, "migrateSetupNs") + pages * param(cal, "migratePageNs"));
      expect(out.ns).toBeCloseTo(m.ns, 6);
      expect(out.linkBytes).toEqual({ "pcie:rp2-dev2": 64 * MiB });
      expected[gran] = out.ns;
    }
    // Fewer, larger pages: less per-page work, so 4 KiB > 64 KiB > 2 MiB.
    expect(expected["4KiB"]).toBeGreaterThan(expected["64KiB"]);
    expect(expected["64KiB"]).toBeGreaterThan(expected["2MiB"]);
    const iommu = fabric.hostBridges[0].iommu;
    const m4k = migrationCost(g, { device: "dev2", direction: "toDevice", bytes: 64 * MiB });
    expect(m4k.parts.dmaMap > 0).toBe(iommu === "dma");
  });

  it("fault-driven migration pays a service pass per batch of <= faultBatchMax faults over prefetch (UVM, costs.md §3.2)", () => {
    const g = buildLinkGraph(builtinTopology("dmirror"), loadCalibration("default"));
    const cal = g.calibration;
    const pre = migrationCost(g, { device: "dmirror0", direction: "toDevice", bytes: 4 * MiB, mode: "prefetch" });
    const flt = migrationCost(g, { device: "dmirror0", direction: "toDevice", bytes: 4 * MiB, mode: "fault" });
    const batches = Math.ceil(1024 / param(cal, "faultBatchMax"));
    expect(flt.faultBatches).toBe(batches);
    expect(flt.parts.fault).toBe(batches * param(cal, "deviceFaultBatchNs") + 1024 * param(cal, "deviceFaultPageNs"));
    expect(flt.parts.setup).toBe(batches * param(cal, "migrateSetupNs"));
    expect(flt.ns - pre.ns).toBeCloseTo(flt.parts.fault + (batches - 1) * (param(cal, "migrateSetupNs") + param(cal, "migrateFinalizeNs")) + flt.parts.flush - pre.parts.flush + flt.parts.copy - pre.parts.copy, 6);
  });

  it("reports P2P and bounce time and bytes per link on one machine: bounce crosses the root port twice", () => {
    const topo = join(TOPO, "pcie-gen4-host.json");
    const bytes = 64 * MiB;
    const r = runScenarioInput({
      topology: topo, calibration: "pcie-gen4-host",
      steps: [
        { op: "transfer", from: "dev0", to: "dev1", bytes: "64MiB", design: "p2p" },
        { op: "transfer", from: "dev0", to: "dev1", bytes, design: "bounce" },
      ],
    });
    const [p2p, bounce] = r.steps.map((_, i) => resultOf(r, i, "transfer"));
    const g = buildLinkGraph(loadTopologyFile(topo), loadCalibration("pcie-gen4-host"));
    // Same switch: BUS_ADDR (pci_p2pdma_map_type), the switch turns the reads around (nvidia-smi PIX).
    expect(p2p.mapType).toBe("BUS_ADDR");
    expect(p2p.class).toBe("PIX");
    expect(p2p.linkBytes).toEqual({ "pcie:dsp0-dev0": bytes, "pcie:dsp1-dev1": bytes });
    const alone = costTransfer(g, pathBetween(g, "dev0", "dev1", "read"), bytes).ns;
    expect(Math.abs(p2p.ns - (peerMapNs(g.calibration, 1) + alone))).toBeLessThanOrEqual(2); // event times are whole ns
    expect(bounce.linkBytes).toEqual({ "pcie:rp1-usp": 2 * bytes, "pcie:dsp0-dev0": bytes, "pcie:dsp1-dev1": bytes });
    expect(bounce.ns).toBe(bounceCopy(g, "dev0", "dev1", bytes).ns);
    expect(p2p.ns).toBeLessThan(bounce.ns);
    expect(r.counters.bytesMoved["pcie:rp1-usp"]).toBe(2 * bytes);
    expect(r.simTimeNs).toBe(p2p.ns + bounce.ns);
  });

  it("P2P can lose to bounce through AMD root complexes (T6, NVIDIA/nccl #814)", () => {
    const r = runScenarioInput({
      topology: join(TOPO, "rtx4090-amd-6gpu.json"), calibration: "rtx4090-amd",
      steps: ["p2p", "bounce"].map((design) => ({ op: "transfer", from: "gpu0", to: "gpu1", bytes: "256MiB", design })),
    });
    const [p2p, bounce] = r.steps.map((_, i) => resultOf(r, i, "transfer"));
    expect(p2p.mapType).toBe("THRU_HOST_BRIDGE");
    expect(p2p.gbps).toBeLessThan(bounce.gbps);
  });

  it("fails a transfer step naming field and value, and rejects a bad design or calibration as input", () => {
    const r = runScenarioInput({
      topology: "dmirror",
      steps: [
        { op: "transfer", from: "dmirror0", to: "gpu9", bytes: 4096, design: "p2p" },
        { op: "transfer", from: "dmirror0", to: "dmirror1", bytes: "lots", design: "p2p" },
        { op: "transfer", from: "ram", to: "dmirror1", bytes: 4096, design: "bounce" },
      ],
    });
    expect(r.steps[0].error).toMatch(/^steps\[0\]\.to: "gpu9" is not "ram" or an endpoint/);
    expect(r.steps[1].error).toMatch(/^steps\[1\]\.bytes: "lots" is not a positive size/);
    expect(r.steps[2].error).toMatch(/^steps\[2\]\.design: "bounce" needs two devices/);
    expect(r.simTimeNs).toBe(0);
    expect(() => runScenarioInput({ topology: "dmirror", steps: [{ op: "transfer", from: "a", to: "b", bytes: 1, design: "teleport" }] }))
      .toThrow(/steps\[0\]\.design.*teleport/);
    expect(() => runScenarioInput({ topology: "dmirror", calibration: "nosuch", steps: [] })).toThrow(InputError);
  });

  it("charges every migrated page once, also when consecutive steps copy between the same pair", () => {
    const r = runScenarioInput({
      topology: "dmirror",
      steps: [
        { op: "mmap", buffer: "a", pages: 512 },
        { op: "cpuWrite", buffer: "a", value: 1 },
        { op: "migrateToDevice", device: "dmirror0", buffer: "a" },
        { op: "cpuRead", buffer: "a", count: 4 }, // four CPU faults, each migrate_to_ram of one page
        { op: "migrateToSystem", device: "dmirror0", buffer: "a" }, // the other 508 pages
      ],
    });
    expect(r.counters.migrations).toBe(1024);
    expect(r.counters.links["pcie:sw0-dn0-dmirror0"]).toMatchObject({ down: { bytes: 512 * 4096 }, up: { bytes: 512 * 4096 } });
    const g = buildLinkGraph(builtinTopology("dmirror"), loadCalibration("default"));
    const back = migrationCost(g, { device: "dmirror0", direction: "toRam", bytes: 508 * 4096 });
    expect(r.counters.stepTimesNs[4]).toBeGreaterThanOrEqual(back.ns);
    // Fault-driven: one migrate_vma call per CPU fault (mm/memory.c do_swap_page -> migrate_to_ram).
    const one = migrationCost(g, { device: "dmirror0", direction: "toRam", bytes: 4 * 4096, mode: "fault", chargeFaults: false });
    expect(one.calls).toBe(4);
    expect(r.counters.stepTimesNs[3]).toBeGreaterThanOrEqual(one.ns + 4 * param(g.calibration, "cpuFaultNs"));
  });

  it("is deterministic", () => {
    const s = {
      topology: "dmirror",
      steps: [
        { op: "mmap", buffer: "a", pages: 300 },
        { op: "cpuWrite", buffer: "a", value: "index" },
        { op: "migrateToDevice", device: "dmirror1", buffer: "a" },
        { op: "cpuRead", buffer: "a", count: 3 },
        { op: "transfer", from: "dmirror0", to: "dmirror1", bytes: "8MiB", design: "bounce" },
      ],
    };
    const a = runScenarioInput(s), b = runScenarioInput(s);
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(a.simTimeNs).toBeGreaterThan(0);
  });
});
