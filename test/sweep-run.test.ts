// Tests for sweeps in worker threads, through the built package (dist/: the worker threads load
// dist/sweep/worker.js) and the `p2pdma-lab sweep` command: the 18-point example gives the same
// CSV bytes with 1 or 2 workers, in this thread, and as two merged shards; exit statuses; progress.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadSweepFile } from "../src/sweep/plan.js";
import { sweepCsv } from "../src/sweep/output.js";
import { runSweep } from "../src/sweep/run.js";

const EXAMPLE = "examples/machines-sizes-designs.sweep.json";
const dir = mkdtempSync(join(tmpdir(), "p2pdma-sweep-run-"));
const out = (name: string) => join(dir, name);

function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ["dist/cli/main.js", ...args], { encoding: "utf8" });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("p2pdma-lab sweep", () => {
  it("gives the same CSV with 1 or 2 workers, in one thread, and as two merged shards", { timeout: 60_000 }, async () => {
    const one = cli("sweep", EXAMPLE, "--workers", "1", "--csv", out("w1.csv"), "--json", out("w1.json"));
    expect(one.stderr).toBe("p2pdma-lab sweep: 18 points in " + one.stderr.split(" in ")[1]);
    expect(one.stderr).toMatch(/18 passed, 0 failed\n$/);
    expect(one.status).toBe(0);
    expect(cli("sweep", EXAMPLE, "--workers", "2", "--csv", out("w2.csv")).status).toBe(0);
    expect(cli("sweep", EXAMPLE, "--shard", "1/2", "--workers", "2", "--json", out("s1.json")).status).toBe(0);
    expect(cli("sweep", EXAMPLE, "--shard", "2/2", "--workers", "1", "--json", out("s2.json")).status).toBe(0);
    const merged = cli("sweep", "merge", out("s2.json"), out("s1.json"), "--csv", out("m.csv"), "--json", out("m.json"));
    expect(merged.status).toBe(0);
    expect(merged.stderr).toBe("p2pdma-lab sweep merge: 2 shards, 18 points: 18 passed, 0 failed\n");

    const csv = readFileSync(out("w1.csv"), "utf8");
    const lines = csv.trimEnd().split("\n");
    expect(lines).toHaveLength(19);
    expect(lines[0]).toBe("machine,size,design,gbps,ns,switchUplinkBytes,ok,error");
    expect(lines[1]).toMatch(/^pcie-gen3-host,64KiB,p2p,\d+\.\d+,\d+(\.\d+)?,,true,$/);
    expect(lines[18]).toMatch(/^pcie-gen5-host,64MiB,migrate,/);
    expect(readFileSync(out("w2.csv"), "utf8")).toBe(csv);
    expect(readFileSync(out("m.csv"), "utf8")).toBe(csv);
    expect(readFileSync(out("m.json"), "utf8")).toBe(readFileSync(out("w1.json"), "utf8"));
    expect(JSON.parse(readFileSync(out("s1.json"), "utf8")).rows.map((r: { index: number }) => r.index)).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16]);
    // The same rows when the points run in this thread, from the sources.
    expect(sweepCsv(await runSweep(loadSweepFile(EXAMPLE), { workers: 0 }))).toBe(csv);
    // Gen5 moves 64 MiB P2P faster than Gen3 (twice the lanes' rate): the cells are the model's numbers.
    const gbps = (machine: string) => Number(lines.find((l) => l.startsWith(`${machine},64MiB,p2p,`))!.split(",")[3]);
    expect(gbps("pcie-gen5-host")).toBeGreaterThan(1.5 * gbps("pcie-gen3-host"));
  });

  it("exits 1 when a point failed, still writing its row; 2 on a bad sweep file, naming it", () => {
    const sweep = {
      scenario: { topology: "dmirror", steps: [{ op: "mmap", buffer: "a", pages: 1, prot: "${prot}" }, { op: "cpuRead", buffer: "a" }] },
      grid: { prot: ["r", "none"] },
      metrics: { faults: "counters.faults" },
    };
    writeFileSync(out("fail.json"), JSON.stringify(sweep));
    const r = cli("sweep", out("fail.json"), "--workers", "1");
    expect(r.status).toBe(1);
    expect(r.stdout.split("\n").slice(0, 3)).toEqual(["prot,faults,ok,error", "r,1,true,", expect.stringMatching(/^none,\d+,false,steps\[1\] \(cpuRead\): EFAULT: CPU read of page 0/)]);
    expect(r.stderr).toMatch(/1 passed, 1 failed \(first: point 1: steps\[1\] \(cpuRead\): EFAULT/);

    writeFileSync(out("bad.json"), JSON.stringify({ ...sweep, metrics: { faults: "counter.faults" } }));
    const bad = cli("sweep", out("bad.json"));
    expect(bad.status).toBe(2);
    expect(bad.stderr).toBe(`p2pdma-lab: ${out("bad.json")}: metrics.faults: a metric path starts with one of the run result's fields: steps, counters, violations, simTimeNs (value: "counter.faults")\n`);
    writeFileSync(out("syntax.json"), "{ \"grid\": ");
    expect(cli("sweep", out("syntax.json")).stderr).toMatch(/syntax\.json: line 1 column \d+: .*JSON syntax error/);
  });

  it("warns when a metric is empty in every point that passed (a misspelt path below `result`)", () => {
    writeFileSync(out("typo.json"), JSON.stringify({
      scenario: { topology: "dmirror", steps: [{ op: "transfer", from: "dmirror0", to: "dmirror1", bytes: "${b}", design: "p2p" }] },
      grid: { b: [4096] }, metrics: { gbps: "steps.0.result.gpbs" },
    }));
    const r = cli("sweep", out("typo.json"), "--workers", "0");
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/warning: metric "gbps" is empty in every point that passed/);
  });
});

describe("sweep() from the built package", () => {
  it("runs in a pool of worker threads, reports progress per point, and gives the in-thread rows", { timeout: 60_000 }, async () => {
    const kit = await import("../dist/index.js");
    const seen: number[] = [];
    const pooled = await kit.sweep(EXAMPLE, { workers: 2, onProgress: (p) => seen.push(p.done) });
    expect(seen).toEqual(Array.from({ length: 18 }, (_, i) => i + 1));
    const inThread = await kit.sweep(EXAMPLE, { workers: 0 });
    expect(pooled.rows).toEqual(inThread.rows);
    expect(pooled.rows.filter((r) => r.design === "bounce").every((r) => (r.switchUplinkBytes as number) > 0)).toBe(true);
  });
});
