// Tests for `p2pdma-lab run` (src/cli/run.ts, DESIGN §4): exit 0 / 1 / 2, the JSON shape, the
// per-step listing, the trace file, and bad files naming file, field and value.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { bufferIo } from "../src/cli/io.js";
import { main } from "../src/cli/main.js";

/** `p2pdma-lab run FILE [--json] [--trace T]` in-process; returns the exit status. */
function runCommand(path: string, opts: { json: boolean; trace?: string }, io: ReturnType<typeof bufferIo>): Promise<number> {
  return main(["run", path, ...(opts.json ? ["--json"] : []), ...(opts.trace ? ["--trace", opts.trace] : [])], io);
}

const dir = mkdtempSync(join(tmpdir(), "p2pdma-run-"));
function file(name: string, content: string | Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}
const good = { topology: "dmirror", steps: [{ op: "mmap", buffer: "a", pages: 2 }, { op: "deviceRead", device: "dmirror0", buffer: "a" }] };

describe("p2pdma-lab run", () => {
  it("exits 0 and prints the JSON result", async () => {
    const io = bufferIo();
    expect(await runCommand(file("ok.json", JSON.stringify(good)), { json: true }, io)).toBe(0);
    const out = JSON.parse(io.stdout());
    expect(out.steps[1]).toEqual({ op: "deviceRead", ok: true, result: { cpages: 2, faults: 1, values: [0, 0] } });
    expect(Object.keys(out)).toEqual(["steps", "counters", "violations", "simTimeNs"]);
  });

  it("prints a per-step listing and writes a Chrome trace with a track of the steps", async () => {
    const io = bufferIo();
    const trace = join(dir, "t.json");
    expect(await runCommand(file("ok2.json", JSON.stringify(good)), { json: false, trace }, io)).toBe(0);
    expect(io.stdout()).toMatch(/ 1 deviceRead\s+ok\s+cpages=2 faults=1/);
    const t = JSON.parse(readFileSync(trace, "utf8"));
    const steps = t.traceEvents.find((e: { ph: string; args?: { name?: string } }) => e.ph === "M" && e.args?.name === "steps");
    expect(t.traceEvents.filter((e: { tid: number; ph: string }) => e.ph === "X" && e.tid === steps.tid).map((e: { name: string }) => e.name)).toEqual(["mmap", "deviceRead"]);
  });

  it("exits 1 when a step fails", async () => {
    const s = { topology: "dmirror", steps: [{ op: "mmap", buffer: "a", pages: 1, prot: "r" }, { op: "deviceWrite", device: "dmirror0", buffer: "a", value: 1 }] };
    const io = bufferIo();
    expect(await runCommand(file("fail.json", JSON.stringify(s)), { json: true }, io)).toBe(1);
    expect(JSON.parse(io.stdout()).steps[1].error).toMatch(/^EPERM: /);
  });

  const cases: [string, string | Uint8Array, RegExp][] = [
    ["wrongtype.json", JSON.stringify({ topology: "dmirror", steps: [{ op: "mmap", buffer: "a", pages: -1 }] }), /steps\[0\]\.pages.*value: -1/],
    ["unknownop.json", JSON.stringify({ topology: "dmirror", steps: [{ op: "teleport" }] }), /steps\[0\]\.op: unknown op.*"teleport"/],
    ["unknownfield.json", JSON.stringify({ topology: "dmirror", steps: [{ op: "mmap", buffer: "a", pages: 1, colour: "red" }] }), /steps\[0\]\.colour: unknown field.*"red"/],
    ["truncated.json", '{"topology": "dmirror", "steps": [{"op": "mm', /truncated\.json: line 1 column \d+: JSON syntax error: unterminated string \(truncated JSON/],
    ["binary.json", new Uint8Array([0x7b, 0, 1, 2, 0xff]), /binary\.json: file: is binary/],
    ["badtopo.json", JSON.stringify({ topology: "nosuch", steps: [] }), /nosuch/],
  ];
  for (const [name, content, msg] of cases) {
    it(`exits 2 on a bad file (${name}) naming file, field and value`, async () => {
      const io = bufferIo();
      const p = file(name, content);
      expect(await runCommand(p, { json: true }, io)).toBe(2);
      expect(io.stderr()).toMatch(msg);
      expect(io.stdout()).toBe("");
    });
  }

  // The binary writes --json as bytes straight to standard output (cli/io.ts processIo.outBytes).
  const big = { topology: "dmirror", steps: [{ op: "mmap", buffer: "a", pages: 200_000 }, { op: "cpuWrite", buffer: "a", value: "index" }, { op: "migrateToDevice", device: "dmirror0", buffer: "a" }] };

  it("prints through a pipe what it prints in-process, byte for byte (the built binary)", async () => {
    const p = file("big.json", JSON.stringify(big));
    const io = bufferIo();
    expect(await runCommand(p, { json: true }, io)).toBe(0);
    const r = spawnSync(process.execPath, ["dist/cli/main.js", "run", p, "--json"], { encoding: "utf8", maxBuffer: 1 << 26 });
    expect(r.status).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout.length).toBeGreaterThan(1 << 20);
    expect(r.stdout).toBe(io.stdout());
  });

  it("waits for a reader that is slow to start, and prints all of it", async () => {
    const p = file("big3.json", JSON.stringify(big));
    const io = bufferIo();
    expect(await runCommand(p, { json: true }, io)).toBe(0);
    const r = spawnSync("bash", ["-c", `"${process.execPath}" dist/cli/main.js run "${p}" --json | (sleep 1; cat)`], { encoding: "utf8", maxBuffer: 1 << 26 });
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(io.stdout());
  });

  it("ends quietly with status 0 when the reader goes away (`run --json | head`)", () => {
    const p = file("big2.json", JSON.stringify(big));
    const r = spawnSync("bash", ["-c", `"${process.execPath}" dist/cli/main.js run "${p}" --json | head -c 20; echo " status=\${PIPESTATUS[0]}"`], { encoding: "utf8" });
    expect(r.stdout).toBe('{"steps":[{"op":"mma status=0\n');
    expect(r.stderr).toBe("");
  });
});
