// Address routing (src/fabric/route.ts): PCIe routes memory requests by address through bridge
// windows (PCI-to-PCI bridge forwarding) and ACS P2P Request Redirect sends peer requests up to
// the root complex (PCIe ACS; p2pdma.md §5.3 "Why BUS_ADDR requires no ACS redirect").
import { describe, expect, it } from "vitest";
import { buildFabric, routeAddress, type Fabric, type RouteClaimed } from "../src/fabric/index.js";
import { A, dsp, ep, host, hostFn, rp, topo, usp } from "./fabric-helpers.js";

function switchFabric(acsOnDsps: boolean): Fabric {
  const acs = acsOnDsps ? { acs: { capability: ["SV", "RR", "CR", "UF"], control: ["SV", "RR", "CR", "UF"] } } : {};
  return buildFabric(topo([
    host("H", 0), hostFn("00:00.0", "H", "8086:09a2"), rp("00:01.0", "H"), usp("01:00.0", "00:01.0"),
    dsp("02:00.0", "01:00.0", { ...acs, windows: { prefetch: { size: "512MiB" } } }), dsp("02:01.0", "01:00.0", acs), dsp("02:02.0", "01:00.0", acs),
    ep("03:00.0", "02:00.0", { bars: [{ index: 0, size: "16MiB", is64: false, prefetchable: false }, { index: 1, size: "256MiB" }] }),
    ep("04:00.0", "02:01.0", { bars: [{ index: 0, size: "1MiB", is64: false, prefetchable: false }, { index: 2, size: "64MiB" }] }),
    ep("05:00.0", "02:02.0", { bars: [{ index: 0, size: "128KiB", is64: false, prefetchable: false }] }),
    ep("05:00.1", "02:02.0", { bars: [{ index: 0, size: "128KiB", is64: false, prefetchable: false }] }),
  ]));
}

function twoHostFabric(): Fabric {
  return buildFabric(topo([
    host("Ha", 0, { numaNode: 0 }), hostFn("00:00.0", "Ha", "8086:09a2"), rp("00:02.0", "Ha"), ep("02:00.0", "00:02.0", { bars: [{ index: 1, size: "1GiB" }] }),
    rp("00:03.0", "Ha"), ep("03:00.0", "00:03.0", { bars: [{ index: 0, size: "32MiB", is64: false, prefetchable: false }] }),
    host("Hb", 0x80, { numaNode: 1 }), hostFn("80:00.0", "Hb", "8086:09a2"), rp("80:02.0", "Hb"), ep("82:00.0", "80:02.0", { bars: [{ index: 1, size: "1GiB" }] }),
  ]));
}

/** Every BAR of every endpoint, reached from every other endpoint at three offsets. */
function everyBarFromEveryEndpoint(f: Fabric, check: (issuer: string, target: string, r: RouteClaimed) => void) {
  const eps = f.functions.filter((x) => x.kind === "endpoint" && x.bars.length);
  for (const issuer of eps) {
    for (const target of eps) {
      if (issuer === target) continue;
      for (const b of target.bars) {
        for (const off of [0, 0x1000, b.size - 4]) {
          const r = routeAddress(f, issuer.id, b.bus + off);
          expect(r.unclaimed, `${issuer.id} → ${target.id} BAR${b.index}+${off}`).toBe(false);
          const c = r as RouteClaimed;
          expect([c.target, c.bar, c.offset, c.cpuAddress]).toEqual([target.id, b.index, off, b.cpu + off]);
          check(issuer.id, target.id, c);
        }
      }
    }
  }
}

describe("routing on a switch (no ACS): peers meet inside the switch", () => {
  const f = switchFabric(false);
  it("every BAR is reached from every other endpoint by its bus address, never through the host bridge", () => {
    everyBarFromEveryEndpoint(f, (_i, _t, r) => {
      expect(r.redirected).toBe(false);
      expect(r.hops.some((h) => h.direction === "across-root-complex")).toBe(false);
    });
  });
  it("the hops of 03:00.0 → 04:00.0: up DSP0, down DSP1, down to the target", () => {
    const b = (f.byId.get(A("04:00.0")) as { bars: { bus: number }[] }).bars[1];
    expect(routeAddress(f, A("03:00.0"), b.bus).hops).toEqual([
      { node: A("02:00.0"), direction: "up" }, { node: A("02:01.0"), direction: "down" }, { node: A("04:00.0"), direction: "down" },
    ]);
  });
  it("functions of one device reach each other through their shared bus", () => {
    const b = (f.byId.get(A("05:00.1")) as { bars: { bus: number }[] }).bars[0];
    expect(routeAddress(f, A("05:00.0"), b.bus).hops).toEqual([{ node: A("05:00.1"), direction: "down" }]);
  });
  it("an address in no window is unclaimed at the root complex; a hole in a window is unclaimed at that bridge", () => {
    expect(routeAddress(f, A("03:00.0"), 0x1000)).toMatchObject({ unclaimed: true, address: 0x1000, at: "H" });
    const dsp0 = f.byId.get(A("02:00.0")) as { windows: { prefetch: { bus: number; size: number } } };
    const hole = dsp0.windows.prefetch.bus + 256 * 2 ** 20; // the window is 512 MiB, the BAR 256 MiB
    expect(routeAddress(f, A("04:00.0"), hole)).toMatchObject({ unclaimed: true, at: A("02:00.0") });
  });
});

describe("routing with ACS Request Redirect on the downstream ports", () => {
  const f = switchFabric(true);
  it("peer requests between DSPs are sent up to the host bridge, then routed down to the same BAR", () => {
    everyBarFromEveryEndpoint(f, (issuer, target, r) => {
      const sameDevice = issuer.slice(0, 10) === target.slice(0, 10);
      expect(r.redirected).toBe(!sameDevice);
      if (!sameDevice) {
        expect(r.hops).toContainEqual({ node: "H", direction: "across-root-complex" });
        expect(r.hops.slice(0, 3).map((h) => h.direction)).toEqual(["up", "up", "up"]);
      }
    });
  });
});

describe("routing across host bridges", () => {
  const f = twoHostFabric();
  it("every BAR is reached from every other endpoint through the root complex (and the socket link across NUMA nodes)", () => {
    everyBarFromEveryEndpoint(f, (issuer, target, r) => {
      const home = issuer.includes(":8") ? "Hb" : "Ha";
      expect(r.hops[1]).toEqual({ node: home, direction: "across-root-complex" });
      const cross = issuer.includes(":8") !== target.includes(":8");
      expect(r.hops.some((h) => h.direction === "across-socket")).toBe(cross);
    });
  });
  it("the hops of 02:00.0 → 82:00.0", () => {
    const b = (f.byId.get(A("82:00.0")) as { bars: { bus: number }[] }).bars[0];
    expect(routeAddress(f, A("02:00.0"), b.bus).hops).toEqual([
      { node: A("00:02.0"), direction: "up" }, { node: "Ha", direction: "across-root-complex" }, { node: "Hb", direction: "across-socket" },
      { node: A("80:02.0"), direction: "down" }, { node: A("82:00.0"), direction: "down" },
    ]);
  });
});
