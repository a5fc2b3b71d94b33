// Tests the two reference machines parsed from their raw dumps (data/topologies): every device pair
// the published `nvidia-smi topo -m` matrix lists gets that class from the fabric model, and chosen
// pairs get the Linux P2PDMA map type and distance of drivers/pci/p2pdma.c calc_map_type_and_dist
// (reference/p2pdma.md §2, §3), worked out by hand below.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadTopologyFile, pairMatrix, type DevicePair } from "../src/fabric/index.js";
import { mappedPairs, pairKey, parseNameMap, parseNvsmiTopo } from "./support/nvsmi.js";

const DATA = join(import.meta.dirname, "..", "data", "topologies");



function pairsOf(file: string): Map<string, DevicePair> {
  const pairs = pairMatrix(loadTopologyFile(join(DATA, file))).pairs;
  return new Map(pairs.map((p) => [pairKey(p.a, p.b), p]));
}

function pair(pairs: Map<string, DevicePair>, a: string, b: string): DevicePair {
  const p = pairs.get(pairKey(a, b));
  if (!p) throw new Error(`model has no pair ${a} / ${b}`);
  return p;
}

/** Every published pair whose devices are in the topology: [published, model] mismatches. */
function compareWithNvsmi(machine: string, file: string): { checked: number; mismatches: string[] } {
  const matrix = parseNvsmiTopo(readFileSync(join(DATA, `${machine}.nvsmi.txt`), "utf8"));
  const names = parseNameMap(readFileSync(join(DATA, `${machine}.source.md`), "utf8"));
  const pairs = pairsOf(file);
  const mismatches: string[] = [];
  const published = mappedPairs(matrix, names);
  for (const p of published) {
    const got = pair(pairs, p.a, p.b).class;
    if (got !== p.class) mismatches.push(`${p.nameA}-${p.nameB} (${p.a}/${p.b}): nvidia-smi ${p.class}, model ${got}`);
  }
  return { checked: published.length, mismatches };
}

describe("puget-threadripper-pro-wrx90 (lspci -tv + -vvv dump, AMD Zen 4)", () => {
  const FILE = "puget-threadripper-pro-wrx90.lspci.txt";

  it("gives every published nvidia-smi pair its class", () => {
    const { checked, mismatches } = compareWithNvsmi("puget-threadripper-pro-wrx90", FILE);
    expect(checked).toBe(6); // GPU0, GPU1, NIC0, NIC1: all 4·3/2 pairs mapped
    expect(mismatches).toEqual([]);
  });

  it("maps host-bridge pairs THRU_HOST_BRIDGE by the AMD Zen CPU rule (p2pdma.md §3.1)", () => {
    const pairs = pairsOf(FILE);
    // GPU0 c1:00.0 / GPU1 c2:00.0: chains [c1:00.0, c0:01.1] and [c2:00.0, c0:03.1] share nothing →
    // distance 2 + 2 = 4 → host-bridge gate → cpu_supports_p2pdma(): AMD family >= 0x17.
    expect(pair(pairs, "0000:c1:00.0", "0000:c2:00.0")).toMatchObject({ mapType: "THRU_HOST_BRIDGE", distance: 4 });
    // GPU0 / NIC0 21:00.0 (root buses c0 and 20, two host bridges): 2 + 2 = 4 → same rule.
    expect(pair(pairs, "0000:c1:00.0", "0000:21:00.0")).toMatchObject({ mapType: "THRU_HOST_BRIDGE", distance: 4 });
    // GPU1 / NVMe 05:00.0 behind two cascaded switches on root bus 00: [05, 04:10, 03:00, 02:00, 01:00, 00:03.1]
    // (6) + [c2, c0:03.1] (2) = 8, no common device → THRU_HOST_BRIDGE.
    expect(pair(pairs, "0000:c2:00.0", "0000:05:00.0")).toMatchObject({ mapType: "THRU_HOST_BRIDGE", distance: 8 });
  });

  it("maps the ConnectX-7 fn0/fn1 pair BUS_ADDR with ACS off (p2pdma.md §2.2: two functions of one device)", () => {
    const pairs = pairsOf(FILE);
    // Common upstream = root port 20:01.1 at i = 1, j = 1 → distance 2; 21:00.0's ACSCtl is all '-',
    // 20:01.1 and 21:00.1 have no -vvv block (ACS off by default) → no RR/CR/EC → BUS_ADDR.
    expect(pair(pairs, "0000:21:00.0", "0000:21:00.1")).toMatchObject({ mapType: "BUS_ADDR", distance: 2, class: "PIX" });
  });

  it("maps NVMe pairs below the cascaded switches BUS_ADDR (p2pdma.md §2.2)", () => {
    const pairs = pairsOf(FILE);
    // 05:00.0 / 06:00.0 under DSPs 04:10.0 / 04:14.0 of USP 03:00.0: i = j = 2 → 4, one switch → PIX.
    expect(pair(pairs, "0000:05:00.0", "0000:06:00.0")).toMatchObject({ mapType: "BUS_ADDR", distance: 4, class: "PIX" });
    // 05:00.0 / 0b:00.0 meet at USP 01:00.0: i = j = 4 → 8, three switches crossed → PXB.
    expect(pair(pairs, "0000:05:00.0", "0000:0b:00.0")).toMatchObject({ mapType: "BUS_ADDR", distance: 8, class: "PXB" });
  });
});

describe("nvidia-dgx-2h (hwloc XML, Intel Skylake-SP, NVSwitch)", () => {
  const FILE = "nvidia-dgx-2h.hwloc.xml";

  it("gives every published GPU pair NV6 (NVLink through the NVSwitches, both baseboards)", () => {
    const { checked, mismatches } = compareWithNvsmi("nvidia-dgx-2h", FILE);
    // Rows GPU0-GPU3 against all 16 GPUs: 4·15 - 6 (pairs among GPU0-3 counted once) = 54 pairs.
    expect(checked).toBe(54);
    expect(mismatches).toEqual([]);
  });

  it("classes every GPU pair NV6, also those the published excerpt leaves out", () => {
    const names = parseNameMap(readFileSync(join(DATA, "nvidia-dgx-2h.source.md"), "utf8"));
    const gpus = [...names].filter(([n, a]) => n.startsWith("GPU") && a).map(([, a]) => a as string);
    expect(gpus).toHaveLength(16);
    const pairs = pairsOf(FILE);
    const classes = new Set<string>();
    for (let i = 0; i < gpus.length; i++) for (let j = i + 1; j < gpus.length; j++) classes.add(pair(pairs, gpus[i], gpus[j]).class);
    expect([...classes]).toEqual(["NV6"]);
  });

  it("maps PCIe paths by the Linux rule, ignoring NVLink (p2pdma.md §6.2)", () => {
    const pairs = pairsOf(FILE);
    // GPU0 34:00.0 / GPU1 36:00.0 under DSPs 33:00.0 / 33:10.0 of USP 32:00.0: i = j = 2 → 4, ACS off → BUS_ADDR.
    expect(pair(pairs, "0000:34:00.0", "0000:36:00.0")).toMatchObject({ mapType: "BUS_ADDR", distance: 4 });
    // GPU0 / GPU2 39:00.0 meet at USP 2c:00.0: i = j = 4 → 8 → BUS_ADDR.
    expect(pair(pairs, "0000:34:00.0", "0000:39:00.0")).toMatchObject({ mapType: "BUS_ADDR", distance: 8 });
    // GPU0 / GPU4 57:00.0: host bridges 2b and 4e; chains of 6 each → 12; Intel CPU → whitelist: the first
    // device of each root bus is root port 8086:2030 (Skylake-E, no REQ_SAME_HOST_BRIDGE) → THRU_HOST_BRIDGE.
    expect(pair(pairs, "0000:34:00.0", "0000:57:00.0")).toMatchObject({ mapType: "THRU_HOST_BRIDGE", distance: 12 });
    // GPU0 / GPU8 b7:00.0 on the other socket: Linux has no NUMA notion → same gate → THRU_HOST_BRIDGE, 12.
    expect(pair(pairs, "0000:34:00.0", "0000:b7:00.0")).toMatchObject({ mapType: "THRU_HOST_BRIDGE", distance: 12 });
  });
});
