// A THP migrated whole is priced as one page (src/scenario/costs.ts copies, src/sim/migration.ts):
// migrate_vma collects a PMD-mapped THP as one MIGRATE_PFN_COMPOUND entry (hmm-semantics.md §4,
// MIGRATE_VMA_SELECT_COMPOUND) that the driver copies as one folio (dmirror_migrate_alloc_and_copy,
// dmirror_devmem_fault_alloc_and_copy), and its TLB flush covers one PMD entry: the per-page costs
// (migratePageNs, one invlpg per entry up to the full-flush ceiling; costs.md §3.2, §3.4) are paid
// once, not 512 times. Base pages are priced as before.
import { describe, expect, it } from "vitest";
import { builtinTopology } from "../src/fabric/builtin.js";
import { loadCalibration } from "../src/scenario/load.js";
import { buildLinkGraph, param } from "../src/sim/index.js";
import { cpuFaultNs, otherCpus, tlbFlushNs } from "../src/sim/hmm-costs.js";
import { migrationCost } from "../src/sim/migration.js";
import { runObject } from "./support/run.js";

const PMD_PAGES = 512;
const THP = PMD_PAGES * 4096;

/** One 2 MiB buffer (one THP, or 512 base pages) written by the CPU, migrated to dmirror0 and back. */
function run(huge: boolean) {
  return runObject({
    topology: "dmirror",
    steps: [
      { op: "mmap", buffer: "a", pages: PMD_PAGES, ...(huge ? { huge: "pmd" } : {}) },
      { op: "cpuWrite", buffer: "a", value: "index" },
      { op: "migrateToDevice", device: "dmirror0", buffer: "a" },
      { op: "migrateToSystem", device: "dmirror0", buffer: "a" },
    ],
  });
}

describe("huge-page migration pricing", () => {
  const graph = buildLinkGraph(builtinTopology("dmirror"), loadCalibration());
  const cal = graph.calibration;
  const remote = otherCpus(cal);
  // What 511 more pages cost in one migrate_vma call: their per-page work and their invlpgs.
  const perPageOverhead = (PMD_PAGES - 1) * param(cal, "migratePageNs") + tlbFlushNs(cal, PMD_PAGES, remote).ns - tlbFlushNs(cal, 1, remote).ns;
  const notifier = param(cal, "notifierCallbackNs") + param(cal, "deviceTlbInvalidateNs");
  const base = run(false);
  const thp = run(true);
  const times = (r: typeof base) => (r.counters as { stepTimesNs: number[] }).stepTimesNs;

  it("moves the same 2 MiB both ways; the THP goes back as one compound entry", () => {
    for (const r of [base, thp]) {
      expect(r.steps.map((s) => s.ok)).toEqual([true, true, true, true]);
      expect((r.steps[2].result as { values: number[] }).values).toEqual(Array.from({ length: PMD_PAGES }, (_, i) => i));
    }
    // dmirror_successful_migrated_pages counts a compound entry once.
    expect([base, thp].map((r) => (r.steps[3].result as { cpages: number }).cpages)).toEqual([PMD_PAGES, 1]);
    expect(thp.counters.bytesMoved).toEqual(base.counters.bytesMoved);
  });

  it("4 KiB pages: each migration step is the 512-page migration plus its notifier round (priced as before)", () => {
    for (const [step, direction] of [[2, "toDevice"], [3, "toRam"]] as const) {
      const m = migrationCost(graph, { device: "dmirror0", direction, bytes: THP, mode: "prefetch", chargeFaults: false });
      expect(m.pages).toBe(PMD_PAGES);
      expect(times(base)[step]).toBeCloseTo(m.ns + notifier, 6);
    }
  });

  it("a THP: each migration step is cheaper by 511 pages' per-page costs; the run by those and 511 CPU faults", () => {
    for (const step of [2, 3]) expect(times(base)[step] - times(thp)[step]).toBeCloseTo(perPageOverhead, 6);
    const faults = cpuFaultNs(cal, PMD_PAGES) - cpuFaultNs(cal, 1); // cpuWrite: one fault maps the THP
    expect(base.simTimeNs - thp.simTimeNs).toBeCloseTo(faults + 2 * perPageOverhead, 6);
    expect(perPageOverhead).toBeGreaterThan(0);
  });
});
