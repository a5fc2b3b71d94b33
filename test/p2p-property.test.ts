// Property tests of issue 5 (DESIGN §1 step 6): random interleavings on three devices give no
// violation with the correct driver; each broken driver policy is caught, and its shrunk
// counterexample, written as a scenario file, reproduces through the CLI (exit 1, violations).
import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { bufferIo } from "../src/cli/io.js";
import { main } from "../src/cli/main.js";
import { loadTopologyFile } from "../src/fabric/load.js";
import { loadCalibration } from "../src/scenario/load.js";
import type { RunResult } from "../src/scenario/results.js";
import { runScenario } from "../src/scenario/run.js";
import { Policy, scenarioArb } from "./p2p/arbitrary.js";

const TOPO = resolve("data/topologies/p2p-three-devices.json");
const fabric = loadTopologyFile(TOPO);
const calibration = loadCalibration("default");
const OUT = resolve("test-results/p2p");

/** Runs a generated scenario (already well-formed: the generator only builds valid steps). */
function run(sc: { topology: string; steps: unknown[] }): RunResult {
  return runScenario({ scenario: { topology: TOPO, steps: sc.steps }, topology: fabric, calibration }).result;
}

describe("P2P safety under random interleavings", () => {
  it("the correct driver gives 0 violations over 10^4 runs", () => {
    let runs = 0;
    let steps = 0;
    let peerDma = 0;
    fc.assert(
      fc.property(scenarioArb("correct"), (sc) => {
        runs++;
        const r = run(sc);
        steps += r.steps.length;
        peerDma += r.steps.filter((s) => s.op === "dma" && s.ok).length;
        return r.violations.length === 0;
      }),
      { numRuns: 10_000, seed: 5 },
    );
    expect(runs).toBe(10_000);
    // The runs did exercise successful peer DMA, not only failing steps.
    expect(peerDma).toBeGreaterThan(runs / 2);
    expect(steps).toBeGreaterThan(50_000);
  }, 120_000);

  for (const policy of ["ignoreInvalidation", "noSeqRecheck", "lateIovaUnmap"] as Policy[]) {
    it(`catches ${policy}, and the shrunk case reproduces through the CLI`, async () => {
      const res = fc.check(fc.property(scenarioArb(policy), (sc) => run(sc).violations.length === 0), { numRuns: 5_000, seed: 5 });
      expect(res.failed).toBe(true);
      const [sc] = res.counterexample!;
      // Shrunk: short and readable.
      expect(sc.steps.length).toBeLessThanOrEqual(8);
      mkdirSync(OUT, { recursive: true });
      const file = join(OUT, `shrunk-${policy}.json`);
      writeFileSync(file, JSON.stringify({ ...sc, topology: TOPO }, null, 2));
      const io = bufferIo();
      const code = await main(["run", file, "--json"], io);
      expect(code).toBe(1);
      const out = JSON.parse(io.stdout());
      expect(out.violations.length).toBeGreaterThan(0);
      expect(out.violations[0].device).toMatch(/^(nic0|gpu0|gpu1)$/);
      expect(out.violations[0].address).toMatch(/^0x[0-9a-f]+$/);
      if (policy === "lateIovaUnmap") expect(out.violations[0].reason).toContain("stale IOVA");
      // The same scenario with the correct driver is safe.
      const fixed = sc.steps.map((s) => (s.op === "peerMap" ? { ...s, policy: "correct" } : s));
      expect(run({ topology: TOPO, steps: fixed }).violations).toEqual([]);
    }, 120_000);
  }

  it("is deterministic: the same seed gives the same trace hash", () => {
    const hashOf = (seed: number) => {
      const scs = fc.sample(scenarioArb("ignoreInvalidation"), { seed, numRuns: 50 });
      const h = createHash("sha256");
      for (const sc of scs) h.update(JSON.stringify(run(sc)));
      return h.digest("hex");
    };
    expect(hashOf(42)).toBe(hashOf(42));
    expect(hashOf(42)).not.toBe(hashOf(43));
  });
});
