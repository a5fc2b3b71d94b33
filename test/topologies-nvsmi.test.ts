// Checks the model against real machines: every topology in data/topologies that has a published
// `nvidia-smi topo -m` matrix (<machine>.nvsmi.txt) must give the published class for every pair, and
// selected pairs must get the Linux P2PDMA map type and distance computed by hand from the kernel rules.
// The matrix-name → PCI-address map of each machine is read from the table in <machine>.source.md.
// Machines are every topology file in the folder (kit JSON, lspci dump or hwloc XML) with a matrix.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildFabric, loadTopologyFile, pairMatrix, type DevicePair } from "../src/fabric/index.js";
import { Topology } from "../src/fabric/schema.js";
import { mappedPairs, parseNameMap, parseNvsmiTopo } from "./support/nvsmi.js";

const DIR = join(import.meta.dirname, "..", "data", "topologies");



function findPair(pairs: readonly DevicePair[], a: string, b: string): DevicePair {
  const p = pairs.find((q) => (q.a === a && q.b === b) || (q.a === b && q.b === a));
  if (!p) throw new Error(`model has no pair ${a} / ${b}`);
  return p;
}

const files = readdirSync(DIR).sort();
/** The topology file of a machine: <machine>.json, .lspci.txt or .hwloc.xml. */
function topologyFile(machine: string): string {
  const f = files.find((n) => n === `${machine}.json` || n === `${machine}.lspci.txt` || n === `${machine}.hwloc.xml`);
  if (!f) throw new Error(`${machine}: no topology file`);
  return join(DIR, f);
}

function pairsOf(machine: string): DevicePair[] {
  return pairMatrix(loadTopologyFile(topologyFile(machine))).pairs;
}

const jsonFiles = files.filter((f) => f.endsWith(".json"));
const withMatrix = files.filter((f) => f.endsWith(".nvsmi.txt")).map((f) => f.slice(0, -".nvsmi.txt".length));

describe("topology files", () => {
  it("the folder holds the machines with published matrices", () => {
    expect(withMatrix).toEqual(expect.arrayContaining(["asus-esc8000a-e12", "nvidia-dgx-1-v100", "nvidia-dgx-2h", "puget-threadripper-pro-wrx90"]));
  });

  for (const file of jsonFiles) {
    it(`${file} parses with the schema and builds a fabric`, () => {
      const raw: unknown = JSON.parse(readFileSync(join(DIR, file), "utf8"));
      const spec = Topology.parse(raw);
      expect(spec.$schema).toBe("../schema/topology.schema.json");
      expect(spec.source ?? "").not.toBe("");
      expect(() => buildFabric(spec)).not.toThrow();
    });
  }
});

describe("nvidia-smi topo -m: published class of every pair", () => {
  for (const machine of withMatrix) {
    it(`${machine}: every published pair class`, () => {
      const matrix = parseNvsmiTopo(readFileSync(join(DIR, `${machine}.nvsmi.txt`), "utf8"));
      const names = parseNameMap(readFileSync(join(DIR, `${machine}.source.md`), "utf8"));
      const published = mappedPairs(matrix, names);
      expect(published.length).toBeGreaterThan(0);
      const pairs = pairsOf(machine);
      const mismatches = published
        .map((p) => ({ p, got: findPair(pairs, p.a, p.b).class }))
        .filter(({ p, got }) => got !== p.class)
        .map(({ p, got }) => `${p.nameA}-${p.nameB} (${p.a}/${p.b}): published ${p.class}, model ${got}`);
      expect(mismatches).toEqual([]);
    });
  }
});

describe("Linux P2PDMA map type and distance (drivers/pci/p2pdma.c calc_map_type_and_dist)", () => {
  it("asus-esc8000a-e12: AMD EPYC family 0x19 takes every host-bridge path (p2pdma.md §3.1)", () => {
    const pairs = pairsOf("asus-esc8000a-e12");
    // GPU0 01:00.0 / GPU1 41:00.0: chains [01:00.0, 00:01.1] and [41:00.0, 40:01.1] share no device
    // → distance 2 + 2 = 4 → host-bridge gate; cpu_supports_p2pdma(): AMD family 0x19 >= 0x17 → THRU_HOST_BRIDGE.
    expect(findPair(pairs, "0000:01:00.0", "0000:41:00.0")).toMatchObject({ mapType: "THRU_HOST_BRIDGE", distance: 4 });
    // GPU0 01:00.0 / GPU2 c1:00.0 (nvidia-smi SYS, other socket): Linux has no NUMA notion (§6.2), same
    // gate → AMD Zen rule → THRU_HOST_BRIDGE, distance 2 + 2 = 4.
    expect(findPair(pairs, "0000:01:00.0", "0000:c1:00.0")).toMatchObject({ mapType: "THRU_HOST_BRIDGE", distance: 4 });
    // GPU0 01:00.0 / NIC0 21:00.0 (root buses 00 and 20): no common device → 4 → THRU_HOST_BRIDGE.
    expect(findPair(pairs, "0000:01:00.0", "0000:21:00.0")).toMatchObject({ mapType: "THRU_HOST_BRIDGE", distance: 4 });
    // NIC0 21:00.0 / NIC1 21:00.1: common upstream = root port 20:03.1 (i = 1, j = 1) → distance 2; ACS
    // checked on 21:00.0, 20:03.1, 21:00.1: none has RR/CR/EC in ACS Control → BUS_ADDR (§2.1 step 5).
    expect(findPair(pairs, "0000:21:00.0", "0000:21:00.1")).toMatchObject({ mapType: "BUS_ADDR", distance: 2 });
    // NIC2 81:00.0 / GPU3 e1:00.0: socket 1, root buses 80 and e0 → 4 → THRU_HOST_BRIDGE.
    expect(findPair(pairs, "0000:81:00.0", "0000:e1:00.0")).toMatchObject({ mapType: "THRU_HOST_BRIDGE", distance: 4 });
  });

  it("intel-z370-two-gtx1080ti: Intel host bridge 8086:591f is not whitelisted (p2pdma.md §3.6)", () => {
    const pairs = pairsOf("intel-z370-two-gtx1080ti");
    // GPU 01:00.0 / GPU 02:00.0: chains [01:00.0, 00:01.0] and [02:00.0, 00:01.1] share no device →
    // distance 2 + 2 = 4 → gate, same host bridge; cpu_supports_p2pdma() false (Intel);
    // pci_host_bridge_dev() = 00:00.0 (devfn 00.0) = 8086:591f, not in pci_p2pdma_whitelist → NOT_SUPPORTED.
    // The kernel computes 4, but the pair output gives -1 for a NOT_SUPPORTED pair (DESIGN.md §4,
    // as pci_p2pdma_distance() returns -1).
    const p = findPair(pairs, "0000:01:00.0", "0000:02:00.0");
    expect(p).toMatchObject({ mapType: "NOT_SUPPORTED", distance: -1 });
    // No matrix was published for this machine; by the classifier rule (p2pdma.md §6.3 step 5: two root
    // ports of one host bridge) the class is PHB.
    expect(p.class).toBe("PHB");
  });
});
