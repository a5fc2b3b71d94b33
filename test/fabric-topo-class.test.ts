// nvidia-smi topo -m classes (p2pdma.md §6.3 rule set, legend §6.1) on the shapes of two real
// machines: reference/topologies/puget-threadripper-pro-wrx90.md (lspci -tv + published matrix)
// and the DGX-2H PCIe/NVSwitch tree of reference/topologies/nvidia-dgx-2h.md.
import { describe, expect, it } from "vitest";
import { buildFabric, nvlinkCount, p2pdmaMapType, pairMatrix, pcieTopoClass, topoClass } from "../src/fabric/index.js";
import { A, dsp, ep, host, hostFn, rp, topo, usp } from "./fabric-helpers.js";

describe("Puget Threadripper PRO WRX90 (published nvidia-smi topo -m)", () => {
  // Host bridges 00, 20, c0, e0 (one NUMA node, AMD family 25 = 0x19). GPUs c1:00.0 / c2:00.0 on root
  // ports c0:01.1 / c0:03.1; ConnectX-7 21:00.0 / 21:00.1 on root port 20:01.1.
  const f = buildFabric(topo([
    host("H00", 0, { cpu: { vendor: "amd", family: 0x19 } }), hostFn("00:00.0", "H00", "1022:14a4"), rp("00:05.1", "H00"),
    ep("14:00.0", "00:05.1", { vendor: "8086", class: "0200" }), ep("14:00.1", "00:05.1", { vendor: "8086", class: "0200" }),
    host("H20", 0x20), hostFn("20:00.0", "H20", "1022:14a4"), rp("20:01.1", "H20"),
    ep("21:00.0", "20:01.1", { vendor: "15b3", class: "0200" }), ep("21:00.1", "20:01.1", { vendor: "15b3", class: "0200" }),
    host("Hc0", 0xc0), hostFn("c0:00.0", "Hc0", "1022:14a4"), rp("c0:01.1", "Hc0"), rp("c0:03.1", "Hc0"),
    ep("c1:00.0", "c0:01.1", { vendor: "10de", class: "0300" }), ep("c1:00.1", "c0:01.1", { vendor: "10de", class: "0403" }),
    ep("c2:00.0", "c0:03.1", { vendor: "10de", class: "0300" }), ep("c2:00.1", "c0:03.1", { vendor: "10de", class: "0403" }),
    host("He0", 0xe0), hostFn("e0:00.0", "He0", "1022:14a4"),
  ]));
  const [gpu0, gpu1, nic0, nic1] = [A("c1:00.0"), A("c2:00.0"), A("21:00.0"), A("21:00.1")];
  it("GPU0/GPU1 on two root ports of host bridge c0: PHB", () => expect(topoClass(f, gpu0, gpu1)).toBe("PHB"));
  it("NIC0/NIC1, two functions of one device: PIX", () => expect(topoClass(f, nic0, nic1)).toBe("PIX"));
  it("GPU/NIC on different host bridges of the one NUMA node: NODE", () => {
    for (const g of [gpu0, gpu1]) for (const n of [nic0, nic1]) expect(topoClass(f, g, n)).toBe("NODE");
  });
  it("Linux: AMD Zen takes the host-bridge path (THRU_HOST_BRIDGE 4); the NIC functions meet at their root port (BUS_ADDR 2)", () => {
    expect(p2pdmaMapType(f, gpu0, gpu1)).toMatchObject({ mapType: "THRU_HOST_BRIDGE", distance: 4 });
    expect(p2pdmaMapType(f, gpu0, nic0)).toMatchObject({ mapType: "THRU_HOST_BRIDGE", distance: 4 });
    expect(p2pdmaMapType(f, nic0, nic1)).toMatchObject({ mapType: "BUS_ADDR", distance: 2 });
  });
  it("the pair matrix lists the endpoint functions, not the host bridge functions", () => {
    expect(pairMatrix(f).devices).toEqual([A("14:00.0"), A("14:00.1"), nic0, nic1, gpu0, A("c1:00.1"), gpu1, A("c2:00.1")]);
  });
});

describe("NVIDIA DGX-2H (PLX switch cascade, 12 NVSwitches)", () => {
  // Package 0 host bridge 2b: RP 2b:00.0 (8086:2030) → PEX9781 2c:00.0 → DSP 2d:04.0 → switch 32:00.0 →
  // DSPs 33:00.0 / 33:10.0 → GPUs 34:00.0 / 36:00.0; DSP 2d:0c.0 → switch 37:00.0 → 38:00.0 / 38:10.0 →
  // GPUs 39:00.0 / 3b:00.0. Host bridge 4e (package 0) → GPU 57:00.0 and an NVSwitch function 61:00.0.
  // Package 1 host bridge ae → GPU b7:00.0.
  const gpu = (a: string, p: string) => ep(a, p, { vendor: "10de", device: "1db8", class: "0302" });
  const plx = { vendor: "10b5", device: "9781" };
  const nodes = [
    host("H2b", 0x2b, { numaNode: 0 }), rp("2b:00.0", "H2b", { vendor: "8086", device: "2030" }), usp("2c:00.0", "2b:00.0", plx),
    dsp("2d:04.0", "2c:00.0", plx), usp("32:00.0", "2d:04.0", plx), dsp("33:00.0", "32:00.0", plx), dsp("33:10.0", "32:00.0", plx),
    gpu("34:00.0", "33:00.0"), gpu("36:00.0", "33:10.0"),
    dsp("2d:0c.0", "2c:00.0", plx), usp("37:00.0", "2d:0c.0", plx), dsp("38:00.0", "37:00.0", plx), dsp("38:10.0", "37:00.0", plx),
    gpu("39:00.0", "38:00.0"), gpu("3b:00.0", "38:10.0"),
    host("H4e", 0x4e, { numaNode: 0 }), rp("4e:00.0", "H4e", { vendor: "8086", device: "2030" }), usp("4f:00.0", "4e:00.0", plx),
    dsp("50:04.0", "4f:00.0", plx), usp("55:00.0", "50:04.0", plx), dsp("56:00.0", "55:00.0", plx), gpu("57:00.0", "56:00.0"),
    dsp("50:10.0", "4f:00.0", plx), ep("61:00.0", "50:10.0", { vendor: "10de", device: "1ac2", class: "0680" }),
    host("Hae", 0xae, { numaNode: 1 }), rp("ae:00.0", "Hae", { vendor: "8086", device: "2030" }), usp("af:00.0", "ae:00.0", plx),
    dsp("b0:04.0", "af:00.0", plx), usp("b5:00.0", "b0:04.0", plx), dsp("b6:00.0", "b5:00.0", plx), gpu("b7:00.0", "b6:00.0"),
    ...Array.from({ length: 12 }, (_, k) => ({ kind: "nvswitch", id: `sw${k}` })),
  ];
  const board0 = ["34:00.0", "36:00.0", "39:00.0", "3b:00.0", "57:00.0"].map(A);
  const links = [
    ...board0.flatMap((g) => [0, 1, 2, 3, 4, 5].map((k) => ({ kind: "nvlink", a: g, b: `sw${k}` }))),
    ...[6, 7, 8, 9, 10, 11].map((k) => ({ kind: "nvlink", a: A("b7:00.0"), b: `sw${k}` })),
    ...[0, 1, 2, 3, 4, 5].map((k) => ({ kind: "nvlink", a: `sw${k}`, b: `sw${k + 6}`, count: 8 })),
  ];
  const f = buildFabric(topo(nodes, links));
  it("PCIe class: two GPUs under one PLX switch → PIX; under cascaded switches → PXB; other host bridge → NODE; other package → SYS", () => {
    expect(pcieTopoClass(f, A("34:00.0"), A("36:00.0"))).toBe("PIX");
    expect(pcieTopoClass(f, A("34:00.0"), A("39:00.0"))).toBe("PXB");
    expect(pcieTopoClass(f, A("34:00.0"), A("57:00.0"))).toBe("NODE");
    expect(pcieTopoClass(f, A("34:00.0"), A("b7:00.0"))).toBe("SYS");
  });
  it("NVLink through NVSwitches hides the PCIe class: NV6 for every GPU pair (each GPU has 6 links)", () => {
    const gpus = [...board0, A("b7:00.0")];
    for (const a of gpus) for (const b of gpus) if (a !== b) expect(topoClass(f, a, b)).toBe("NV6");
    expect(nvlinkCount(f, A("34:00.0"), A("b7:00.0"))).toBe(6);
  });
  it("Linux: same switch BUS_ADDR 4, cascade BUS_ADDR 8, other host bridge (2030 listed) THRU_HOST_BRIDGE 12", () => {
    expect(p2pdmaMapType(f, A("34:00.0"), A("36:00.0"))).toMatchObject({ mapType: "BUS_ADDR", distance: 4 });
    expect(p2pdmaMapType(f, A("34:00.0"), A("39:00.0"))).toMatchObject({ mapType: "BUS_ADDR", distance: 8 });
    expect(p2pdmaMapType(f, A("34:00.0"), A("57:00.0"))).toMatchObject({ mapType: "THRU_HOST_BRIDGE", distance: 12 });
  });
  it("the NVSwitch management function (class 0680) is not a matrix device", () => {
    expect(pairMatrix(f).devices).not.toContain(A("61:00.0"));
    expect(pairMatrix(f).devices).toHaveLength(6);
  });
});
