// Checks the model against real machines: every topology in data/topologies that has a published
// `nvidia-smi topo -m` matrix (<machine>.nvsmi.txt) must give the published class for every pair, and
// selected pairs must get the Linux P2PDMA map type and distance computed by hand from the kernel rules.
// The matrix-name → PCI-address map of each machine is read from the table in <machine>.source.md.
// The nvidia-smi text parser below is local to this file (test/support/nvsmi.ts did not exist yet).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildFabric, loadTopologyFile, pairMatrix } from "../src/fabric/index.js";
import { Topology } from "../src/fabric/schema.js";

const DIR = join(import.meta.dirname, "..", "data", "topologies");

interface NvsmiMatrix {
  names: string[];
  /** cls[i][j]: the class nvidia-smi printed in row names[i], column names[j]. */
  cls: string[][];
}

/** Parses the device block of `nvidia-smi topo -m`: the header row of device names (up to the
 *  "CPU Affinity" columns), then one row per device; stops at the first blank line. */
function parseNvsmi(text: string): NvsmiMatrix {
  const lines = text.split("\n");
  const head = lines.findIndex((l) => /^\s+\S/.test(l) && /\b(GPU|NIC|mlx5_)\w*/.test(l));
  if (head < 0) throw new Error("no nvidia-smi header row");
  const headerTokens = lines[head].trim().split(/\s+/);
  const stop = headerTokens.findIndex((t) => t === "CPU" || t === "NUMA");
  const names = stop < 0 ? headerTokens : headerTokens.slice(0, stop);
  const cls: string[][] = [];
  for (let i = 0; i < names.length; i++) {
    const row = lines[head + 1 + i]?.trim().split(/\s+/) ?? [];
    if (row[0] !== names[i]) throw new Error(`row ${i + 1} is ${row[0]}, expected ${names[i]}`);
    cls.push(row.slice(1, 1 + names.length));
  }
  return { names, cls };
}

/** Reads "| GPU0 | 0000:01:00.0 |" rows (the first cell may carry a suffix such as "(mlx5_0)"). */
function matrixNameMap(sourceMd: string): Map<string, string> {
  const map = new Map<string, string>();
  const row = /^\|\s*([A-Za-z]+\d+)(?:\s*\([^)]*\))?\s*\|\s*([0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7])\s*\|/gim;
  for (const m of sourceMd.matchAll(row)) map.set(m[1], m[2].toLowerCase());
  return map;
}

interface Pair {
  a: string;
  b: string;
  class: string;
  mapType: string;
  distance: number;
}

function findPair(pairs: readonly Pair[], a: string, b: string): Pair {
  const p = pairs.find((q) => (q.a === a && q.b === b) || (q.a === b && q.b === a));
  if (!p) throw new Error(`model has no pair ${a} / ${b}`);
  return p;
}

async function pairsOf(machine: string): Promise<Pair[]> {
  const fabric = await loadTopologyFile(join(DIR, `${machine}.json`));
  return pairMatrix(fabric).pairs as Pair[];
}

const jsonFiles = readdirSync(DIR).filter((f) => f.endsWith(".json")).sort();
const withMatrix = jsonFiles
  .map((f) => f.slice(0, -".json".length))
  .filter((m) => readdirSync(DIR).includes(`${m}.nvsmi.txt`));

describe("topology files", () => {
  it("the folder holds the machines with published matrices", () => {
    expect(withMatrix).toContain("asus-esc8000a-e12");
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
    it(`${machine}: every published pair class`, async () => {
      const m = parseNvsmi(readFileSync(join(DIR, `${machine}.nvsmi.txt`), "utf8"));
      const names = matrixNameMap(readFileSync(join(DIR, `${machine}.source.md`), "utf8"));
      const pairs = await pairsOf(machine);
      const mismatches: string[] = [];
      let checked = 0;
      for (let i = 0; i < m.names.length; i++) {
        for (let j = i + 1; j < m.names.length; j++) {
          const a = names.get(m.names[i]);
          const b = names.get(m.names[j]);
          if (!a || !b) throw new Error(`${machine}: no PCI address for ${m.names[i]} or ${m.names[j]} in source.md`);
          // The published matrix is symmetric; a row/column disagreement would be a transcription error.
          expect(m.cls[i][j]).toBe(m.cls[j][i]);
          const got = findPair(pairs, a, b).class;
          if (got !== m.cls[i][j]) mismatches.push(`${m.names[i]}-${m.names[j]} (${a}/${b}): published ${m.cls[i][j]}, model ${got}`);
          checked++;
        }
      }
      expect(checked).toBe((m.names.length * (m.names.length - 1)) / 2);
      expect(mismatches).toEqual([]);
    });
  }
});

describe("Linux P2PDMA map type and distance (drivers/pci/p2pdma.c calc_map_type_and_dist)", () => {
  it("asus-esc8000a-e12: AMD EPYC family 0x19 takes every host-bridge path (p2pdma.md §3.1)", async () => {
    const pairs = await pairsOf("asus-esc8000a-e12");
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

  it("intel-z370-two-gtx1080ti: Intel host bridge 8086:591f is not whitelisted (p2pdma.md §3.6)", async () => {
    const pairs = await pairsOf("intel-z370-two-gtx1080ti");
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
