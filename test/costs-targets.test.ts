// Reproduction targets T1-T12 of reference/costs.md §6.4 (data/validation/targets/), re-derived with
// the calibration discipline: each target runs on the machine it was measured on (its scenario
// through `p2pdma-lab run --json`, or a probe of a figure no step exposes) with the parameters the
// machine picks (no calibration named, except a target's own configuration: T2's MPS, T12's SM
// copies), none of them sourced from the target (costs-discipline.test.ts). A target the physics
// meets is asserted within costs.md's tolerance; a target it misses is listed below with its error
// and the reason, and asserted to still miss (never a tolerance widened to pass).
import { describe, expect, it } from "vitest";
import { relativeError } from "../src/sim/validation.js";
import { entries, pct, predict } from "./costs-harness.js";

/** Targets the model misses, with the error it gives and why (the validation table reports them). */
const MISSES: Record<string, { error: number; why: string }> = {
  "T6-p2p": { error: 1.66, why: "RTX 4090 P2P between Zen 2 root complexes runs at a third of the link; no published mechanism (GeForce P2P was unsupported), the model routes it at the link rate" },
  "T8-2048B": { error: -0.26, why: "one outstanding 2 KiB read: the root complex serves it line by line (~0.3 ns/B); the model charges only the completions' wire time" },
  "T9-window-256KiB": { error: 0.56, why: "the NFP-6000's own DMA engine caps random 64 B reads near 28 Gb/s; the model has its link and tags, which allow 44 Gb/s" },
  "T9-superpages": { error: 0.56, why: "same cap as T9-window-256KiB: with superpages there are no misses and the NFP's engine limit is all that binds" },
  "T9-miss-latency": { error: -0.2, why: "an IOTLB miss is taken as two memory reads (180 ns); the data show ~226 ns" },
  "T10-copy-4KB": { error: -0.53, why: "UVMSmart's curve includes a ~1.4 us per-copy setup; the model's driver-pushed copy pays the path latency only" },
  "T10-copy-64KB": { error: -0.07, why: "same setup term as T10-copy-4KB, 7% of a 64 KB copy; the 1% tolerance is the formula's" },
  "T10-copy-1MB": { error: -0.025, why: "Gen3 x16 at MPS 256 gives 13.2 GB/s of completions; UVMSmart's fit has 12.9; the 1% tolerance is the formula's" },
  "T10-fault": { error: -0.22, why: "the model's fault batch is 35 us (Zheng et al., HPCA'16, 20-50 us); UVMSmart's 45 us is a simulator setting" },
};

describe("costs.md §6.4 reproduction targets, predicted", () => {
  for (const e of entries("targets")) {
    const miss = MISSES[e.id];
    const label = `${e.id}: ${e.title}: published ${e.published} ${e.unit} ±${(100 * e.tolerance!).toFixed(0)}% (${e.sourceId})${miss ? ` — missed: ${miss.why}` : ""}`;
    it(label, async () => {
      const model = await predict(e);
      const error = relativeError(model, e.published);
      if (!miss) {
        expect(Math.abs(error), `model ${model.toFixed(4)} ${e.unit}, error ${pct(error)}`).toBeLessThanOrEqual(e.tolerance!);
      } else {
        // Still a miss, by about the error recorded above: a change of physics shows here.
        expect(Math.abs(error), `model ${model.toFixed(4)} ${e.unit}, error ${pct(error)}`).toBeGreaterThan(e.tolerance!);
        expect(error).toBeCloseTo(miss.error, 1);
      }
    });
  }

  it("covers every target of costs.md §6.4 (T1-T12)", () => {
    const ids = new Set(entries("targets").map((e) => e.id.split("-")[0]));
    expect([...ids].sort()).toEqual(["T1", "T10", "T11", "T12", "T2", "T3", "T4", "T5", "T6", "T7", "T8", "T9"]);
    for (const id of Object.keys(MISSES)) expect(entries("targets").some((e) => e.id === id), id).toBe(true);
  });
});
