// P2PDMA map type and distance: drivers/pci/p2pdma.c calc_map_type_and_dist() and the host-bridge
// gate (cpu_supports_p2pdma, host_bridge_whitelist), checked against every worked example of
// reference/p2pdma.md §7, the distance table of §2.2 and the whitelist table of §3.5/§3.6.
import { describe, expect, it } from "vitest";
import { buildFabric, p2pdmaMapType, pairMatrix, routeAddress, topoClass, type Fabric } from "../src/fabric/index.js";
import { A, dsp, ep, fn, host, hostFn, rp, topo, usp } from "./fabric-helpers.js";

const ACS_CAP = { capability: ["SV", "RR", "CR", "UF"] };

/** Example 1/2 fabric: one switch below RP1 of an Ice Lake-SP host bridge. */
function example1(opts: { iommu?: "off" | "dma"; hostDevice?: string; cpu?: object } = {}): Fabric {
  const acs = opts.iommu === "dma" ? { acs: ACS_CAP } : {};
  return buildFabric(topo([
    host("H0", 0, { iommu: opts.iommu ?? "off", ...(opts.cpu ? { cpu: opts.cpu } : {}) }),
    hostFn("00:00.0", "H0", opts.hostDevice ?? "8086:09a2"),
    rp("00:01.0", "H0", acs),
    usp("01:00.0", "00:01.0"),
    dsp("02:00.0", "01:00.0", acs),
    dsp("02:01.0", "01:00.0", acs),
    dsp("02:02.0", "01:00.0", acs),
    ep("03:00.0", "02:00.0", { class: "0108", bars: [{ index: 4, size: "16MiB" }] }),
    ep("04:00.0", "02:01.0", { class: "0302" }),
    ep("05:00.0", "02:02.0", { class: "0200" }),
    ep("05:00.1", "02:02.0", { class: "0200" }),
  ]));
}

describe("p2pdma.md §7 Example 1: one switch, no ACS, IOMMU off (calc_map_type_and_dist)", () => {
  const f = example1();
  it("A → B and A → C fn0 meet at the switch upstream port: BUS_ADDR, distance 2 + 2", () => {
    expect(p2pdmaMapType(f, A("03:00.0"), A("04:00.0"))).toMatchObject({ mapType: "BUS_ADDR", distance: 4, acsOffenders: [], warnings: [], rule: "common-upstream-bridge" });
    expect(p2pdmaMapType(f, A("03:00.0"), A("05:00.0"))).toMatchObject({ mapType: "BUS_ADDR", distance: 4 });
  });
  it("C fn0 → C fn1 meet at their DSP: distance 2; A → A: distance 0", () => {
    expect(p2pdmaMapType(f, A("05:00.0"), A("05:00.1"))).toMatchObject({ mapType: "BUS_ADDR", distance: 2 });
    expect(p2pdmaMapType(f, A("03:00.0"), A("03:00.0"))).toMatchObject({ mapType: "BUS_ADDR", distance: 0 });
  });
  it("nvidia-smi class of A/B is PIX (§7 Example 1, §6.3 rule 3)", () => {
    expect(topoClass(f, A("03:00.0"), A("04:00.0"))).toBe("PIX");
  });
});

describe("p2pdma.md §7 Example 2: IOMMU on, kernel set RR|CR on RP1 and the DSPs (pci_enable_acs)", () => {
  it("A → B: offenders provider side then client side, two verbose warnings, whitelisted 09a2 → THRU_HOST_BRIDGE", () => {
    const r = p2pdmaMapType(example1({ iommu: "dma" }), A("03:00.0"), A("04:00.0"));
    expect(r.mapType).toBe("THRU_HOST_BRIDGE");
    expect(r.distance).toBe(4);
    expect(r.acsOffenders).toEqual(["0000:02:00.0", "0000:02:01.0"]);
    expect(r.warnings).toEqual([
      "0000:04:00.0: ACS redirect is set between the client and provider (0000:03:00.0)",
      "0000:04:00.0: to disable ACS redirect for this path, add the kernel parameter: pci=disable_acs_redir=0000:02:00.0;0000:02:01.0",
    ]);
  });
  it("C fn0 → C fn1: the common port itself is an offender (tested in the outer loop)", () => {
    const r = p2pdmaMapType(example1({ iommu: "dma" }), A("05:00.0"), A("05:00.1"));
    expect(r).toMatchObject({ mapType: "THRU_HOST_BRIDGE", distance: 2, acsOffenders: ["0000:02:02.0"] });
  });
  it("A → A: A has no ACS capability → BUS_ADDR", () => {
    expect(p2pdmaMapType(example1({ iommu: "dma" }), A("03:00.0"), A("03:00.0"))).toMatchObject({ mapType: "BUS_ADDR", distance: 0 });
  });
  it("unlisted first device 8086:1234 → whitelist warning (gated by acs_redirects) and NOT_SUPPORTED", () => {
    const r = p2pdmaMapType(example1({ iommu: "dma", hostDevice: "8086:1234" }), A("03:00.0"), A("04:00.0"));
    expect(r.mapType).toBe("NOT_SUPPORTED");
    expect(r.warnings.slice(2)).toEqual([
      "0000:00:00.0: Host bridge not in P2PDMA whitelist: 8086:1234",
      "0000:04:00.0: cannot be used for peer-to-peer DMA as the client and provider (0000:03:00.0) do not share an upstream bridge or whitelisted host bridge",
    ]);
  });
  it("AMD family 0x19 (cpu_supports_p2pdma) → THRU_HOST_BRIDGE with no whitelist message", () => {
    const r = p2pdmaMapType(example1({ iommu: "dma", hostDevice: "8086:1234", cpu: { vendor: "amd", family: 0x19 } }), A("03:00.0"), A("04:00.0"));
    expect(r.mapType).toBe("THRU_HOST_BRIDGE");
    expect(r.warnings.some((w) => w.includes("whitelist"))).toBe(false);
  });
});

/** A desktop: host bridge function 8086:3e30 (not whitelisted) at 00.0, two root ports, a device on each. */
function desktop(): Fabric {
  return buildFabric(topo([
    host("H", 0), hostFn("00:00.0", "H", "8086:3e30"), rp("00:01.0", "H"), rp("00:01.1", "H"),
    ep("01:00.0", "00:01.0"), ep("02:00.0", "00:01.1"),
  ]));
}

describe("p2pdma.md §7 Example 3: two root ports of one Skylake-SP host bridge", () => {
  const build = (first: Record<string, unknown>[]) => buildFabric(topo([
    host("H1", 0x17), ...first,
    ep("18:00.0", "17:00.0", { class: "0302" }), ep("19:00.0", "17:02.0", { class: "0302" }),
  ]));
  it("first device 17:00.0 is a Root Port 8086:2030 (listed) → THRU_HOST_BRIDGE, distance 2 + 2, class PHB", () => {
    const f = build([rp("17:00.0", "H1", { vendor: "8086", device: "2030" }), rp("17:02.0", "H1", { vendor: "8086", device: "2032" })]);
    expect(p2pdmaMapType(f, A("18:00.0"), A("19:00.0"))).toMatchObject({ mapType: "THRU_HOST_BRIDGE", distance: 4, acsOffenders: [], warnings: [], rule: "host-bridge-whitelist" });
    expect(topoClass(f, A("18:00.0"), A("19:00.0"))).toBe("PHB");
  });
  it("desktop 8086:3e30 at 00.0 (not listed), Intel → NOT_SUPPORTED with only the verbose gate message", () => {
    const r = p2pdmaMapType(desktop(), A("01:00.0"), A("02:00.0"));
    expect(r.mapType).toBe("NOT_SUPPORTED");
    expect(r.distance).toBe(4);
    expect(r.warnings).toEqual([
      "0000:02:00.0: cannot be used for peer-to-peer DMA as the client and provider (0000:01:00.0) do not share an upstream bridge or whitelisted host bridge",
    ]);
  });
});

/** Example 4: two sockets, one host bridge each. */
function example4(da: string, db: string, cpu?: object, numaB = 1): Fabric {
  return buildFabric(topo([
    host("Ha", 0, { numaNode: 0, ...(cpu ? { cpu } : {}) }), host("Hb", 0x80, { numaNode: numaB }),
    hostFn("00:00.0", "Ha", da), rp("00:02.0", "Ha"), ep("02:00.0", "00:02.0", { class: "0302" }),
    hostFn("80:00.0", "Hb", db), rp("80:02.0", "Hb"), ep("82:00.0", "80:02.0", { class: "0302" }),
  ]));
}

describe("p2pdma.md §7 Example 4: two host bridges (host_bridge_whitelist with same_host_bridge = false)", () => {
  const rows: [string, string, object | undefined, string][] = [
    ["8086:09a2", "8086:09a2", undefined, "THRU_HOST_BRIDGE"],
    ["8086:2f00", "8086:2f00", undefined, "NOT_SUPPORTED"],
    ["8086:2020", "8086:2030", undefined, "THRU_HOST_BRIDGE"],
    ["8086:09a2", "8086:1234", undefined, "NOT_SUPPORTED"],
    ["8086:1234", "8086:09a2", undefined, "NOT_SUPPORTED"],
    ["8086:1234", "8086:1234", { vendor: "amd", family: 0x19 }, "THRU_HOST_BRIDGE"],
    ["8086:1234", "8086:1234", { vendor: "hygon", family: 0x18 }, "NOT_SUPPORTED"],
    ["8086:1234", "8086:1234", { vendor: "arm" }, "NOT_SUPPORTED"],
  ];
  for (const [da, db, cpu, want] of rows) {
    it(`${da} / ${db}${cpu ? ` on ${JSON.stringify(cpu)}` : ""} → ${want}, distance 4`, () => {
      expect(p2pdmaMapType(example4(da, db, cpu), A("02:00.0"), A("82:00.0"))).toMatchObject({ mapType: want, distance: 4 });
    });
  }
  it("nvidia-smi: SYS on two NUMA nodes, NODE on one; the Linux result is the same", () => {
    expect(topoClass(example4("8086:09a2", "8086:09a2"), A("02:00.0"), A("82:00.0"))).toBe("SYS");
    const one = example4("8086:09a2", "8086:09a2", undefined, 0);
    expect(topoClass(one, A("02:00.0"), A("82:00.0"))).toBe("NODE");
    expect(p2pdmaMapType(one, A("02:00.0"), A("82:00.0")).mapType).toBe("THRU_HOST_BRIDGE");
  });
});

/** Example 5: cascaded switches, D1b with ACS, AMD EPYC family 0x19. */
function example5(d1bControl: string[]): Fabric {
  return buildFabric(topo([
    host("H", 0, { cpu: { vendor: "amd", family: 0x19 } }), rp("00:01.1", "H"),
    usp("01:00.0", "00:01.1"), dsp("02:00.0", "01:00.0"), dsp("02:01.0", "01:00.0", { acs: { capability: ["SV", "RR", "CR", "UF", "EC"], control: d1bControl } }),
    usp("03:00.0", "02:00.0"), dsp("04:00.0", "03:00.0"), ep("05:00.0", "04:00.0", { class: "0302" }),
    ep("06:00.0", "02:01.0", { class: "0108" }),
  ]));
}

describe("p2pdma.md §7 Example 5: cascaded switches with one ACS port (AMD Zen)", () => {
  it("RR|CR on D1b: offender 0000:02:01.0, distance 4 + 2 = 6, AMD → THRU_HOST_BRIDGE; class PXB", () => {
    const f = example5(["RR", "CR"]);
    expect(p2pdmaMapType(f, A("05:00.0"), A("06:00.0"))).toMatchObject({ mapType: "THRU_HOST_BRIDGE", distance: 6, acsOffenders: ["0000:02:01.0"] });
    expect(topoClass(f, A("05:00.0"), A("06:00.0"))).toBe("PXB");
  });
  it("cleared → BUS_ADDR 6; EC alone still redirects; SV|UF alone does not (only RR/CR/EC count)", () => {
    expect(p2pdmaMapType(example5([]), A("05:00.0"), A("06:00.0"))).toMatchObject({ mapType: "BUS_ADDR", distance: 6 });
    expect(p2pdmaMapType(example5(["EC"]), A("05:00.0"), A("06:00.0"))).toMatchObject({ mapType: "THRU_HOST_BRIDGE", distance: 6 });
    expect(p2pdmaMapType(example5(["SV", "UF"]), A("05:00.0"), A("06:00.0"))).toMatchObject({ mapType: "BUS_ADDR", distance: 6 });
  });
});

/** Example 6: SR-IOV and a multi-function endpoint with its own ACS capability. */
function example6(iommu: "dma" | "off"): Fabric {
  const acs = (capability: string[]) => (iommu === "dma" ? { acs: { capability } } : { acs: { capability, control: [] } });
  return buildFabric(topo([
    host("H", 0, { iommu }), hostFn("00:00.0", "H", "8086:09a2"), rp("00:03.0", "H", acs(["SV", "RR", "CR", "UF"])),
    ep("3b:00.0", "00:03.0", { class: "0200", ...acs(["RR", "CR"]) }),
    ep("3b:00.1", "00:03.0", { class: "0200" }),
    ep("3b:02.0", "00:03.0", { class: "0200", physfn: A("3b:00.0") }),
  ]));
}

describe("p2pdma.md §7 Example 6: SR-IOV (pci_upstream_bridge replaces a VF by its PF)", () => {
  const f = example6("dma");
  const [pf0, pf1, vf0] = [A("3b:00.0"), A("3b:00.1"), A("3b:02.0")];
  it("PF0 → PF0: its own ACS makes even self-DMA THRU_HOST_BRIDGE, distance 0", () => {
    expect(p2pdmaMapType(f, pf0, pf0)).toMatchObject({ mapType: "THRU_HOST_BRIDGE", distance: 0, acsOffenders: [pf0] });
  });
  it("PF1 → VF0 meet at the root port (VF's upstream is its PF's): distance 2, offender the RP", () => {
    expect(p2pdmaMapType(f, pf1, vf0)).toMatchObject({ mapType: "THRU_HOST_BRIDGE", distance: 2, acsOffenders: ["0000:00:03.0"] });
  });
  it("PF1 → PF1: BUS_ADDR 0; PF0 → VF0: offenders PF0 then RP", () => {
    expect(p2pdmaMapType(f, pf1, pf1)).toMatchObject({ mapType: "BUS_ADDR", distance: 0 });
    expect(p2pdmaMapType(f, pf0, vf0)).toMatchObject({ mapType: "THRU_HOST_BRIDGE", distance: 2, acsOffenders: [pf0, "0000:00:03.0"] });
  });
  it("IOMMU off and ACS clear: all four BUS_ADDR with the same distances", () => {
    const g = example6("off");
    expect([[pf0, pf0], [pf1, vf0], [pf1, pf1], [pf0, vf0]].map(([p, c]) => p2pdmaMapType(g, p, c)).map((r) => [r.mapType, r.distance])).toEqual([
      ["BUS_ADDR", 0], ["BUS_ADDR", 2], ["BUS_ADDR", 0], ["BUS_ADDR", 2],
    ]);
  });
});

describe("p2pdma.md §7 Example 7: RCiEP accelerator on its own root bus (pci_host_bridge_dev)", () => {
  const build = (dsa: string) => buildFabric(topo([
    host("Hx", 0xe7), ep(dsa, "Hx", { vendor: "8086", device: "0b25", class: "0880" }),
    host("Hy", 0x16), hostFn("16:00.0", "Hy", "8086:09a2"), rp("16:01.0", "Hy"), ep("17:00.0", "16:01.0", { class: "0302" }),
  ]));
  it("DSA at e7:01.0 (not 00.0, not a Root Port) → no host bridge device → NOT_SUPPORTED, distance 1 + 2", () => {
    expect(p2pdmaMapType(build("e7:01.0"), A("e7:01.0"), A("17:00.0"))).toMatchObject({ mapType: "NOT_SUPPORTED", distance: 3 });
  });
  it("DSA at e7:00.0 matches 0x0b25, Hy matches 09a2 → THRU_HOST_BRIDGE, distance 3", () => {
    expect(p2pdmaMapType(build("e7:00.0"), A("e7:00.0"), A("17:00.0"))).toMatchObject({ mapType: "THRU_HOST_BRIDGE", distance: 3 });
  });
});

describe("p2pdma.md §7 Example 8: a translating host bridge (bus_offset = bus − CPU)", () => {
  const f = buildFabric(topo([
    host("H", 0, { windows: [{ cpu: "0x400000000", bus: "0x80000000", size: "1GiB", prefetchable: true }] }),
    hostFn("00:00.0", "H", "8086:09a2"), rp("00:01.0", "H"), usp("01:00.0", "00:01.0"),
    dsp("02:00.0", "01:00.0"), dsp("02:01.0", "01:00.0"),
    ep("03:00.0", "02:00.0", { bars: [{ index: 2, size: "2MiB", addr: "0x400200000" }] }),
    ep("04:00.0", "02:01.0", { bars: [{ index: 0, size: "1MiB" }] }),
  ]));
  const bar = (f.byId.get(A("03:00.0")) as { bars: { index: number; cpu: number; bus: number }[] }).bars[0];
  it("BAR2 at CPU 0x4_0020_0000 has bus address 0x8020_0000; bus_offset as u64 is 0xFFFF_FFFC_8000_0000", () => {
    expect(bar.cpu).toBe(0x4_0020_0000);
    expect(bar.bus).toBe(0x8020_0000);
    const offset = bar.bus - bar.cpu;
    expect(offset).toBe(-0x3_8000_0000);
    expect(((BigInt(offset) % 2n ** 64n) + 2n ** 64n) % 2n ** 64n).toBe(0xffff_fffc_8000_0000n);
  });
  it("BUS_ADDR: the page at offset 0x3000 (CPU 0x4_0020_3000) maps to 0x8020_3000, which routes to that page", () => {
    expect(p2pdmaMapType(f, A("03:00.0"), A("04:00.0")).mapType).toBe("BUS_ADDR");
    const dma = 0x4_0020_3000 + (bar.bus - bar.cpu); // pci_p2pdma_bus_addr_map()
    expect(dma).toBe(0x8020_3000);
    expect(routeAddress(f, A("04:00.0"), dma)).toMatchObject({ unclaimed: false, target: A("03:00.0"), bar: 2, offset: 0x3000, cpuAddress: 0x4_0020_3000 });
  });
});

describe("p2pdma.md §2.2 distance table", () => {
  // H0: RP1 → S1 (U1) with D1a → S2 → A, D1b → B (2 functions, and a BAR on D1b), D1c → S3 → E, D1d → F;
  // RP2 → G; RP3 → M; two RCiEP functions 00:1f.0/1; H1: RP → K.
  const f = buildFabric(topo([
    host("H0", 0), hostFn("00:00.0", "H0", "8086:09a2"), ep("00:1f.0", "H0"), ep("00:1f.1", "H0"),
    rp("00:01.0", "H0"), rp("00:02.0", "H0"), rp("00:03.0", "H0"),
    usp("01:00.0", "00:01.0"),
    dsp("02:00.0", "01:00.0"), usp("03:00.0", "02:00.0"), dsp("04:00.0", "03:00.0"), ep("05:00.0", "04:00.0"),
    dsp("02:01.0", "01:00.0", { bars: [{ index: 0, size: "128KiB", is64: false, prefetchable: false }] }), ep("06:00.0", "02:01.0"), ep("06:00.1", "02:01.0"),
    dsp("02:02.0", "01:00.0"), usp("07:00.0", "02:02.0"), dsp("08:00.0", "07:00.0"), ep("09:00.0", "08:00.0"),
    dsp("02:03.0", "01:00.0"), ep("0a:00.0", "02:03.0"),
    ep("0b:00.0", "00:02.0"), ep("0c:00.0", "00:03.0"),
    host("H1", 0x80), hostFn("80:00.0", "H1", "8086:09a2"), rp("80:01.0", "H1"), ep("81:00.0", "80:01.0"),
  ]));
  const d = (p: string, c: string) => p2pdmaMapType(f, A(p), A(c));
  const rows: [string, string, string, number, string][] = [
    ["provider == client", "06:00.0", "06:00.0", 0, "BUS_ADDR"],
    ["two functions of one device behind a bridge", "06:00.0", "06:00.1", 2, "BUS_ADDR"],
    ["two functions of one RCiEP device on a root bus", "00:1f.0", "00:1f.1", 2, "THRU_HOST_BRIDGE"],
    ["two endpoints under two DSPs of one switch", "06:00.0", "0a:00.0", 4, "BUS_ADDR"],
    ["A under S2 below D1a, B under D1b", "05:00.0", "06:00.0", 6, "BUS_ADDR"],
    ["A under S2, E under S3", "05:00.0", "09:00.0", 8, "BUS_ADDR"],
    ["directly under RP2 and RP3", "0b:00.0", "0c:00.0", 4, "THRU_HOST_BRIDGE"],
    ["behind a switch on RP1, directly under RP2", "06:00.0", "0b:00.0", 6, "THRU_HOST_BRIDGE"],
    ["under root ports of two host bridges", "0b:00.0", "81:00.0", 4, "THRU_HOST_BRIDGE"],
    ["RCiEP vs endpoint under a root port", "00:1f.0", "0b:00.0", 3, "THRU_HOST_BRIDGE"],
    ["provider is an ancestor of the client", "02:01.0", "06:00.0", 1, "BUS_ADDR"],
  ];
  for (const [what, p, c, dist, type] of rows) {
    it(`${what}: distance ${dist}, ${type}`, () => {
      expect(d(p, c)).toMatchObject({ distance: dist, mapType: type });
      expect(d(c, p)).toMatchObject({ distance: dist, mapType: type });
    });
  }
});

describe("p2pdma.md §3.6 host-bridge gate decision table (non-AMD CPU) and §3.5 table entries", () => {
  const same = (first: string) => {
    const f = buildFabric(topo([host("H", 0), hostFn("00:00.0", "H", first), rp("00:01.0", "H"), rp("00:02.0", "H"), ep("01:00.0", "00:01.0"), ep("02:00.0", "00:02.0")]));
    return p2pdmaMapType(f, A("01:00.0"), A("02:00.0")).mapType;
  };
  it("same host bridge, first device in the table (incl. REQ_SAME_HOST_BRIDGE 2f00, Google any, NVIDIA 2f95, Zhaoxin 1003) → THRU_HOST_BRIDGE", () => {
    for (const id of ["8086:09a2", "8086:2f00", "8086:3c01", "1ae0:abcd", "10de:2f95", "1d17:1003", "8086:4948"]) expect(same(id), id).toBe("THRU_HOST_BRIDGE");
  });
  it("same host bridge, first device not in the table → NOT_SUPPORTED", () => {
    expect(same("8086:3e30")).toBe("NOT_SUPPORTED");
    expect(same("10de:2f99")).toBe("NOT_SUPPORTED");
  });
  it("same host bridge, no suitable first device (first is an endpoint at 00:02.0) → NOT_SUPPORTED", () => {
    const f = buildFabric(topo([host("H", 0), ep("00:02.0", "H", { vendor: "8086", device: "09a2" }), rp("00:03.0", "H"), rp("00:04.0", "H"), ep("01:00.0", "00:03.0"), ep("02:00.0", "00:04.0")]));
    expect(p2pdmaMapType(f, A("01:00.0"), A("02:00.0")).mapType).toBe("NOT_SUPPORTED");
  });
  it("different host bridges: both listed without REQ_SAME_HOST_BRIDGE → THRU_HOST_BRIDGE; a REQ entry or a miss → NOT_SUPPORTED", () => {
    expect(p2pdmaMapType(example4("10de:2f96", "1d17:1008"), A("02:00.0"), A("82:00.0")).mapType).toBe("THRU_HOST_BRIDGE");
    expect(p2pdmaMapType(example4("8086:09a2", "8086:2f01"), A("02:00.0"), A("82:00.0")).mapType).toBe("NOT_SUPPORTED");
    expect(p2pdmaMapType(example4("1d17:1003", "1d17:1003"), A("02:00.0"), A("82:00.0")).mapType).toBe("NOT_SUPPORTED");
    expect(p2pdmaMapType(example4("8086:09a2", "8086:ffff"), A("02:00.0"), A("82:00.0")).mapType).toBe("NOT_SUPPORTED");
  });
  it("AMD family >= 0x17 passes every case; AMD family 0x15 does not", () => {
    const amd = (family: number) => p2pdmaMapType(example4("1022:1450", "1022:1450", { vendor: "amd", family }), A("02:00.0"), A("82:00.0")).mapType;
    expect(amd(0x17)).toBe("THRU_HOST_BRIDGE");
    expect(amd(0x1a)).toBe("THRU_HOST_BRIDGE");
    expect(amd(0x15)).toBe("NOT_SUPPORTED");
  });
  it("the whitelist miss is printed once, against the root bus's first device (§2.3)", () => {
    const f = buildFabric(topo([
      host("Ha", 0, { iommu: "dma" }), hostFn("00:00.0", "Ha", "8086:1111"), rp("00:02.0", "Ha"),
      usp("01:00.0", "00:02.0"), dsp("02:00.0", "01:00.0", { acs: ACS_CAP }), dsp("02:01.0", "01:00.0"),
      ep("03:00.0", "02:00.0"), ep("04:00.0", "02:01.0"),
    ]));
    const r = p2pdmaMapType(f, A("03:00.0"), A("04:00.0"));
    expect(r.mapType).toBe("NOT_SUPPORTED");
    expect(r.warnings.filter((w) => w.includes("not in P2PDMA whitelist"))).toEqual(["0000:00:00.0: Host bridge not in P2PDMA whitelist: 8086:1111"]);
  });
});

describe("pairMatrix (DESIGN §4 topo --json)", () => {
  it("one pair per unordered endpoint pair in input order, ids = PCI address, -1 when NOT_SUPPORTED; host functions left out", () => {
    const m = pairMatrix(example4("8086:2f00", "8086:2f00"));
    expect(m.devices).toEqual(["0000:02:00.0", "0000:82:00.0"]);
    expect(m.pairs).toHaveLength(1);
    expect(m.pairs[0]).toMatchObject({ a: "0000:02:00.0", b: "0000:82:00.0", class: "SYS", mapType: "NOT_SUPPORTED", distance: -1 });
    // Grown additively: both ends' roles, the rule that decided and its reason.
    expect(m.pairs[0]).toMatchObject({ aRole: "gpu", bRole: "gpu", rule: "not-whitelisted" });
    expect(m.pairs[0].reason).toContain("do not share an upstream bridge or whitelisted host bridge");
  });
  it("ids are topology ids when the input gives no PCI address", () => {
    const f = buildFabric(topo([host("h", 0), hostFn("00:00.0", "h", "8086:09a2"), { kind: "rootPort", id: "rp", parent: "h" },
      { kind: "endpoint", id: "gpu0", parent: "rp" }, { kind: "endpoint", id: "gpu1", parent: "rp" }]));
    const m = pairMatrix(f);
    expect(m.devices).toEqual(["gpu0", "gpu1"]);
    expect(m.pairs).toMatchObject([{ a: "gpu0", b: "gpu1", class: "PIX", mapType: "BUS_ADDR", distance: 2, rule: "common-upstream-bridge" }]);
  });
});

describe("the rule that decided and its reason, in the kernel's words (topo's pair list)", () => {
  it("BUS_ADDR names the common upstream device", () => {
    const r = p2pdmaMapType(example1(), A("03:00.0"), A("04:00.0"));
    expect(r.rule).toBe("common-upstream-bridge");
    expect(r.reason).toContain("share the upstream device 0000:01:00.0");
  });
  it("NOT_SUPPORTED without ACS: the whitelist miss the kernel does not print (no ACS redirect), then its gate message", () => {
    const r = p2pdmaMapType(desktop(), A("01:00.0"), A("02:00.0"));
    expect(r.rule).toBe("not-whitelisted");
    expect(r.reason).toBe([
      "no common upstream bridge",
      "cpu_supports_p2pdma() is false (CPU intel: only AMD family >= 0x17 passes)",
      "Host bridge not in P2PDMA whitelist: 8086:3e30 (0000:00:00.0)",
      "cannot be used for peer-to-peer DMA as the client and provider (0000:01:00.0) do not share an upstream bridge or whitelisted host bridge",
    ].join("; "));
    expect(r.warnings.some((w) => w.includes("whitelist:"))).toBe(false); // printed only when ACS redirect forced the path (p2pdma.md §2.3)
  });
  it("NOT_SUPPORTED across host bridges of a REQ_SAME_HOST_BRIDGE entry (Haswell-EP 8086:2f00) says so", () => {
    const r = p2pdmaMapType(example4("8086:2f00", "8086:2f00"), A("02:00.0"), A("82:00.0"));
    expect(r.reason).toContain("host bridge 8086:2f00 (0000:00:00.0) is whitelisted only for peers below the same host bridge (REQ_SAME_HOST_BRIDGE)");
    // host_bridge_whitelist() short-circuits: the second host bridge is not examined.
    expect(r.reason).not.toContain("0000:80:00.0");
  });
  it("ACS redirect then the whitelist: both in the reason", () => {
    const r = p2pdmaMapType(example1({ iommu: "dma", hostDevice: "8086:1234" }), A("03:00.0"), A("04:00.0"));
    expect(r.reason).toMatch(/^ACS redirect is set between the client and provider \(0000:03:00\.0\) at /);
    expect(r.reason).toContain("Host bridge not in P2PDMA whitelist: 8086:1234");
  });
  it("THRU_HOST_BRIDGE on AMD Zen names cpu_supports_p2pdma()", () => {
    const r = p2pdmaMapType(example4("8086:1234", "8086:1234", { vendor: "amd", family: 0x19 }), A("02:00.0"), A("82:00.0"));
    expect(r).toMatchObject({ rule: "cpu-supports-p2pdma", mapType: "THRU_HOST_BRIDGE" });
    expect(r.reason).toContain("AMD family 0x19 (>= 0x17)");
  });
});
