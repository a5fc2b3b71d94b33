// A driver written from the documentation alone (README "Your own P2P driver" and the package's
// .d.ts files), by someone who had not read the kit's source: examples/drivers/batched-mirror.ts,
// an HMM mirror mapping a range in chunks of 2 pages, each chunk its own hmm_range_fault and
// mmu_interval_read_retry under the driver lock (shared/reference/hmm-semantics.md §1.7). It is
// checked only through the public API, as the README tells a driver author to: the explorer finds
// nothing on it, its example scenario passes, and a variant that skips the sequence recheck for
// every chunk but the first is found and shrunk.
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { explore, loadDriverModules, loadScenarioFile, resultOf, runPassed, runScenario, stepPassed } from "p2pdma-lab";

const FULL = "data/topologies/p2p-three-devices-full-bar.json";
const DRIVER = "examples/drivers/batched-mirror.ts";
const RECHECK = "      if (k.mmuIntervalReadRetry(sub, seq)) {";

describe("the batched mirror, explored", () => {
  it("breaks no rule in 2000 interleavings and reaches distinct states", async () => {
    const report = await explore(DRIVER, { topology: FULL, runs: 2000, seed: 1, workers: 1 });
    expect(report.finding?.message).toBeUndefined();
    expect(report.runs).toBe(2000);
    expect(report.systematic + report.random).toBe(2000);
    expect(report.client).toBe("nic0");
    expect(report.distinctStates).toBeGreaterThan(0);
  }, 120_000);
});

describe("examples/batched-mirror.json", () => {
  it("passes: P2P by bus address, the fence wait, the ENOSPC and NOT_SUPPORTED fallbacks", async () => {
    const input = await loadDriverModules(loadScenarioFile("examples/batched-mirror.json"), "examples");
    const { result } = runScenario(input);
    expect(result.violations).toEqual([]);
    expect(runPassed(result)).toBe(true);
    result.steps.forEach((s, i) => expect(stepPassed(s), `step ${i} ${s.op}: ${s.error}`).toBe(true));
    // aperture "fail": the first chunk took gpu0's 2 BAR slots, the second got ENOSPC and went to RAM.
    expect(resultOf(result, 3, "peerMap").paths).toEqual({ BUS_ADDR: 2, THRU_HOST_BRIDGE: 0, SYSTEM: 2 });
    expect(resultOf(result, 4, "dma").values).toEqual([0, 1, 2, 3]);
    // The CPU fault on page 0 waited for the DMA write in flight (mmu notifier → dma_fence_wait).
    expect(resultOf(result, 10, "cpuRead").values).toEqual([7]);
    expect(result.steps[11]).toMatchObject({ op: "dma", ok: false, expected: "EFAULT", met: true });
    // NOT_SUPPORTED (Intel host bridge, not whitelisted): bounced, then migrated to RAM.
    expect(resultOf(result, 16, "peerMap").paths).toEqual({ BUS_ADDR: 0, THRU_HOST_BRIDGE: 0, SYSTEM: 3 });
    expect(resultOf(result, 17, "dma").values).toEqual([0, 1, 2]);
    expect(resultOf(result, 22, "peerMap").paths).toEqual({ BUS_ADDR: 0, THRU_HOST_BRIDGE: 0, SYSTEM: 3 });
    expect(resultOf(result, 23, "dma").values).toEqual([0, 1, 2]);
  }, 60_000);
});

describe("a batched mirror that rechecks the sequence only for its first chunk", () => {
  const dir = mkdtempSync(join(tmpdir(), "doc-driver-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("is found within 10^4 runs and shrunk to at most 10 steps that replay the violation", async () => {
    const source = readFileSync(DRIVER, "utf8");
    expect(source.split(RECHECK).length).toBe(2);
    const broken = source.replace(RECHECK, "      if (s === req.start && k.mmuIntervalReadRetry(sub, seq)) {");
    writeFileSync(join(dir, "no-recheck.ts"), broken);
    // The module imports "p2pdma-lab": Node finds it from the module's own directory.
    symlinkSync(resolve("node_modules"), join(dir, "node_modules"), "dir");
    // The race needs an invalidation of the second chunk only, in the few ns its fault and lock
    // take: events near the mapping's start (windowNs) that CPU faults or migrations make.
    const workload = { events: ["migrateToSystem", "cpuWrite", "munmap", "dmaRead"], maxEvents: 2, windowNs: 200 };
    const report = await explore(join(dir, "no-recheck.ts"), { topology: FULL, workload, runs: 10_000, seed: 1, workers: 1 });
    const f = report.finding!;
    expect(f, "no finding").toBeDefined();
    expect(report.runs).toBeLessThanOrEqual(10_000);
    expect(f.reproduced).toBe(true);
    expect(f.scenario.steps.length).toBeLessThanOrEqual(10);
    expect(f.result.violations.length).toBeGreaterThan(0);
    expect(f.result.violations[0].device).toBe("nic0");
    // The invalidation hits a page past the first chunk (2 pages), the one mapped without a recheck.
    const event = f.scenario.steps[4] as { op: string; first?: number };
    expect(event.first ?? 0).toBeGreaterThanOrEqual(2);
    expect(f.message).toMatch(/step \d+: nic0/);
  }, 120_000);
});
