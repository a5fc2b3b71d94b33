// Runs every file in examples/ through the built CLI (`run` for scenarios, `sweep` for
// *.sweep.json) and checks the exit status each one promises in its description, and that each
// names its JSON Schema in "$schema" so editors complete and check it.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

/** The exit status each example is written to give (DESIGN §4: 1 when a violation was found). */
const EXIT: Record<string, number> = {
  "seed-flow.json": 0,
  "batched-mirror.json": 0,
  "broken-driver.json": 1,
  "design-comparison.json": 0,
  "machines-sizes-designs.sweep.json": 0,
};

const files = readdirSync("examples").filter((f) => f.endsWith(".json")).sort();
const outDir = mkdtempSync(join(tmpdir(), "p2pdma-examples-"));

describe("examples", () => {
  it("every example has its expected exit status listed here", () => {
    expect(files).toEqual(Object.keys(EXIT).sort());
  });

  for (const file of files) {
    it(`${file} names its schema and exits ${EXIT[file]}`, { timeout: 30_000 }, () => {
      const path = join("examples", file);
      const spec = JSON.parse(readFileSync(path, "utf8")) as { $schema: string; description: string };
      const sweep = file.endsWith(".sweep.json");
      expect(spec.$schema).toBe(`../data/schema/${sweep ? "sweep" : "scenario"}.schema.json`);
      expect(existsSync(resolve(dirname(path), spec.$schema))).toBe(true);
      expect(spec.description.length).toBeGreaterThan(80);
      const r = spawnSync(process.execPath, ["dist/cli/main.js", sweep ? "sweep" : "run", path, "--json", ...(sweep ? [join(outDir, file)] : [])], { encoding: "utf8" });
      expect(r.stderr.startsWith("p2pdma-lab: ")).toBe(false);
      expect(r.status).toBe(EXIT[file]);
      if (!sweep) {
        const out = JSON.parse(r.stdout) as { steps: { ok: boolean; met?: boolean }[]; violations: unknown[] };
        expect(out.steps.every((s) => s.met === true), "every step has an expect, and meets it").toBe(true);
        expect(out.violations.length > 0).toBe(EXIT[file] === 1);
      }
    });
  }

  it("the seed flow's torn-down mapping fails as an IOMMU fault would, and the broken driver's DMA is a violation", () => {
    const seed = JSON.parse(spawnSync(process.execPath, ["dist/cli/main.js", "run", "examples/seed-flow.json", "--json"], { encoding: "utf8" }).stdout);
    expect(seed.steps[7]).toMatchObject({ op: "dma", ok: false, expected: "EFAULT", met: true });
    expect(seed.steps[5].result.values).toEqual(Array.from({ length: 16 }, (_, i) => i));
    const broken = JSON.parse(spawnSync(process.execPath, ["dist/cli/main.js", "run", "examples/broken-driver.json", "--json"], { encoding: "utf8" }).stdout);
    expect(broken.violations.map((v: { step: number; device: string }) => [v.step, v.device])).toEqual(Array.from({ length: 8 }, () => [5, "dmirror1"]));
  });
});
