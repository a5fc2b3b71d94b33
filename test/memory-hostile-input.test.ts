// Hostile and careless input (issue: "untouched memory costs nothing, as in the kernel"): page
// tables, mirrors and device tables are made per touched 512-entry table (memory/page-table.ts),
// so work and memory follow the pages touched, never the size of a mapping; a 1 GiB hugetlb page
// takes consecutive chunks of frames; per-page results that would not fit in the run's JSON fail
// their step, suggesting `summarize`, instead of exiting 70 or 133. (These tests would run for
// minutes, or run out of memory, if any walk still looped over untouched pages.)
import { describe, expect, it } from "vitest";
import { bufferIo } from "../src/cli/io.js";
import { main } from "../src/cli/main.js";
import { DriverRuntime } from "../src/drivers/runtime.js";
import { Timeline } from "../src/drivers/timeline.js";
import { Machine } from "../src/devices/machine.js";
import { buildFabric } from "../src/fabric/build.js";
import { DMIRROR_TOPOLOGY } from "../src/fabric/builtin.js";
import { Mm } from "../src/memory/address-space.js";
import { cpuAccess } from "../src/memory/cpu-access.js";
import { forkMm } from "../src/memory/fork.js";
import { PROT_READ, PROT_WRITE } from "../src/memory/vma.js";
import { resultOf } from "../src/scenario/results.js";
import { runObject } from "./support/run.js";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const RW = PROT_READ | PROT_WRITE;
const TiB16 = 2 ** 32; // pages: 16 TiB

function machine() {
  const m = new Machine(buildFabric(DMIRROR_TOPOLOGY, "topology"));
  return { m, mm: new Mm(m.mem, "main") };
}

describe("untouched memory costs nothing", () => {
  it("a 16 TiB mmap with a one-page deviceWrite and peerMap makes one table in each page table", () => {
    const { m, mm } = machine();
    const a = mm.mmap(TiB16, RW);
    const last = a + TiB16 - 1;
    const dm = m.devices.get("dmirror0")!.open(mm);
    expect(dm.write(last, 1, new Float64Array([5])).ret).toBe(0);
    // The default P2P client driver (ODP) of dmirror1 maps the one page on the run's timeline.
    const timeline = new Timeline();
    const { instance, kernel } = new DriverRuntime(m, timeline, { rangeFaultNs: () => 100, dmaNs: () => 100 }, new Map()).of("dmirror1");
    let mapError: unknown = "not finished";
    timeline.spawn(instance.mapRange({ mm, start: last, npages: 1, write: true, fallback: "migrate" }), 0, (e) => (mapError = e));
    timeline.drain();
    expect(mapError).toBeUndefined();
    const peer = kernel.device.client.table(mm);
    const region = mm.find(a)!.region;
    expect(region.blocks.count).toBe(1);
    expect(region.bytes()).toBe(2048);
    expect(dm.mirrorBytes()).toBe(2048);
    expect(peer.count(0, 2 ** 36)).toBe(1);
  });

  it("mprotect, fork, munmap, release and exit of a 2^30-page mapping visit only the tables that exist", () => {
    const { m, mm } = machine();
    const pages = 2 ** 30;
    const a = mm.mmap(pages, RW);
    for (const k of [0, 1, pages / 2, pages - 1]) cpuAccess(mm, a + k, true);
    const dm = m.devices.get("dmirror0")!.open(mm);
    expect(dm.migrateToDevice(a + pages / 2, 1).ret).toBe(0);
    expect(mm.mprotect(a, pages, PROT_READ)).toBe(0);
    const child = forkMm(mm, "child");
    expect(child.find(a)!.region.blocks.count).toBe(3);
    expect(dm.release(a, 1).ret).toBe(0); // evicts the one device page
    expect(mm.munmap(a, pages / 2)).toBe(0);
    expect(mm.find(a + pages - 1)!.region.blocks.count).toBe(2); // the unmapped half's tables were freed
    child.exit();
    mm.exit();
    expect(m.mem.frames.pools[m.devices.get("dmirror0")!.device.pool.id].inUse).toBe(0);
  });

  it("fork of a 2^30-page mapping with a few pages touched copies only their tables", () => {
    const { mm } = machine();
    const a = mm.mmap(2 ** 30, RW);
    cpuAccess(mm, a + 12345, true);
    const child = forkMm(mm, "child");
    expect(child.find(a)!.region.bytes()).toBe(2048);
  });

  it("a snapshot summary of a 64 GiB untouched range counts every page without keeping a byte per page", () => {
    const r = runObject({
      topology: "dmirror",
      steps: [
        { op: "mmap", buffer: "a", pages: 2 ** 24 },
        { op: "cpuWrite", buffer: "a", first: 7, count: 1, value: 1 },
        { op: "snapshot", device: "dmirror0", buffer: "a", summarize: true },
      ],
    });
    expect(resultOf(r, 2, "snapshot")).toMatchObject({ cpages: 2 ** 24, counts: { NONE: 2 ** 24 - 1, WRITE: 1 } });
  });
});

describe("a 1 GiB hugetlb page (huge: pud)", () => {
  it("is a folio larger than a 256 MiB chunk: a device touching it gets consecutive chunks, not a crash", () => {
    const pages = 2 ** 18;
    const r = runObject({
      topology: "dmirror",
      steps: [
        { op: "mmap", buffer: "small", pages: 70000 }, // RAM already carved past one chunk
        { op: "cpuWrite", buffer: "small", value: 1 },
        { op: "mmap", buffer: "h", pages, huge: "pud" },
        { op: "deviceWrite", device: "dmirror0", buffer: "h", first: pages - 3, count: 3, value: "index" },
        { op: "deviceRead", device: "dmirror1", buffer: "h", first: pages - 3, count: 3 },
        { op: "cpuRead", buffer: "h", first: 0, count: 2 },
        { op: "snapshot", device: "dmirror0", buffer: "h", summarize: true },
      ],
    });
    expect(r.steps.every((s) => s.ok)).toBe(true);
    expect(resultOf(r, 4, "deviceRead").values).toEqual([pages - 3, pages - 2, pages - 1]);
    expect(resultOf(r, 5, "cpuRead").values).toEqual([0, 0]);
    expect(resultOf(r, 6, "snapshot")).toMatchObject({ counts: { "WRITE|PUD": pages } });
  });
});

describe("per-page results the JSON result cannot hold", () => {
  const steps = (count: number) => [
    { op: "mmap", buffer: "a", pages: count },
    { op: "deviceRead", device: "dmirror0", buffer: "a" },
    { op: "snapshot", device: "dmirror0", buffer: "a" },
    { op: "snapshot", device: "dmirror0", buffer: "a", summarize: true },
    { op: "cpuRead", buffer: "a", first: 0, count: 2 },
  ];

  it("fail their step with a message naming the field and suggesting summarize; other steps still run", () => {
    const pages = 2 ** 25;
    const r = runObject({ topology: "dmirror", steps: steps(pages) });
    expect(r.steps[1]).toMatchObject({ op: "deviceRead", ok: false });
    expect(r.steps[1].error).toMatch(/^steps\[1\]\.count: 33554432 pages of per-page values .*"summarize": true/);
    expect(r.steps[2].error).toMatch(/^steps\[2\]\.count: .*snapshot entries/);
    expect(resultOf(r, 3, "snapshot")).toMatchObject({ counts: { NONE: pages } });
    expect(resultOf(r, 4, "cpuRead").values).toEqual([0, 0]);
  });

  it("through the CLI: exit 1 with a JSON result, never 70 or a crash", async () => {
    const dir = mkdtempSync(join(tmpdir(), "p2pdma-hostile-"));
    const file = join(dir, "big.json");
    writeFileSync(file, JSON.stringify({ topology: "dmirror", steps: steps(2 ** 25) }));
    const io = bufferIo();
    const code = await main(["run", file, "--json"], io);
    expect(code).toBe(1);
    const out = JSON.parse(io.stdout());
    expect(out.steps[1].ok).toBe(false);
    expect(out.steps[3].ok).toBe(true);
  });
});
