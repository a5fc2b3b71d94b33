// Runs every notebook headless with the real tslab kernel (scripts/run-notebooks.js), into a
// temporary folder, and checks each one ran clean and wrote its figures (DESIGN §6).
import { describe, expect, it } from "vitest";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

// One notebook per source in notebooks/src (the cells as plain text).
const notebooks = readdirSync("notebooks/src").filter((f) => f.endsWith(".py")).sort().map((f) => f.replace(/\.py$/, ".ipynb"));

describe("notebooks", () => {
  it("has notebooks to run", () => {
    expect(notebooks.length).toBeGreaterThan(0);
  });

  it("every notebook runs headless without a failing cell and saves SVG and PNG figures", { timeout: 600_000 }, () => {
    const out = mkdtempSync(join(tmpdir(), "p2pdma-notebooks-"));
    const started = Date.now();
    const r = spawnSync(process.execPath, ["scripts/run-notebooks.js", "--out", out], { encoding: "utf8" });
    const seconds = (Date.now() - started) / 1000;
    expect(r.stderr + r.stdout).not.toMatch(/FAIL notebook/);
    expect(r.status).toBe(0);
    const figures = readdirSync(join(out, "figures"));
    for (const nb of notebooks) {
      const prefix = nb.slice(0, 2); // figures of notebook "01-fabric.ipynb" are named "01-..."
      const svgs = figures.filter((f) => f.startsWith(prefix) && f.endsWith(".svg"));
      expect(svgs.length, `${nb} wrote no figure`).toBeGreaterThan(0);
      for (const svg of svgs) expect(figures).toContain(svg.replace(/\.svg$/, ".png"));
      const executed = JSON.parse(readFileSync(join(out, nb), "utf8")) as { cells: { cell_type: string; execution_count: number | null }[] };
      const code = executed.cells.filter((c) => c.cell_type === "code");
      expect(code.every((c) => c.execution_count !== null), `${nb}: a code cell did not run`).toBe(true);
    }
    console.log(`notebook suite: ${notebooks.length} notebooks in ${seconds.toFixed(1)} s`);
  });
});
