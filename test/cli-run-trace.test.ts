// Tests for `p2pdma-lab run --trace FILE` (src/cli/run.ts + sim/trace.ts): the Chrome trace event
// format Perfetto opens: metadata naming one thread per device and per link direction, every
// operation a complete ("X") event with a real duration, and the same bytes for the same run.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { bufferIo } from "../src/cli/io.js";
import { main } from "../src/cli/main.js";

interface Ev { name: string; ph: string; pid: number; tid: number; ts?: number; dur?: number; args?: Record<string, unknown> }

const dir = mkdtempSync(join(tmpdir(), "p2pdma-trace-"));
const scenario = join(dir, "s.json");
writeFileSync(scenario, JSON.stringify({
  topology: "dmirror",
  steps: [
    { op: "mmap", buffer: "a", pages: 64 },
    { op: "cpuWrite", buffer: "a", value: 1 },
    { op: "migrateToDevice", device: "dmirror0", buffer: "a" },
    { op: "cpuRead", buffer: "a", count: 1 },
    { op: "transfer", from: "dmirror0", to: "dmirror1", bytes: "1MiB", design: "p2p" },
    { op: "transfer", from: "dmirror0", to: "dmirror1", bytes: "1MiB", design: "bounce" },
  ],
}));

async function run(trace: string): Promise<{ code: number; out: { counters: { bytesMoved: Record<string, number>; stepTimesNs: number[] }; simTimeNs: number } }> {
  const io = bufferIo();
  const code = await main(["run", scenario, "--json", "--trace", trace], io);
  return { code, out: JSON.parse(io.stdout()) };
}

describe("p2pdma-lab run --trace", () => {
  it("writes one track per device and per link direction, with every operation a complete event", async () => {
    const file = join(dir, "t.json");
    const { code, out } = await run(file);
    expect(code).toBe(0);
    const t = JSON.parse(readFileSync(file, "utf8")) as { traceEvents: Ev[]; displayTimeUnit: string };
    const meta = t.traceEvents.filter((e) => e.ph === "M");
    const threads = new Map(meta.filter((e) => e.name === "thread_name").map((e) => [e.tid, e.args!.name as string]));
    const names = [...threads.values()];
    expect(new Set(names).size).toBe(names.length); // one thread per track
    for (const d of ["cpu", "dmirror0", "dmirror1"]) expect(names).toContain(d);
    // Every link that moved bytes has its tracks; the bounce leg crosses the root port up and down.
    for (const link of Object.keys(out.counters.bytesMoved)) expect(names.some((n) => n.startsWith(`${link} `))).toBe(true);
    expect(names).toEqual(expect.arrayContaining(["pcie:rp0-sw0-up up", "pcie:rp0-sw0-up down"]));
    const pids = new Set(meta.filter((e) => e.name === "process_name").map((e) => e.pid));
    const events = t.traceEvents.filter((e) => e.ph === "X");
    expect(events.length).toBeGreaterThan(20);
    for (const e of events) {
      expect(pids.has(e.pid)).toBe(true);
      expect(threads.has(e.tid)).toBe(true);
      expect(e.ts).toBeGreaterThanOrEqual(0);
      expect(e.dur).toBeGreaterThanOrEqual(0);
      expect(e.ts! + e.dur!).toBeLessThanOrEqual(out.simTimeNs / 1000 + 1e-6);
    }
    // The steps track spans the run: its events' durations are the step times (µs in the trace).
    const stepTid = [...threads].find(([, n]) => n === "steps")![0];
    const steps = events.filter((e) => e.tid === stepTid);
    expect(steps.map((e) => e.name)).toEqual(["mmap", "cpuWrite", "migrateToDevice", "cpuRead", "transfer", "transfer"]);
    steps.forEach((e, i) => expect(e.dur! * 1000).toBeCloseTo(out.counters.stepTimesNs[i], 3));
    const migrate = events.filter((e) => threads.get(e.tid) === "dmirror0").map((e) => e.name);
    expect(migrate).toEqual(expect.arrayContaining(["migrate_vma_setup", "migrate copy", "migrate_vma_finalize"]));
  });

  it("writes the same trace for the same run", async () => {
    const a = join(dir, "a.json"), b = join(dir, "b.json");
    await run(a);
    await run(b);
    expect(readFileSync(a, "utf8")).toBe(readFileSync(b, "utf8"));
  });
});
