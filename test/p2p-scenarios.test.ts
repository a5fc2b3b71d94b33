// Seed scenarios of issue 5 on machines from data/topologies: a GPU's device-private pages
// peer-mapped by a NIC under one PCIe switch (BUS_ADDR, p2pdma.md §1: bus address = CPU address +
// bus offset, no IOMMU), across AMD host bridges (THRU_HOST_BRIDGE: CPU address, or an IOVA when
// the IOMMU translates), and between root ports of an Intel desktop off the whitelist
// (NOT_SUPPORTED: the driver falls back to migrating to RAM, or bounces); data written by one
// device is read back by the other; teardown by migration leaves no mapping behind.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { bufferIo } from "../src/cli/io.js";
import { main } from "../src/cli/main.js";

const OUT = resolve("test-results/p2p");

/** A data/topologies machine with `gpu` made device-private (a GPU driver using HMM), optionally IOMMU on. */
function machine(file: string, gpu: string, iommu = false, also: string[] = []): Record<string, unknown> {
  const t = JSON.parse(readFileSync(resolve("data/topologies", file), "utf8"));
  delete t.$schema;
  for (const n of t.nodes) {
    if (n.id === gpu || also.includes(n.id)) n.zoneDevice = "private";
    if (iommu && n.kind === "hostBridge") n.iommu = "dma";
  }
  return t;
}

async function runFile(name: string, scenario: object) {
  mkdirSync(OUT, { recursive: true });
  const file = join(OUT, `${name}.json`);
  writeFileSync(file, JSON.stringify(scenario, null, 2));
  const io = bufferIo();
  const code = await main(["run", file, "--json"], io);
  return { code, out: JSON.parse(io.stdout()), stderr: io.stderr() };
}

const steps = (gpu: string, nic: string, extra: object = {}, snap = gpu) => [
  { op: "mmap", buffer: "a", pages: 4 },
  { op: "cpuWrite", buffer: "a", value: "index" },
  { op: "migrateToDevice", device: gpu, buffer: "a" },
  { op: "snapshot", device: snap, buffer: "a", p2p: true },
  { op: "peerMap", device: nic, buffer: "a", ...extra },
  { op: "dma", device: nic, buffer: "a" },
  { op: "dma", device: nic, buffer: "a", first: 1, count: 1, value: 42 },
  { op: "deviceRead", device: gpu, buffer: "a" },
  { op: "migrateToSystem", device: gpu, buffer: "a", count: 1 },
  { op: "dma", device: nic, buffer: "a", count: 1 },
  { op: "cpuRead", buffer: "a" },
];

describe("peer mapping seed scenarios", () => {
  it("DGX-1 V100: NIC and GPU under one PLX switch map by bus address", async () => {
    const gpu = "0000:06:00.0";
    const { code, out } = await runFile("dgx1-bus-addr", { topology: machine("nvidia-dgx-1-v100.json", gpu, false, ["0000:07:00.0"]), steps: steps(gpu, "0000:05:00.0", {}, "0000:07:00.0") });
    const s = out.steps;
    // GPU1 snapshots with ALLOW_P2P: GPU0's private pages come back as P2P pages in GPU0's BAR.
    expect(s[3].result.entries).toEqual(["WRITE|P2P", "WRITE|P2P", "WRITE|P2P", "WRITE|P2P"]);
    expect(s[4].result.paths).toEqual({ BUS_ADDR: 4, THRU_HOST_BRIDGE: 0, SYSTEM: 0 });
    expect(s[4].result.mapTypes).toEqual({ [gpu]: "BUS_ADDR" });
    // Bus address = the GPU's memory BAR (BAR1, 32 GiB) + slot offset; x86 has no bus offset.
    const a0 = Number(s[4].result.addresses[0]);
    expect(Number(s[4].result.addresses[1]) - a0).toBe(4096);
    expect(s[5].result.values).toEqual([0, 1, 2, 3]);
    expect(s[7].result.values).toEqual([0, 42, 2, 3]); // the GPU reads what the NIC wrote
    // The migration back tore the NIC's mapping down first: the DMA fails, no violation.
    expect(s[9].ok).toBe(false);
    expect(s[9].error).toMatch(/^EFAULT: .*no mapping/);
    expect(s[10].result.values).toEqual([0, 42, 2, 3]);
    expect(out.violations).toEqual([]);
    expect(out.counters.peerMaps).toBe(4);
    expect(code).toBe(1); // a step failed (the torn-down DMA)
  });

  it("ASUS ESC8000A (AMD Zen): NIC and GPU on different host bridges go through the host bridge, by IOVA with the IOMMU on", async () => {
    const gpu = "0000:01:00.0";
    const nic = "0000:21:00.0";
    const plain = await runFile("esc8000a-thru-host-bridge", { topology: machine("asus-esc8000a-e12.json", gpu), steps: steps(gpu, nic) });
    expect(plain.out.steps[4].result.paths).toEqual({ BUS_ADDR: 0, THRU_HOST_BRIDGE: 4, SYSTEM: 0 });
    expect(plain.out.steps[4].result.mapTypes).toEqual({ [gpu]: "THRU_HOST_BRIDGE" });
    expect(plain.out.steps[7].result.values).toEqual([0, 42, 2, 3]);
    const iommu = await runFile("esc8000a-iommu", { topology: machine("asus-esc8000a-e12.json", gpu, true), steps: steps(gpu, nic) });
    const addrs: string[] = iommu.out.steps[4].result.addresses;
    // IOVAs from the client's domain (page-sized, from 4 GiB), not the BAR's CPU addresses.
    expect(addrs).toEqual(["0x100000000", "0x100001000", "0x100002000", "0x100003000"]);
    expect(iommu.out.steps[5].result.values).toEqual([0, 1, 2, 3]);
    expect(iommu.out.violations).toEqual([]);
  });

  it("Intel Z370 (off the whitelist): NOT_SUPPORTED falls back to RAM, or bounces", async () => {
    const gpu = "0000:01:00.0";
    const peer = "0000:02:00.0";
    const mig = await runFile("z370-fallback-migrate", { topology: machine("intel-z370-two-gtx1080ti.json", gpu), steps: steps(gpu, peer) });
    expect(mig.out.steps[4].result.paths).toEqual({ BUS_ADDR: 0, THRU_HOST_BRIDGE: 0, SYSTEM: 4 });
    expect(mig.out.steps[4].result.pagePaths).toEqual(["SYSTEM", "SYSTEM", "SYSTEM", "SYSTEM"]);
    expect(mig.out.steps[5].result.values).toEqual([0, 1, 2, 3]);
    const bounce = await runFile("z370-fallback-bounce", { topology: machine("intel-z370-two-gtx1080ti.json", gpu), steps: steps(gpu, peer, { fallback: "bounce" }) });
    expect(bounce.out.steps[4].result.pagePaths).toEqual(["BOUNCE", "BOUNCE", "BOUNCE", "BOUNCE"]);
    expect(bounce.out.steps[4].result.bounced).toBe(4);
    expect(bounce.out.steps[7].result.values).toEqual([0, 42, 2, 3]); // pages stayed on the GPU
    expect(bounce.out.violations).toEqual([]);
  });

  it("a small BAR aperture reclaims LRU slots, invalidating their users first", async () => {
    const { out } = await runFile("aperture-reclaim", {
      topology: "../../data/topologies/p2p-three-devices.json",
      steps: [
        { op: "mmap", buffer: "a", pages: 4 },
        { op: "cpuWrite", buffer: "a", value: "index" },
        { op: "migrateToDevice", device: "gpu0", buffer: "a" },
        { op: "peerMap", device: "nic0", buffer: "a", count: 2 },
        { op: "peerMap", device: "nic0", buffer: "a", first: 2, count: 2 },
        { op: "dma", device: "nic0", buffer: "a", first: 2, count: 2 },
        { op: "dma", device: "nic0", buffer: "a", count: 1 },
      ],
    });
    expect(out.steps[5].result.values).toEqual([2, 3]);
    // Pages 0 and 1 lost their slots to pages 2 and 3: their mappings were invalidated, not left stale.
    expect(out.steps[6].ok).toBe(false);
    expect(out.violations).toEqual([]);
  });

  it("a broken driver is reported with device, address and step, exit 1", async () => {
    const gpu = "0000:06:00.0";
    const nic = "0000:05:00.0";
    const { code, out } = await runFile("dgx1-ignore-invalidation", {
      topology: machine("nvidia-dgx-1-v100.json", gpu),
      steps: [
        { op: "mmap", buffer: "a", pages: 2 },
        { op: "cpuWrite", buffer: "a", value: "index" },
        { op: "migrateToDevice", device: gpu, buffer: "a" },
        { op: "peerMap", device: nic, buffer: "a", policy: "ignoreInvalidation" },
        { op: "cpuRead", buffer: "a", count: 1 },
        { op: "dma", device: nic, buffer: "a", count: 1, value: 9 },
      ],
    });
    expect(code).toBe(1);
    expect(out.violations).toEqual([{
      step: 5, code: "empty-bar-slot", device: nic, address: "0x10000000", access: "write", via: expect.stringMatching(/^bus address 0x[0-9a-f]+$/),
      reason: expect.stringMatching(/^DMA write by bus address 0x[0-9a-f]+: reached a BAR slot that no longer exposes any page/),
    }]);
  });
});
