// resizeBar (pci_resize_resource, drivers/pci/setup-res.c: a BAR is resized only while released,
// to a size its Resizable BAR capability lists, within the space assigned to it) on the explorer
// machine with gpu0's memory BAR made resizable; the window is the BAR's P2P aperture
// (reference/p2pdma.md: P2P reaches device memory only through the BAR).
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { loadScenario } from "../src/scenario/load.js";
import type { RunResult } from "../src/scenario/results.js";
import { runScenario } from "../src/scenario/run.js";

const MiB = 1 << 20;

/** The explorer machine with 4 MiB of gpu0 memory behind a 4 MiB BAR resizable to 1, 2, 4 and 8 MiB. */
function machine(): Record<string, unknown> {
  const t = JSON.parse(readFileSync("data/topologies/p2p-three-devices-full-bar.json", "utf8"));
  delete t.$schema;
  const gpu = t.nodes.find((n: { id: string }) => n.id === "gpu0");
  gpu.memory = "4MiB";
  gpu.bars[1] = { index: 1, size: "4MiB", resizable: ["1MiB", "2MiB", "4MiB", "8MiB"] };
  return t;
}

function run(steps: object[]): RunResult {
  return runScenario(loadScenario({ topology: machine(), steps, drivers: { nic0: "odp" } })).result;
}

/** `pages` pages holding 0, 1, 2, ... in gpu0's memory, peer-mapped by nic0. */
const mapped = (buffer: string, pages: number) => [
  { op: "mmap", buffer, pages },
  { op: "cpuWrite", buffer, value: "index" },
  { op: "migrateToDevice", device: "gpu0", buffer },
  { op: "peerMap", device: "nic0", buffer },
];

describe("resizeBar", () => {
  it("is refused while peer mappings use the BAR (EBUSY), for a size the BAR does not list (EINVAL) or beyond its assigned space (ENOSPC)", () => {
    const r = run([
      ...mapped("a", 4),
      { op: "resizeBar", device: "gpu0", size: "1MiB", expect: "EBUSY" },
      { op: "resizeBar", device: "gpu0", size: "3MiB", expect: "EINVAL" },
      { op: "resizeBar", device: "gpu0", size: "8MiB", expect: "ENOSPC" },
      { op: "munmap", buffer: "a" },
      { op: "resizeBar", device: "gpu0", size: "1MiB", expect: "ok" },
    ]);
    expect(r.steps.map((s) => s.met ?? s.ok)).toEqual([true, true, true, true, true, true, true, true, true]);
    expect(r.steps[8].result).toEqual({ size: MiB, slots: 256 });
  });

  it("a smaller window maps what fits, and maps the rest again once grown back: every page's data through its own slot", () => {
    // 300 slots made at 4 MiB; the window shrunk to 256 and grown back: slots 256..299 keep the
    // P2PDMA pages made for them, so their bus addresses still reach their own device pages.
    const r = run([
      ...mapped("a", 300),
      { op: "munmap", buffer: "a" },
      { op: "resizeBar", device: "gpu0", size: "1MiB" },
      ...mapped("b", 300),
      { op: "munmap", buffer: "b" },
      { op: "resizeBar", device: "gpu0", size: "4MiB" },
      ...mapped("c", 300),
      { op: "dma", device: "nic0", buffer: "c" },
    ]);
    const failed = r.steps.find((s) => !s.ok);
    expect(failed).toBeUndefined();
    expect(r.violations).toEqual([]);
    // At 1 MiB the aperture holds 256 slots: 300 pages cannot all be peer-mapped at once (LRU reclaim).
    const small = r.steps[9].result as { cpages: number; unmapped?: number };
    expect(small.cpages).toBeLessThanOrEqual(256);
    const big = r.steps[15].result as { cpages: number; addresses: string[] };
    expect(big.cpages).toBe(300);
    expect(new Set(big.addresses).size).toBe(300);
    const read = r.steps[16].result as { values: number[] };
    expect(read.values).toEqual(Array.from({ length: 300 }, (_v, i) => i));
  });
});
