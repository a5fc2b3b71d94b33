// Replays the kernel's hmm selftests (tools/testing/selftests/mm/hmm-tests.c, torvalds/linux 0eaed89c;
// case notes in /work/shared/reference/hmm-tests-cases.md §3) through the CLI contract of DESIGN §4:
// every `<case>.<variant>.json` here runs with `p2pdma-lab run FILE --json` in-process and each step is
// checked against `<case>.<variant>.expect.json` (format in README.md; files written by generate.mjs).
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { expand, field, firstMismatch, normFlags, runScenario, snapshotStrings, stepRange } from "./replay.js";
import type { CaseExpect, RunOutput, ScenarioStep } from "./replay.js";

const DIR = dirname(fileURLToPath(import.meta.url));

/** Every TEST_F of hmm-tests.c at 0eaed89c, in file order (reference §5 table: 35 on `hmm`, 3 on `hmm2`). */
const KERNEL_CASES = [
  "open_close", "anon_read", "anon_read_prot", "anon_write", "anon_write_prot", "anon_write_child",
  "anon_write_child_shared", "anon_write_huge", "anon_write_hugetlbfs", "file_read", "file_write", "migrate",
  "migrate_file_private", "migrate_fault", "migrate_release", "migrate_shared", "migrate_mixed",
  "migrate_multiple", "anon_read_multiple", "anon_teardown", "mixedmap", "snapshot", "compound", "double_map",
  "exclusive", "exclusive_mprotect", "exclusive_cow", "hmm_gup_test", "hmm_cow_in_device",
  "migrate_anon_huge_empty", "migrate_anon_huge_zero", "migrate_anon_huge_free", "migrate_anon_huge_fault",
  "migrate_partial_unmap_fault", "migrate_remap_fault", "migrate_anon_huge_err", "migrate_anon_huge_zero_err",
  "benchmark_thp_migration",
];

function loadJson<T>(file: string): T {
  return JSON.parse(readFileSync(file, "utf8")) as T;
}

const expectFiles = readdirSync(DIR)
  .filter((f) => f.endsWith(".expect.json"))
  .sort();
const skipped = loadJson<Record<string, { fixture: string; reason: string }>>(join(DIR, "skipped.json"));

describe("hmm selftest replays: coverage of hmm-tests.c", () => {
  it("every TEST_F is either replayed in both variants or skipped with a reason, and at least 30 run", () => {
    const replayed = new Map<string, string[]>();
    for (const f of expectFiles) {
      const [name, variant] = f.split(".");
      replayed.set(name, [...(replayed.get(name) ?? []), variant].sort());
    }
    for (const name of KERNEL_CASES) {
      const variants = replayed.get(name);
      if (variants) expect(variants, name).toEqual(["coherent", "private"]);
      else expect(skipped[name]?.reason, `${name} neither replayed nor skipped`).toBeTruthy();
    }
    expect([...replayed.keys(), ...Object.keys(skipped)].sort()).toEqual([...KERNEL_CASES].sort());
    expect(replayed.size).toBeGreaterThanOrEqual(30);
  });

  it("the committed scenario and expectation files are exactly what generate.mjs writes", () => {
    const out = execFileSync(process.execPath, [join(DIR, "generate.mjs"), "--check"], { encoding: "utf8" });
    expect(out).toMatch(/ 0 differ/);
  });
});

for (const [name, s] of Object.entries(skipped)) {
  it.skip(`hmm.${name} (both variants): skipped, ${s.reason}`, () => {});
}

describe("hmm selftest replays through `p2pdma-lab run --json`", () => {
  for (const f of expectFiles) {
    const exp = loadJson<CaseExpect>(join(DIR, f));
    const variant = f.split(".")[1];
    const scenarioFile = join(DIR, f.replace(".expect.json", ".json"));
    const title = `hmm.${exp.case} (${variant})`;

    it(`${title}: ${exp.source}`, { timeout: 120_000 }, async () => {
      const scenario = loadJson<{ steps: ScenarioStep[] }>(scenarioFile);
      const { code, out, stdout, stderr } = await runScenario(scenarioFile);
      expect(out, `${title}: --json output is not JSON (exit ${code}): ${stderr || stdout.slice(0, 400)}`).not.toBeNull();
      const run = out as RunOutput;
      expect(run.steps.length, `${title}: one output step per scenario step`).toBe(scenario.steps.length);

      const byStep = new Map(exp.steps.map((e) => [e.step, e]));
      const bufferPages = new Map<string, number>();
      for (let i = 0; i < scenario.steps.length; i++) {
        const step = scenario.steps[i];
        if (step.op === "mmap" && step.buffer) bufferPages.set(step.buffer, step.pages as number);
        const got = run.steps[i];
        const e = byStep.get(i);
        const where = `${title} step ${i} ${step.op}${e ? ` [${e.topic}: ${e.assert}]` : ""}`;
        expect(got.op, where).toBe(step.op);
        const wantOk = e ? e.ok : true;
        expect(got.ok, `${where}: ${got.ok ? "succeeded" : `failed: ${got.error}`}`).toBe(wantOk);
        if (!e) continue;
        if (e.errno) {
          expect(got.error ?? "", `${where}: error must start with the errno name`).toMatch(new RegExp(`^${e.errno}\\b`));
        }
        if (e.cpages !== undefined) expect(field(got.result, "cpages"), `${where}: cpages`).toBe(e.cpages);
        if (e.faults !== undefined) expect(field(got.result, "faults"), `${where}: faults`).toBe(e.faults);
        const { first, count } = stepRange(step, bufferPages);
        if (e.values) {
          const want = expand(e.values, first, count);
          const values = field(got.result, "values");
          expect(Array.isArray(values), `${where}: result.values is a list`).toBe(true);
          const at = firstMismatch(values as unknown[], want);
          expect(at, `${where}: values differ at page ${first + at}: got ${JSON.stringify((values as unknown[])[at])}, want ${JSON.stringify(want[at])} (got ${(values as unknown[]).length} values, want ${want.length})`).toBe(-1);
        }
        if (e.entries) {
          const want = expand(e.entries, first, count);
          const entries = snapshotStrings(got.result);
          expect(entries, `${where}: snapshot result has one string per page (keys: ${Object.keys((got.result as object) ?? {}).join(", ")})`).not.toBeNull();
          const at = firstMismatch(entries as unknown[], want, normFlags);
          expect(at, `${where}: snapshot differs at page ${first + at}: got ${JSON.stringify((entries as unknown[])[at])}, want ${JSON.stringify(want[at])}`).toBe(-1);
        }
      }
      expect(code, `${title}: exit status (${exp.exit ? "a step is expected to fail" : "all steps succeed"})`).toBe(exp.exit);
      expect(run.violations, `${title}: the selftests never let a device touch a freed page`).toEqual([]);
    });

    for (const part of exp.omitted ?? []) {
      it.skip(`${title}: part not replayed, ${part}`, () => {});
    }
  }
});
