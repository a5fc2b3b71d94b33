// IOMMU groups: drivers/iommu/iommu.c pci_device_group() with drivers/pci/pci.c pci_acs_enabled()
// and pci_acs_path_enabled(REQ_ACS_FLAGS = SV|RR|CR|UF), as described in p2pdma.md §2.5.
import { describe, expect, it } from "vitest";
import { acsEnabled, buildFabric, getFunction, iommuGroups, type Fabric } from "../src/fabric/index.js";
import { A, dsp, ep, host, hostFn, rp, topo, usp } from "./fabric-helpers.js";

const CAP = { acs: { capability: ["SV", "RR", "CR", "UF"] } }; // IOMMU on: pci_enable_acs sets them
const sorted = (groups: string[][]) => groups.map((g) => [...g].sort()).sort((a, b) => a[0].localeCompare(b[0]));

function fabric(o: { rpAcs: boolean; dspAcs: boolean; nicAcs: boolean }): Fabric {
  return buildFabric(topo([
    host("H", 0, { iommu: "dma" }), hostFn("00:00.0", "H", "8086:09a2"),
    rp("00:01.0", "H", o.rpAcs ? CAP : {}), usp("01:00.0", "00:01.0"),
    dsp("02:00.0", "01:00.0", o.dspAcs ? CAP : {}), dsp("02:01.0", "01:00.0", o.dspAcs ? CAP : {}),
    ep("03:00.0", "02:00.0"), ep("04:00.0", "02:01.0"),
    rp("00:02.0", "H", CAP), ep("05:00.0", "00:02.0", o.nicAcs ? CAP : {}), ep("05:00.1", "00:02.0", o.nicAcs ? CAP : {}),
  ]));
}

describe("IOMMU groups (pci_device_group)", () => {
  it("ACS on every port: each function is its own group", () => {
    const g = iommuGroups(fabric({ rpAcs: true, dspAcs: true, nicAcs: true }));
    expect(g.every((x) => x.length === 1)).toBe(true);
    expect(g.length).toBe(10);
  });
  it("multi-function device without ACS: its functions share a group (get_pci_function_alias_group)", () => {
    const g = sorted(iommuGroups(fabric({ rpAcs: true, dspAcs: true, nicAcs: false })));
    expect(g).toContainEqual([A("05:00.0"), A("05:00.1")]);
    expect(acsEnabled(getFunction(fabric({ rpAcs: true, dspAcs: true, nicAcs: false }), "05:00.0"))).toBe(false);
  });
  it("switch downstream ports without ACS: each endpoint joins the group of the port above it", () => {
    const g = sorted(iommuGroups(fabric({ rpAcs: true, dspAcs: false, nicAcs: true })));
    expect(g).toContainEqual([A("02:00.0"), A("03:00.0")]);
    expect(g).toContainEqual([A("02:01.0"), A("04:00.0")]);
  });
  it("root port without ACS: everything below it (the whole switch) is one group with the port", () => {
    const g = sorted(iommuGroups(fabric({ rpAcs: false, dspAcs: true, nicAcs: true })));
    expect(g).toContainEqual([A("00:01.0"), A("01:00.0"), A("02:00.0"), A("02:01.0"), A("03:00.0"), A("04:00.0")].sort());
  });
  it("a host bridge with IOMMU off forms no groups", () => {
    const f = buildFabric(topo([host("H", 0), rp("00:01.0", "H"), ep("01:00.0", "00:01.0")]));
    expect(iommuGroups(f)).toEqual([]);
  });
  it("pci_acs_flags_enabled: a flag missing from the capability counts as hard-wired on", () => {
    const f = buildFabric(topo([host("H", 0), rp("00:01.0", "H", { acs: { capability: ["SV", "RR"], control: ["SV", "RR"] } })]));
    expect(acsEnabled(getFunction(f, "00:01.0"))).toBe(true);
    const g = buildFabric(topo([host("H", 0), rp("00:01.0", "H", { acs: { capability: ["SV", "RR", "CR"], control: ["SV", "RR"] } })]));
    expect(acsEnabled(getFunction(g, "00:01.0"))).toBe(false);
  });
});
