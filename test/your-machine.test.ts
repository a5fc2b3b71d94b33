// "On my machine, which P2P design wins?": the seed flow of DESIGN §1 (a buffer in RAM, migrated to a
// GPU, peer-mapped by a NIC, DMA, then a CPU touch that tears the peer mapping down) run through the
// CLI (`p2pdma-lab run FILE --json`) on machines read from raw dumps, as a user would: a real
// 2-socket server's `lspci -tv` + `lspci -vvv` (ASUS ESC8000A-E12, 2x EPYC 9374F: the GPU memory is
// the import's assumption, the peer mapping goes THRU_HOST_BRIDGE by cpu_supports_p2pdma()), the
// DGX-2H hwloc export (BUS_ADDR through a PLX switch), an hwloc export with a NIC, and a desktop
// whose host bridge is not whitelisted (NOT_SUPPORTED: the migrate fallback), the last two made
// ready by a scenario `topologyOverlay`. Each run must exit 0 with no violation.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bufferIo } from "../src/cli/io.js";
import { main } from "../src/cli/main.js";
import { pairMatrix } from "../src/fabric/pairs.js";
import { loadTopologyFile } from "../src/fabric/load.js";
import { mappedPairs, parseNameMap, parseNvsmiTopo } from "./support/nvsmi.js";

const DATA = join(import.meta.dirname, "..", "data", "topologies");
const FIX = join(import.meta.dirname, "fixtures", "import");
const dir = mkdtempSync(join(tmpdir(), "p2pdma-machine-"));
const PAGES = 16;

const saved = process.env.P2PDMA_LAB_PCI_IDS;
beforeAll(() => { process.env.P2PDMA_LAB_PCI_IDS = "none"; });
afterAll(() => { if (saved === undefined) delete process.env.P2PDMA_LAB_PCI_IDS; else process.env.P2PDMA_LAB_PCI_IDS = saved; });

/** The seed flow on `topology`: migrate to `gpu`, peer-map and DMA by `client`, then the CPU reads. */
function seedScenario(topology: string, gpu: string, client: string, extra: Record<string, unknown> = {}) {
  return {
    topology, seed: 1, ...extra,
    steps: [
      { op: "mmap", buffer: "a", pages: PAGES },
      { op: "cpuWrite", buffer: "a", value: "index" },
      { op: "migrateToDevice", device: gpu, buffer: "a" },
      { op: "peerMap", device: client, buffer: "a" },
      { op: "dma", device: client, buffer: "a" },
      { op: "cpuRead", buffer: "a" },
    ],
  };
}

interface RunJson {
  steps: { op: string; ok: boolean; result?: Record<string, unknown>; error?: string }[];
  counters: Record<string, number>;
  violations: unknown[];
}

async function runCli(name: string, scenario: object): Promise<{ status: number; run: RunJson; err: string }> {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(scenario));
  const io = bufferIo();
  const status = await main(["run", file, "--json"], io);
  return { status, run: JSON.parse(io.stdout() || "null") as RunJson, err: io.stderr() };
}

/** What every seed run shows: each step ok, the values survive the round trip; when the NIC mapped
 *  the GPU's BAR, the CPU touch tears the mapping down (the fallback maps RAM: nothing to tear down). */
function expectSeedFlow(run: RunJson, viaBar = true): void {
  const index = Array.from({ length: PAGES }, (_, i) => i);
  expect(run.steps.map((s) => [s.op, s.ok])).toEqual([["mmap", true], ["cpuWrite", true], ["migrateToDevice", true], ["peerMap", true], ["dma", true], ["cpuRead", true]]);
  expect(run.steps[2].result).toMatchObject({ cpages: PAGES });
  expect(run.steps[4].result?.values).toEqual(index);
  expect(run.steps[5].result?.values).toEqual(index);
  expect(run.violations).toEqual([]);
  // The CPU read faults the GPU's pages back (migrate_to_ram); the notifier drops the NIC's mappings first.
  expect(run.counters.peerUnmapsByInvalidation).toBe(viaBar ? run.counters.peerMaps : 0);
}

describe("your own machine: the seed flow on imported dumps, through the CLI", () => {
  it("a raw lspci -tv + lspci -vvv dump of a 2-socket EPYC server: THRU_HOST_BRIDGE (cpu_supports_p2pdma, AMD family 0x19)", async () => {
    const { status, run, err } = await runCli("asus.json", seedScenario(join(DATA, "asus-esc8000a-e12-dump.lspci.txt"), "c1:00.0", "81:00.0"));
    expect(err).toBe("");
    expect(status).toBe(0);
    expectSeedFlow(run);
    expect(run.steps[3].result).toMatchObject({ cpages: PAGES, paths: { BUS_ADDR: 0, THRU_HOST_BRIDGE: PAGES, SYSTEM: 0 } });
    // The same from the other socket's NIC: still THRU_HOST_BRIDGE (Linux has no NUMA notion, p2pdma.md §6.2).
    const far = await runCli("asus-far.json", seedScenario(join(DATA, "asus-esc8000a-e12-dump.lspci.txt"), "c1:00.0", "21:00.0"));
    expect(far.status).toBe(0);
    expect(far.run.steps[3].result).toMatchObject({ paths: { THRU_HOST_BRIDGE: PAGES } });
  });

  it("the DGX-2H hwloc export: a GPU peer-maps another GPU's memory by bus address through their PLX switch", async () => {
    // The export lists no NIC: the client is the GPU below the same switch (GPUDirect P2P between GPUs).
    const { status, run } = await runCli("dgx.json", seedScenario(join(DATA, "nvidia-dgx-2h.hwloc.xml"), "36:00.0", "34:00.0"));
    expect(status).toBe(0);
    expectSeedFlow(run);
    expect(run.steps[3].result).toMatchObject({ paths: { BUS_ADDR: PAGES, THRU_HOST_BRIDGE: 0, SYSTEM: 0 } });
  });

  it("an hwloc export with a NIC, its GPU's memory set by an overlay file: THRU_HOST_BRIDGE across host bridges", async () => {
    const overlay = join(dir, "gpu-overlay.json");
    writeFileSync(overlay, JSON.stringify({ devices: { "0000:41:00.0": { memory: "1GiB" } } }));
    const { status, run } = await runCli("hwloc-nic.json", seedScenario(join(FIX, "hwloc-v2.xml"), "0000:41:00.0", "0001:c1:00.0", { topologyOverlay: "gpu-overlay.json" }));
    expect(status).toBe(0);
    expectSeedFlow(run);
    expect(run.steps[3].result).toMatchObject({ paths: { THRU_HOST_BRIDGE: PAGES } });
  });

  it("a host bridge not in the P2PDMA whitelist: NOT_SUPPORTED, the peer mapping falls back to migrating to RAM", async () => {
    // The desktop's JSON states no ZONE_DEVICE memory: an inline overlay gives GPU 01:00.0 private pages.
    const overlay = { devices: { "01:00.0": { zoneDevice: "private" } } };
    const { status, run } = await runCli("z370.json", seedScenario(join(DATA, "intel-z370-two-gtx1080ti.json"), "01:00.0", "02:00.0", { topologyOverlay: overlay }));
    expect(status).toBe(0);
    expectSeedFlow(run, false);
    expect(run.counters.migrations).toBe(2 * PAGES); // to the GPU, and back to RAM by the fallback
    expect(run.steps[3].result).toMatchObject({ paths: { BUS_ADDR: 0, THRU_HOST_BRIDGE: 0, SYSTEM: PAGES } });
  });

  it("without the assumption the GPU has no ZONE_DEVICE memory: an overlay taking it away makes the migration fail, naming the device", async () => {
    const overlay = { devices: { "c1:00.0": { zoneDevice: "none" } } };
    const { status, run } = await runCli("asus-none.json", seedScenario(join(DATA, "asus-esc8000a-e12-dump.lspci.txt"), "c1:00.0", "81:00.0", { topologyOverlay: overlay }));
    expect(status).toBe(1);
    expect(run.steps[2]).toMatchObject({ op: "migrateToDevice", ok: false });
    expect(run.steps[2].error).toContain("c1:00.0");
  });

  it("a bad overlay in a scenario is bad input (exit 2) naming the scenario field", async () => {
    const file = join(dir, "bad-overlay.json");
    writeFileSync(file, JSON.stringify(seedScenario(join(DATA, "asus-esc8000a-e12-dump.lspci.txt"), "c1:00.0", "81:00.0", { topologyOverlay: { devices: { "c9:00.0": { memory: 1 } } } })));
    const io = bufferIo();
    expect(await main(["run", file, "--json"], io)).toBe(2);
    expect(io.stderr()).toContain('topologyOverlay: devices["c9:00.0"]: no device with this id or PCI address');
  });
});

describe("the imported 2-socket dump agrees with the machine's published nvidia-smi topo -m", () => {
  it("every published pair class, from the raw dump rather than the hand-written JSON", () => {
    const matrix = parseNvsmiTopo(readFileSync(join(DATA, "asus-esc8000a-e12.nvsmi.txt"), "utf8"));
    const names = parseNameMap(readFileSync(join(DATA, "asus-esc8000a-e12.source.md"), "utf8"));
    const published = mappedPairs(matrix, names);
    expect(published.length).toBe(28);
    const pairs = pairMatrix(loadTopologyFile(join(DATA, "asus-esc8000a-e12-dump.lspci.txt"))).pairs;
    const got = (a: string, b: string) => pairs.find((p) => (p.a === a && p.b === b) || (p.a === b && p.b === a))?.class;
    expect(published.filter((p) => got(p.a, p.b) !== p.class).map((p) => `${p.nameA}-${p.nameB}: ${p.class} vs ${got(p.a, p.b)}`)).toEqual([]);
  });
});
