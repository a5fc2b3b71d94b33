// `p2pdma-lab explore` from outside (DESIGN §4 exit statuses): a broken driver gives exit 1, the
// shrunk scenario on stdout (which `run` replays to the same violations) and a Perfetto trace; a
// correct driver module (examples/drivers/mirror.ts, a .ts file compiled on load) gives exit 0 and
// the interleavings explored; bad input gives exit 2 naming the option or field; the binary runs
// its batches in worker threads.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { bufferIo } from "../src/cli/io.js";
import { main } from "../src/cli/main.js";

const FULL = "data/topologies/p2p-three-devices-full-bar.json";
const dir = mkdtempSync(join(tmpdir(), "p2pdma-explore-"));

async function cli(...args: string[]) {
  const io = bufferIo();
  const code = await main(args, io);
  return { code, out: io.stdout(), err: io.stderr() };
}

describe("p2pdma-lab explore", () => {
  it("exit 1 on a race: the shrunk scenario on stdout replays the same violations; the timeline is a trace file", async () => {
    const trace = join(dir, "race.trace.json");
    const r = await cli("explore", "--driver", "odp-no-seq-recheck", "--topology", FULL, "--workers", "0", "--trace", trace);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/driver odp-no-seq-recheck on nic0: a violation after \d+ runs .* shrunk to \d+ steps; replayed twice: the same result/);
    expect(r.err).toMatch(/step \d+: nic0 at 0x[0-9a-f]+: DMA (read|write) by bus address/);
    const scenario = JSON.parse(r.out);
    expect(scenario.drivers).toEqual({ nic0: "odp-no-seq-recheck" });
    expect(scenario.topology).toBe(resolve(FULL));
    const file = join(dir, "race.json");
    writeFileSync(file, r.out);
    const again = await cli("run", file, "--json");
    expect(again.code).toBe(1);
    const replay = JSON.parse(again.out);
    expect(replay.violations.length).toBeGreaterThan(0);
    expect(r.err).toContain(replay.violations[0].reason);
    const events = JSON.parse(readFileSync(trace, "utf8")).traceEvents as { name: string }[];
    expect(events.some((e) => e.name === "peerMap")).toBe(true);
  }, 120_000);

  it("exit 0 for a correct driver module: the interleavings explored and the distinct states", async () => {
    const r = await cli("explore", "--driver", "examples/drivers/mirror.ts", "--topology", FULL, "--runs", "1500", "--workers", "0");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^explored 1500 interleavings \(\d+ systematic, \d+ random\) of driver .*examples\/drivers\/mirror\.ts on nic0 in [\d.]+ s with 0 workers: \d+ distinct states, no violation\n$/);
  }, 120_000);

  it("explores a real machine whose GPU memory an overlay makes device-private; the printed scenario carries the overlay", async () => {
    const overlay = join(dir, "gpus.json");
    writeFileSync(overlay, JSON.stringify({ devices: { "01:00.0": { zoneDevice: "private" } } }));
    const r = await cli("explore", "--driver", "odp-no-fence-wait", "--topology", "data/topologies/asus-esc8000a-e12.json", "--overlay", overlay, "--runs", "2000", "--workers", "0");
    expect(r.code).toBe(1);
    const scenario = JSON.parse(r.out);
    expect(scenario.topologyOverlay).toEqual({ devices: { "01:00.0": { zoneDevice: "private" } } });
    // The ConnectX-7 on the same socket is the client; the GPU on root bus 00 the owner (THRU_HOST_BRIDGE, no IOMMU: a CPU address).
    expect(scenario.drivers).toEqual({ "0000:21:00.0": "odp-no-fence-wait" });
    expect(r.err).toMatch(/DMA (read|write) by address 0x3f0000[0-9a-f]+: /);
    const file = join(dir, "asus-race.json");
    writeFileSync(file, r.out);
    expect((await cli("run", file)).code).toBe(1);
    const none = await cli("explore", "--driver", "odp", "--topology", "data/topologies/asus-esc8000a-e12.json", "--workers", "0", "--runs", "10");
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/no device-private memory/);
  }, 120_000);

  it("exit 2 for bad input, naming the option or field and value", async () => {
    const w = join(dir, "w.json");
    writeFileSync(w, JSON.stringify({ events: ["dmaRead", "teleport"] }));
    for (const [args, message] of [
      [["--driver", "odp", "--topology", "no-such-machine"], /topology.*no-such-machine/],
      [["--driver", "odp", "--topology", FULL, "--workload", w], /events.*teleport/],
      [["--driver", "odp", "--topology", FULL, "--workers", "two"], /--workers.*two/],
      [["--driver", "nosuch.ts", "--topology", FULL], /no such driver module/],
      [["--topology", FULL], /--driver/],
    ] as [string[], RegExp][]) {
      const r = await cli("explore", ...args);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.err).toMatch(message);
    }
  });

  it("the binary explores in worker threads, with --json", () => {
    const r = spawnSync(process.execPath, ["dist/cli/main.js", "explore", "--driver", "odp", "--topology", FULL, "--runs", "600", "--workers", "2", "--json"], { encoding: "utf8" });
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ driver: "odp", client: "nic0", runs: 600, workers: 2 });
    expect(report.finding).toBeUndefined();
  }, 120_000);
});
