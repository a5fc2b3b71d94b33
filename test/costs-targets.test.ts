// Reproduction targets T1-T12 of reference/costs.md §6.4: each test runs the cost model on the
// machine the target was measured on (data/topologies/<machine>.json + data/calibration/<machine>.json)
// and checks the model's figure against the published one within the stated tolerance. Paths are built
// by src/sim/paths.ts from the topology JSON (fabric/ routing was not available when this was written).
// No calibration number comes from the target it is checked against (see each file's `source`).
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  bounceCopy, costTransfer, dmaReadLatencyNs, machine, migrateNs, param, pathBetween, randomReadGBps,
  smallCopyLatencyNs, uvmSmartFaultNs, uvmSmartTransferNs, withParams, type LinkGraph,
} from "../src/sim/index.js";
import { loadCalibration } from "../src/scenario/load.js";
import { topologySpec } from "./support/run.js";

const topo = (name: string) => topologySpec(join(import.meta.dirname, "..", "data", "topologies", `${name}.json`));
const load = (t: string, cal: string): LinkGraph => machine(topo(t), loadCalibration(cal));
const MiB = 1 << 20;
const GiB = 1 << 30;

/** |model - published| / published <= tol. */
function within(model: number, published: number, tol: number): void {
  const err = Math.abs(model - published) / published;
  expect(err, `model ${model.toFixed(3)} vs published ${published} (error ${(err * 100).toFixed(1)}%, tolerance ${tol * 100}%)`).toBeLessThanOrEqual(tol);
}

describe("costs.md §6.4 reproduction targets", () => {
  it("T1: PCIe Gen4 x16, MPS 256, 1 MiB posted writes = 25.99 GB/s ±1% (pcie-bench/pcie-model model/pcie.py + mem_bw.py)", () => {
    const g = load("pcie-gen4-host", "pcie-gen4-host");
    within(costTransfer(g, pathBetween(g, "dev0", "dev1", "write"), MiB).rateGBps, 25.99, 0.01);
  });

  it("T2: PCIe Gen5 x16, MPS 128/256/512 = 47.0/52.0/54.8 GB/s ±1% (pcie-model)", () => {
    const published: Record<number, number> = { 128: 47.0, 256: 52.0, 512: 54.8 };
    for (const mps of [128, 256, 512]) {
      const g = machine(topo("pcie-gen5-host"), withParams(loadCalibration("pcie-gen5-host"), { pcieMps: mps }));
      within(costTransfer(g, pathBetween(g, "dev0", "dev1", "write"), MiB).rateGBps, published[mps], 0.01);
    }
  });

  it("T3: Gen5 x16 GPU->GPU P2P write below one PEX890xx switch = 54-56.6 GB/s ±10% (voipmonitor/rtx6kpro; p2pmark)", () => {
    const g = load("asus-esc8000a-e13p-pex890xx", "pex890xx-gen5-box");
    const p = pathBetween(g, "gpu0", "gpu1", "write");
    expect(p.topoClass).toBe("PIX");
    within(costTransfer(g, p, 64 * MiB).gbps, (54 + 56.6) / 2, 0.1);
  });

  it("T4: HGX H100 P2P 371-377 GB/s ±5%, host bounce 36-38 GB/s ±10%, ratio ~10x (NVIDIA/nccl #1264; NCCL topo.h)", () => {
    const g = load("hgx-h100", "hgx-h100");
    const p = pathBetween(g, "gpu0", "gpu1", "write");
    expect(p.topoClass).toBe("NV18");
    const p2p = costTransfer(g, p, GiB).gbps;
    within(p2p, 374, 0.05);
    const bounce = bounceCopy(g, "gpu0", "gpu1", GiB).gbps;
    within(bounce, 37.2, 0.1);
    within(p2p / bounce, 10, 0.1);
  });

  it("T5: HGX A100 12x NVLink3 GPU->GPU copy engine, 8 GB = ~230 GB/s ±5% (NVIDIA/nccl-tests #149)", () => {
    const g = load("hgx-a100", "hgx-a100");
    within(costTransfer(g, pathBetween(g, "gpu0", "gpu5", "write"), 8e9).gbps, 230, 0.05);
  });

  it("T6: 6x RTX 4090 on AMD: P2P 9.6-10.2 GB/s < bounce 20.1-22.4 GB/s, ±10% with platform parameters (NVIDIA/nccl #814)", () => {
    const g = load("rtx4090-amd-6gpu", "rtx4090-amd");
    const p2p = costTransfer(g, pathBetween(g, "gpu0", "gpu1", "write"), 256 * MiB).gbps;
    const bounce = bounceCopy(g, "gpu0", "gpu1", 256 * MiB).gbps;
    within(p2p, (9.6 + 10.2) / 2, 0.1);
    within(bounce, (20.1 + 22.4) / 2, 0.1);
    expect(p2p).toBeLessThan(bounce);
  });

  it("T7: 4-GPU NVLink box small copy: P2P write 1.8-2.3 us, bounce 11-20 us, ±25% (NVIDIA/cuda-samples #230)", () => {
    const g = load("nvlink-4gpu", "nvlink-machine");
    within(smallCopyLatencyNs(g, "gpu0", "gpu1", "p2p"), (1810 + 2310) / 2, 0.25);
    within(smallCopyLatencyNs(g, "gpu0", "gpu2", "bounce"), (11100 + 19600) / 2, 0.25);
  });

  it("T8: Gen3 x8 device DMA read latency, warm cache: 64 B 546 ns, 2048 B 1133 ns, ±10% (pcie-bench/data Haswell E5-2620v3)", () => {
    const g = load("haswell-nfp6000", "haswell-pcie-bench");
    const link = g.links[g.upLink.get("nfp")!].pcie!;
    within(dmaReadLatencyNs(g.calibration, link, 64), 546, 0.1);
    within(dmaReadLatencyNs(g.calibration, link, 2048), 1133, 0.1);
  });

  it("T9: IOMMU with 4 KiB pages, random 64 B reads: ~28 Gb/s to 256 KB, ~10 Gb/s at >= 8 MB, latency +~226 ns, ±15% (pcie-bench/data iommu-nosp)", () => {
    const g = load("haswell-nfp6000", "haswell-pcie-bench");
    const cal = g.calibration;
    const link = g.links[g.upLink.get("nfp")!].pcie!;
    const gbit = (w: number) => randomReadGBps(cal, link, 64, w) * 8;
    for (const w of [4096, 64 << 10, 256 << 10]) within(gbit(w), 28.2, 0.15);
    within(gbit(8 * MiB), 10.05, 0.15);
    within(gbit(64 * MiB), 10.05, 0.15);
    within(dmaReadLatencyNs(cal, link, 64, 64 * MiB) - dmaReadLatencyNs(cal, link, 64, 256 << 10), 226, 0.15);
    // The 1 MB point (published 15.2 Gb/s) falls between the plateau and the floor but the model's
    // LRU/random miss rate puts it 22% low: page-walk caches are not modelled (reported, not hidden).
    expect(gbit(MiB)).toBeGreaterThan(gbit(64 * MiB));
    expect(gbit(MiB)).toBeLessThan(gbit(256 << 10));
    // 2 MiB IOMMU superpages lift the IOTLB reach to 128 MiB: no knee (costs.md §6.3).
    const sp = withParams(cal, { iommuPageBytes: 2 * MiB });
    within(randomReadGBps(sp, link, 64, 64 * MiB) * 8, 28.2, 0.15);
  });

  it("T10: UVMSmart mode: 4 KB / 64 KB / 1 MB transfers 1.76 / 5.88 / 82.1 us, fault 45 us, ±1% (gpgpu-sim_UVMSmart)", () => {
    const cal = loadCalibration("uvmsmart");
    within(uvmSmartTransferNs(cal, 4096) / 1000, 1.76, 0.01);
    within(uvmSmartTransferNs(cal, 64 * 1024) / 1000, 5.88, 0.01);
    within(uvmSmartTransferNs(cal, MiB) / 1000, 82.1, 0.01);
    within(uvmSmartFaultNs(cal) / 1000, 45.0, 0.01);
  });

  it("T11: migrating 4 KiB pages of a multi-threaded process, batched (<=512) vs per-page TLB shootdown: ~3.9x, IPIs -99%, ±25% (Huang Ying migrate_pages batch TLB flush)", () => {
    // Parameters are MEMORY/ESTIMATE (ipiShootdownNs, migratePageNs): this target is not an independent reproduction.
    const cal = loadCalibration("default");
    const opts = { copyGBps: param(cal, "socketGBps"), remoteCpus: true };
    const perPage = migrateNs(cal, 8192, { ...opts, batchedFlush: false });
    const batched = migrateNs(cal, 8192, { ...opts, batchedFlush: true });
    within(perPage.ns / batched.ns, 3.9, 0.25);
    within(1 - batched.ipis / perPage.ipis, 0.991, 0.25);
  });

  it("T12: A100 SXM4 SM-copy H2D, Gen4 x16, 512 MiB-1 GiB = 25.1 GB/s ±5% (NVIDIA/nvbandwidth #42)", () => {
    const g = load("hgx-a100", "a100-sxm4-sm-copy");
    within(costTransfer(g, pathBetween(g, "host:0", "gpu0", "read"), 512 * MiB).gbps, 25.13, 0.05);
    within(costTransfer(g, pathBetween(g, "host:0", "gpu0", "read"), GiB).gbps, 25.13, 0.05);
  });
});
