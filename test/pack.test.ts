// The published package works in someone else's project: `npm pack` the built kit (dist/ from
// `npm run build`, which `npm test` runs first), install the tarball into a fresh folder, import
// it, and run the CLI on the examples it ships (a scenario, and a sweep in worker threads). The
// package's self-link ("p2pdma-lab": "file:.", for the notebooks) must stay a dev dependency.
// Uses the npm cache first (--prefer-offline); the npm registry is reachable for what is missing.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const npm = process.platform === "win32" ? "npm.cmd" : "npm";

describe("the packed package", () => {
  it("keeps the self-link out of the runtime dependencies and ships dist, data and examples", () => {
    const pkg = JSON.parse(readFileSync("package.json", "utf8"));
    expect(pkg.dependencies["p2pdma-lab"]).toBeUndefined();
    expect(pkg.devDependencies["p2pdma-lab"]).toBe("file:.");
    expect(pkg.files).toEqual(["dist", "data", "examples"]);
  });

  it("installs from its tarball into a fresh project, imports, and runs the CLI", { timeout: 180_000 }, () => {
    const root = mkdtempSync(join(tmpdir(), "p2pdma-pack-"));
    const packed = JSON.parse(execFileSync(npm, ["pack", "--ignore-scripts", "--json", "--pack-destination", root], { encoding: "utf8" })) as { filename: string; files: { path: string }[] }[];
    const shipped = packed[0].files.map((f) => f.path);
    for (const f of ["dist/index.js", "dist/index.d.ts", "dist/cli/main.js", "dist/sweep/worker.js", "data/schema/scenario.schema.json", "data/schema/sweep.schema.json", "data/calibration/default.json", "examples/seed-flow.json"]) {
      expect(shipped, f).toContain(f);
    }
    expect(shipped.some((f) => f.startsWith("src/") || f.startsWith("test/") || f.startsWith("notebooks/"))).toBe(false);

    const app = join(root, "app");
    mkdirSync(app);
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "app", version: "1.0.0", private: true, type: "module" }));
    execFileSync(npm, ["install", join(root, packed[0].filename), "--prefer-offline", "--no-audit", "--no-fund"], { cwd: app, stdio: "pipe" });
    const installed = JSON.parse(readFileSync(join(app, "node_modules", "p2pdma-lab", "package.json"), "utf8"));
    expect(installed.dependencies["p2pdma-lab"]).toBeUndefined();

    writeFileSync(join(app, "use.js"), [
      'import { runScenario, loadScenarioFile, resultOf, sweep, ERRNO_NAMES } from "p2pdma-lab";',
      'const { result } = runScenario(loadScenarioFile("node_modules/p2pdma-lab/examples/seed-flow.json"));',
      'const s = await sweep("node_modules/p2pdma-lab/examples/machines-sizes-designs.sweep.json", { workers: 1 });',
      'console.log(JSON.stringify({ values: resultOf(result, 5, "dma").values, rows: s.rows.length, passed: s.rows.every((r) => r.ok), efault: ERRNO_NAMES.includes("EFAULT") }));',
    ].join("\n"));
    const used = spawnSync(process.execPath, ["use.js"], { cwd: app, encoding: "utf8" });
    expect(used.stderr).toBe("");
    expect(JSON.parse(used.stdout)).toEqual({ values: Array.from({ length: 16 }, (_, i) => i), rows: 18, passed: true, efault: true });

    const npx = (...args: string[]) => spawnSync(npm, ["exec", "--offline", "--", "p2pdma-lab", ...args], { cwd: app, encoding: "utf8" });
    const run = npx("run", "node_modules/p2pdma-lab/examples/seed-flow.json");
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/ 7 dma\s+ok\s+failed as expected: EFAULT/);
    expect(npx("run", "node_modules/p2pdma-lab/examples/broken-driver.json").status).toBe(1);
    const sweepRun = npx("sweep", "node_modules/p2pdma-lab/examples/machines-sizes-designs.sweep.json", "--workers", "2");
    expect(sweepRun.status).toBe(0);
    expect(sweepRun.stdout.trimEnd().split("\n")).toHaveLength(19);
  });
});
