// The calibration discipline (issue: "costs are predicted, not fitted"): every parameter the kit
// ships (data/calibration/: the defaults, the platform profiles, the named files, and the
// validation's configuration files) names its source with a machine-readable source id, every
// validation entry (T1-T12 and the held-out set) names its own, and no parameter the model reads
// while predicting an entry comes from that entry's publication (ids "<publication>@<measurement>").
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseCalibration, parsePlatform, withParams, type ParamName } from "../src/sim/calibration.js";
import { entries, predictTracked, selfSourced, VALIDATION_DIR } from "./costs-harness.js";

const CALIBRATION_DIR = join(import.meta.dirname, "..", "data", "calibration");

describe("calibration discipline", () => {
  it("every shipped parameter names its source and a source id", () => {
    const files = [
      ...readdirSync(CALIBRATION_DIR).filter((f) => f.endsWith(".json")).map((f) => parseCalibration(JSON.parse(readFileSync(join(CALIBRATION_DIR, f), "utf8")), f)),
      ...readdirSync(join(CALIBRATION_DIR, "platforms")).map((f) => parsePlatform(JSON.parse(readFileSync(join(CALIBRATION_DIR, "platforms", f), "utf8")), f)),
      ...readdirSync(join(VALIDATION_DIR, "calibrations")).map((f) => parseCalibration(JSON.parse(readFileSync(join(VALIDATION_DIR, "calibrations", f), "utf8")), f)),
    ];
    let n = 0;
    for (const f of files) {
      for (const [name, p] of Object.entries(f.params)) {
        expect(p!.sourceId, `${f.name}.${name}`).toBeDefined();
        expect(p!.source.length, `${f.name}.${name}`).toBeGreaterThan(10);
        n++;
      }
    }
    expect(n).toBeGreaterThan(100);
  });

  const all = [...entries("targets"), ...entries("held-out")];
  it("every validation entry names its source, and ids are unique", () => {
    expect(new Set(all.map((e) => e.id)).size).toBe(all.length);
    for (const e of all) {
      expect(e.source.length, e.id).toBeGreaterThan(20);
      expect(e.sourceId, e.id).toMatch(/@/);
    }
  });

  for (const e of all) {
    it(`${e.id} is predicted by no parameter sourced from ${e.sourceId.split("@")[0]}`, () => {
      const { reads, calibration } = predictTracked(e);
      expect(reads.size).toBeGreaterThan(0);
      expect(selfSourced(e, calibration, reads)).toEqual([]);
    });
  }

  it("catches a parameter worked back from the target it predicts", () => {
    // A per-link NVLink rate worked back from T4's own measurement is flagged.
    const t4 = entries("targets").find((e) => e.id === "T4-p2p")!;
    const { reads, calibration } = predictTracked(t4);
    const fitted = withParams(calibration, { nvlink4GBps: 20.8 });
    fitted.params.nvlink4GBps = { ...fitted.params.nvlink4GBps, sourceId: "nccl#1264@p2p-enabled-unidirectional" };
    expect(reads.has("nvlink4GBps" as ParamName)).toBe(true);
    expect(selfSourced(t4, fitted, reads)).toEqual(["nvlink4GBps (nccl#1264@p2p-enabled-unidirectional)"]);
  });
});
