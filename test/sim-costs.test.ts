// Checks the HMM / IOMMU operation costs (src/sim/hmm-costs.ts), the latency histograms and the
// Chrome trace export: fault batching <= 256 and never more than the fault buffer holds
// (uvm_gpu_replayable_faults.c fault_buffer_init_replayable_faults), the x86 flush ceiling of 33 pages
// (arch/x86/mm/tlb.c tlb_single_page_flush_ceiling), shootdown IPIs growing with the CPUs of the mm,
// batched shootdowns <= 512 pages (mm/migrate.c NR_MAX_BATCHED_MIGRATION), dma_map_sg per list
// (kernel/dma/map_benchmark.c), IOTLB reach; every count a closed form.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  apertureRemapNs, buildLinkGraph, chromeTrace, deviceFaultNs, dmaMapNs, faultBatchSize, invalidateNs, iotlbMissProbability,
  iotlbReachBytes, migrateNs, pathBetween, peerMapNs, snapshotNs, tlbFlushNs, withParams, writeChromeTrace, cpuFaultNs,
} from "../src/sim/index.js";
import { CostLedger } from "../src/sim/ledger.js";
import { bucketOf, LogHistogram, OpStats } from "../src/sim/histogram.js";
import { loadCalibration } from "../src/scenario/load.js";
import { topologySpec } from "./support/run.js";
import { InputError } from "../src/units/input-error.js";

const cal = loadCalibration();

describe("HMM path costs", () => {
  it("services device faults in batches of at most 256 (uvm_perf_fault_batch_count) and the fault buffer's size", () => {
    const batch = 35000, fault = 200;
    expect(deviceFaultNs(cal, 256).batches).toBe(1);
    expect(deviceFaultNs(cal, 257).batches).toBe(2);
    expect(deviceFaultNs(cal, 1000)).toEqual({ batches: 4, ns: 4 * batch + 1000 * fault });
    expect(deviceFaultNs(cal, 0).ns).toBe(0);
    expect(cpuFaultNs(cal, 3)).toBe(3000);
    expect(() => deviceFaultNs(cal, -1)).toThrow(InputError);
    // max_batch_size = min(uvm_perf_fault_batch_count, replayable max_faults)
    const small = withParams(cal, { faultBufferEntries: 100 });
    expect(faultBatchSize(small)).toBe(100);
    expect(deviceFaultNs(small, 1000).batches).toBe(10);
  });

  it("flushes up to 33 pages with INVLPG each and caps larger ranges at a full flush; the IPI grows with the other CPUs", () => {
    expect(tlbFlushNs(cal, 1, 0)).toEqual({ ipis: 0, ns: 100 });
    expect(tlbFlushNs(cal, 33, 0).ns).toBe(3300);
    expect(tlbFlushNs(cal, 512, 0).ns).toBe(3300);
    expect(tlbFlushNs(cal, 8, 1)).toEqual({ ipis: 1, ns: 800 + 2000 + 130 });
    expect(tlbFlushNs(cal, 8, 63).ns - tlbFlushNs(cal, 8, 3).ns).toBeCloseTo(60 * 130, 9);
    expect(invalidateNs(cal, 8, 2, 3)).toBe(2 * (2000 + 5000) + 800 + 2000 + 3 * 130);
    expect(snapshotNs(cal, 1000)).toBe(10000);
  });

  it("migrates with one shootdown per page unbatched and one per <= 512 pages batched, in closed form", () => {
    const opts = { copyGBps: 10, remote: 3 };
    expect(migrateNs(cal, 1024, { ...opts, batchedFlush: false }).ipis).toBe(1024);
    const b = migrateNs(cal, 1025, { ...opts, batchedFlush: true });
    expect(b.ipis).toBe(3);
    expect(b.flushes).toBe(3);
    expect(b.flushNs).toBe(2 * tlbFlushNs(cal, 512, 3).ns + tlbFlushNs(cal, 1, 3).ns);
    expect(b.copyNs).toBeCloseTo((1025 * 4096) / 10, 6);
    expect(migrateNs(cal, 0, { ...opts, batchedFlush: true }).ns).toBe(0);
    expect(() => migrateNs(cal, 1, { copyGBps: 0, batchedFlush: true, remote: 0 })).toThrow(/copyGBps/);
    // 2^40 pages (4 PiB of 4 KiB pages): no loop per batch, so this returns at once.
    const huge = migrateNs(cal, 2 ** 40, { ...opts, batchedFlush: true });
    expect(huge.ipis).toBe(2 ** 40 / 512);
    expect(Number.isFinite(huge.ns)).toBe(true);
  });

  it("maps per call, or per scatterlist of 8 entries, and unmaps likewise", () => {
    expect(dmaMapNs(cal, 16, false)).toEqual({ map: 16000, unmap: 16 * 1300 });
    expect(dmaMapNs(cal, 16, true)).toEqual({ map: 2 * 1400, unmap: 2 * 1300 });
    expect(dmaMapNs(cal, 17, true).map).toBe(3 * 1400);
    expect(peerMapNs(cal, 2)).toBe(6000);
    expect(apertureRemapNs(cal, 1)).toBe(10000);
  });

  it("has no IOTLB misses within reach (entries x page size) and superpages extend the reach", () => {
    expect(iotlbReachBytes(cal)).toBe(64 * 4096);
    expect(iotlbMissProbability(cal, 256 << 10)).toBe(0);
    expect(iotlbMissProbability(cal, 1 << 20)).toBeCloseTo(0.75, 9);
    expect(iotlbReachBytes(cal, 2 << 20)).toBe(128 << 20);
    expect(iotlbMissProbability(withParams(cal, { iommuPageBytes: 2 << 20 }), 64 << 20)).toBe(0);
  });
});

describe("counters and histograms", () => {
  it("buckets latencies logarithmically and reports bucket-bounded quantiles", () => {
    const h = new LogHistogram();
    for (let i = 0; i < 99; i++) h.record(100);
    h.record(100000);
    expect(h.count).toBe(100);
    expect(h.meanNs()).toBeCloseTo((99 * 100 + 100000) / 100, 9);
    expect(h.quantileNs(0.5)).toBeGreaterThanOrEqual(100);
    expect(h.quantileNs(0.5)).toBeLessThanOrEqual(128);
    expect(h.quantileNs(1)).toBe(100000);
    expect(bucketOf(1024)).toBe(40);
    expect(bucketOf(1535)).toBe(41);
    const s = new OpStats();
    s.record("migrate", 5000, 3);
    s.record("fault", 45000);
    expect(Object.keys(s.toJSON())).toEqual(["fault", "migrate"]);
    expect(s.toJSON().migrate.count).toBe(3);
  });
});

describe("Chrome trace export", () => {
  it("writes one named track per device and per link with complete events in microseconds", () => {
    const g = buildLinkGraph(topologySpec(join(import.meta.dirname, "..", "data", "topologies", "pcie-gen4-host.json")), loadCalibration("pcie-gen4-host"));
    const ledger = new CostLedger(g);
    const r = ledger.transfers([
      { path: pathBetween(g, "dev0", "host:0", "write"), bytes: 1 << 20, label: "d2h" },
      { path: pathBetween(g, "host:0", "dev2", "read"), bytes: 1 << 20, startNs: 1000, label: "h2d" },
    ], 0);
    const t = chromeTrace(ledger.spans);
    expect(t.displayTimeUnit).toBe("ns");
    const meta = t.traceEvents.filter((e) => e.ph === "M");
    expect(meta.filter((e) => e.name === "process_name").map((e) => e.args!.name)).toEqual(["devices", "links"]);
    const threads = meta.filter((e) => e.name === "thread_name").map((e) => e.args!.name);
    expect(threads).toContain("dev0");
    expect(threads).toContain("dev2");
    expect(threads).toContain("pcie:rp1-usp up");
    const h2d = t.traceEvents.find((e) => e.ph === "X" && e.name === "h2d" && e.cat === "devices")!;
    expect(h2d.ts).toBe(1);
    expect(h2d.dur).toBeCloseTo((r.endNs[1] - 1000) / 1000, 9);
    const file = join(mkdtempSync(join(tmpdir(), "sim-trace-")), "t.json");
    writeChromeTrace(file, ledger.spans);
    expect(JSON.parse(readFileSync(file, "utf8")).traceEvents.length).toBe(t.traceEvents.length);
  });
});
