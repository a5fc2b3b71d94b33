// Tests the `nvidia-smi topo -m` reader of test/support/nvsmi.ts (used to compare machines with
// their published matrices): device columns, CPU/NUMA columns ignored, partial row sets, the name table.
import { describe, expect, it } from "vitest";
import { mappedPairs, pairKey, parseNameMap, parseNvsmiTopo } from "./support/nvsmi.js";

const TOPO = [
  "\tGPU0\tGPU1\tNIC0\tCPU Affinity\tNUMA Affinity\tGPU NUMA ID",
  "GPU0\t X \tSYS\tPIX\t0-15\t0\t\tN/A",
  "GPU1\tSYS\t X \tSYS\t16-31\t1\t\tN/A",
  "NIC0\tPIX\tSYS\t X ",
  "",
  "Legend:",
  "  X    = Self",
].join("\n");

describe("nvidia-smi topo -m reader", () => {
  it("reads device columns up to the CPU Affinity column, tabs or spaces", () => {
    const m = parseNvsmiTopo(TOPO);
    expect(m.columns).toEqual(["GPU0", "GPU1", "NIC0"]);
    expect(m.rows).toEqual(["GPU0", "GPU1", "NIC0"]);
    expect([...m.classes]).toEqual([
      [pairKey("GPU0", "GPU1"), "SYS"],
      [pairKey("GPU0", "NIC0"), "PIX"],
      [pairKey("GPU1", "NIC0"), "SYS"],
    ]);
  });

  it("accepts a published excerpt with fewer rows than columns, and mlx5 names", () => {
    const m = parseNvsmiTopo("        GPU0    GPU1    mlx5_0  CPU Affinity\nGPU0     X      NV6     PIX     0-23\n");
    expect(m.rows).toEqual(["GPU0"]);
    expect(m.classes.get(pairKey("GPU0", "mlx5_0"))).toBe("PIX");
    expect(m.classes.has(pairKey("GPU1", "mlx5_0"))).toBe(false);
  });

  it("rejects a matrix whose two cells of a pair disagree, or a cell that is not a class", () => {
    expect(() => parseNvsmiTopo(TOPO.replace("GPU1\tSYS", "GPU1\tNODE"))).toThrow(/GPU1\/GPU0 reads NODE one way and SYS the other/);
    expect(() => parseNvsmiTopo(TOPO.replace("NIC0\tPIX", "NIC0\tPIXX"))).toThrow(/"PIXX" is not a class/);
  });

  it("maps matrix names to PCI functions from a source.md table; unmapped names are skipped", () => {
    const names = parseNameMap(
      ["| matrix | PCI | evidence |", "|---|---|---|", "| GPU0 | 0000:C1:00.0 | Bus-Id |", "| GPU1 | 0000:c2:00.0 | x |", "| NIC0 (mlx5_0) | — | trimmed |"].join("\n"),
    );
    expect([...names]).toEqual([["GPU0", "0000:c1:00.0"], ["GPU1", "0000:c2:00.0"], ["NIC0", null]]);
    expect(mappedPairs(parseNvsmiTopo(TOPO), names)).toEqual([{ a: "0000:c1:00.0", b: "0000:c2:00.0", nameA: "GPU0", nameB: "GPU1", class: "SYS" }]);
    expect(() => mappedPairs(parseNvsmiTopo(TOPO), new Map([["GPU0", "0000:c1:00.0"]]))).toThrow(/no row for GPU1 in the name table/);
  });
});
