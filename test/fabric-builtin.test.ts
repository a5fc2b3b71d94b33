// The builtin "dmirror" topology (DESIGN §4; lib/test_hmm.c's four devices): one PCIe switch,
// ACS and IOMMU off, so every pair maps by bus address (p2pdma.md §2.1 step 5).
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { builtinTopology, DMIRROR_TOPOLOGY, getFunction, pairMatrix, p2pdmaMapType, routeAddress } from "../src/fabric/index.js";
import { expectInputError } from "./fabric-helpers.js";

describe("builtin dmirror", () => {
  const f = builtinTopology("dmirror");
  it("data/topologies/dmirror.json is the same topology as the embedded constant", () => {
    expect(JSON.parse(readFileSync("data/topologies/dmirror.json", "utf8"))).toEqual(DMIRROR_TOPOLOGY);
  });
  it("four devices: dmirror0/1 private, dmirror2/3 coherent, each with a 64-bit prefetchable BAR covering its memory", () => {
    const devs = ["dmirror0", "dmirror1", "dmirror2", "dmirror3"].map((id) => getFunction(f, id));
    expect(devs.map((d) => d.zoneDevice)).toEqual(["private", "private", "coherent", "coherent"]);
    for (const d of devs) {
      expect(d.bars).toHaveLength(1);
      expect(d.bars[0]).toMatchObject({ size: d.memory, is64: true, prefetchable: true });
      expect(d.bars[0].cpu % d.bars[0].size).toBe(0);
    }
  });
  it("all pairs are PIX / BUS_ADDR / distance 4 (common upstream = the switch upstream port)", () => {
    const m = pairMatrix(f);
    expect(m.devices).toEqual(["0000:03:00.0", "0000:04:00.0", "0000:05:00.0", "0000:06:00.0"]);
    expect(m.pairs).toHaveLength(6);
    for (const p of m.pairs) expect(p).toMatchObject({ class: "PIX", mapType: "BUS_ADDR", distance: 4 });
    expect(p2pdmaMapType(f, "dmirror0", "dmirror3").acsOffenders).toEqual([]);
  });
  it("a DMA from dmirror1 to dmirror2's BAR stays inside the switch", () => {
    const b = getFunction(f, "dmirror2").bars[0];
    expect(routeAddress(f, "dmirror1", b.bus + 0x5000)).toMatchObject({ unclaimed: false, target: "dmirror2", offset: 0x5000, redirected: false });
  });
  it("an unknown builtin name is an InputError naming it", () => {
    expectInputError(() => builtinTopology("dmirrors"), "topology", '"dmirrors"');
  });
});
