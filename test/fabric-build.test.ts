// buildFabric: every validation error names the field path and value (DESIGN §4), resource
// assignment as drivers/pci/setup-bus.c does it, bus numbering, and the documented defaults.
import { describe, expect, it } from "vitest";
import { loadTopologyFile,
  buildFabric, DEFAULT_MMIO32_LIMIT, DEFAULT_MMIO64_BASE, findNode, getFunction, type Fabric, type PciFunction,
} from "../src/fabric/index.js";
import { A, dsp, ep, expectInputError, host, hostFn, rp, topo, usp } from "./fabric-helpers.js";

const base = () => [host("H", 0), hostFn("00:00.0", "H", "8086:09a2"), rp("00:01.0", "H")];
const withEp = (extra: Record<string, unknown>) => topo([...base(), ep("01:00.0", "00:01.0", extra)]);
const bar = (o: Record<string, unknown>) => ({ bars: [{ index: 0, ...o }] });

describe("shape errors (zod) name the path and value", () => {
  it("an unknown field is rejected: nodes[3].bars[0].sise", () => {
    expectInputError(() => buildFabric(withEp({ bars: [{ index: 0, size: "1MiB", sise: 5 }] })), "nodes[3].bars[0].sise", "5");
  });
  it("a size that is not a quantity: nodes[3].bars[0].size", () => {
    expectInputError(() => buildFabric(withEp(bar({ size: "lots" }))), "nodes[3].bars[0].size", '"lots"');
  });
  it("an address of 2^53 or more is refused (Quantity: safe integers only)", () => {
    expectInputError(() => buildFabric(withEp(bar({ size: "1MiB", addr: "0x20000000000000" }))), "nodes[3].bars[0].addr", '"0x20000000000000"');
  });
  it("an unknown node kind names nodes[i].kind", () => {
    expectInputError(() => buildFabric(topo([...base(), { kind: "gizmo", id: "g", parent: "H" }])), "nodes[3].kind", '"gizmo"');
  });
  it("the source name prefixes the message", () => {
    const e = expectInputError(() => buildFabric(withEp(bar({ size: "lots" })), "machine.json"), "nodes[3].bars[0].size", '"lots"');
    expect(e.message.startsWith("machine.json: nodes[3].bars[0].size:")).toBe(true);
  });
});

describe("cross-field errors name the field and value", () => {
  it("duplicate id", () => {
    expectInputError(() => buildFabric(topo([...base(), ep("01:00.0", "00:01.0"), ep("01:00.0", "00:01.0")])), "nodes[4].id", '"0000:01:00.0"');
  });
  it("dangling parent", () => {
    expectInputError(() => buildFabric(topo([...base(), ep("01:00.0", "nowhere")])), "nodes[3].parent", '"nowhere"');
  });
  it("a function whose parent is an endpoint", () => {
    expectInputError(() => buildFabric(topo([...base(), ep("01:00.0", "00:01.0"), ep("02:00.0", "01:00.0")])), "nodes[4].parent", '"0000:01:00.0"');
  });
  it("a cycle of parents", () => {
    const t = topo([host("H", 0), { kind: "bridge", id: "x", parent: "y" }, { kind: "bridge", id: "y", parent: "x" }]);
    expectInputError(() => buildFabric(t), "nodes[1].parent", '"y"');
  });
  it("BAR size not a power of two", () => {
    expectInputError(() => buildFabric(withEp(bar({ size: 3000 }))), "nodes[3].bars[0].size", "3000");
  });
  it("BAR size below 16 bytes", () => {
    expectInputError(() => buildFabric(withEp(bar({ size: 8 }))), "nodes[3].bars[0].size", "8");
  });
  it("misaligned BAR address (BARs are naturally aligned)", () => {
    expectInputError(() => buildFabric(withEp(bar({ size: "1MiB", addr: "0x80080000" }))), "nodes[3].bars[0].addr", "0x80080000");
  });
  it("a 32-bit BAR above 4 GiB", () => {
    expectInputError(() => buildFabric(withEp(bar({ size: "1MiB", addr: "0x100000000", is64: false }))), "nodes[3].bars[0].addr", "0x100000000");
  });
  it("a 64-bit BAR 5, and a BAR in the upper half of a 64-bit BAR", () => {
    expectInputError(() => buildFabric(withEp({ bars: [{ index: 5, size: "1MiB" }] })), "nodes[3].bars[0].is64", "true");
    expectInputError(() => buildFabric(withEp({ bars: [{ index: 0, size: "1MiB" }, { index: 1, size: "1MiB", is64: false }] })), "nodes[3].bars[1].index", "1");
  });
  it("overlapping BARs anywhere in the machine", () => {
    const t = topo([...base(), ep("01:00.0", "00:01.0", bar({ size: "1MiB", addr: "0x90000000", prefetchable: false })),
      ep("01:00.1", "00:01.0", bar({ size: "2MiB", addr: "0x90000000", prefetchable: false }))]);
    expectInputError(() => buildFabric(t), "nodes[4].bars[0].addr", "0x90000000");
  });
  it("a non-prefetchable BAR outside its bridge's mem window (the prefetch window does not count)", () => {
    const t = topo([host("H", 0), rp("00:01.0", "H", { windows: { mem: { base: "0x90000000", size: "1MiB" }, prefetch: { base: "0x4000000000", size: "1GiB" } } }),
      ep("01:00.0", "00:01.0", bar({ size: "1MiB", addr: "0x4000000000", prefetchable: false }))]);
    expectInputError(() => buildFabric(t), "nodes[2].bars[0].addr", "0x4000000000");
  });
  it("a prefetchable BAR may sit in the mem window", () => {
    const t = topo([host("H", 0), rp("00:01.0", "H", { windows: { mem: { base: "0x90000000", size: "2MiB" } } }),
      ep("01:00.0", "00:01.0", bar({ size: "1MiB", addr: "0x90100000", is64: false }))]);
    expect(getFunction(buildFabric(t), "01:00.0").bars[0].cpu).toBe(0x9010_0000);
  });
  it("a bridge window outside its parent's window", () => {
    const t = topo([host("H", 0), rp("00:01.0", "H", { windows: { mem: { base: "0x90000000", size: "1MiB" } } }),
      usp("01:00.0", "00:01.0", { windows: { mem: { base: "0x90000000", size: "2MiB" } } })]);
    expectInputError(() => buildFabric(t), "nodes[2].windows.mem.base", "0x90000000");
  });
  it("a bridge window outside the host bridge windows", () => {
    const t = topo([host("H", 0, { windows: [{ cpu: "0x80000000", size: "256MiB" }] }),
      rp("00:01.0", "H", { windows: { mem: { base: "0xa0000000", size: "1MiB" } } })]);
    expectInputError(() => buildFabric(t), "nodes[1].windows.mem.base", "0xa0000000");
  });
  it("a bridge window not on a 1 MiB boundary", () => {
    const t = topo([host("H", 0), rp("00:01.0", "H", { windows: { mem: { base: "0x90080000", size: "1MiB" } } })]);
    expectInputError(() => buildFabric(t), "nodes[1].windows.mem.base", "0x90080000");
  });
  it("a bridge window too small for the BARs below it", () => {
    const t = topo([host("H", 0), rp("00:01.0", "H", { windows: { prefetch: { size: "1MiB" } } }), ep("01:00.0", "00:01.0", bar({ size: "4MiB" }))]);
    expectInputError(() => buildFabric(t), "nodes[1].windows.prefetch.size", "0x100000");
  });
  it("overlapping host bridge windows", () => {
    const t = topo([host("H", 0, { windows: [{ cpu: "0x80000000", size: "256MiB" }] }), host("J", 0x80, { windows: [{ cpu: "0x88000000", size: "256MiB" }] })]);
    expectInputError(() => buildFabric(t), "nodes[1].windows[0].cpu", "0x88000000");
  });
  it("a link endpoint that is not a node", () => {
    const t = topo([...base(), ep("01:00.0", "00:01.0")], [{ kind: "nvlink", a: A("01:00.0"), b: "gpu9" }]);
    expectInputError(() => buildFabric(t), "links[0].b", '"gpu9"');
  });
  it("duplicate bdf", () => {
    const t = topo([...base(), { kind: "endpoint", id: "x", bdf: "0000:01:00.0", parent: A("00:01.0") }, { kind: "endpoint", id: "y", bdf: "01:00.0", parent: A("00:01.0") }]);
    expectInputError(() => buildFabric(t), "nodes[4].bdf", '"01:00.0"');
  });
  it("a PCI address on the wrong bus for its parent", () => {
    const t = topo([...base(), rp("00:02.0", "H"), ep("01:00.0", "00:01.0"), ep("01:00.1", "00:02.0")]);
    expectInputError(() => buildFabric(t), "nodes[5].id", '"0000:01:00.1"');
  });
});

/** Every BAR and window of a fabric with its parent range, for the assignment checks. */
function ranges(f: Fabric) {
  const out: { owner: PciFunction; lo: number; hi: number; align: number; kind: string }[] = [];
  for (const fn of f.functions) {
    for (const b of fn.bars) out.push({ owner: fn, lo: b.cpu, hi: b.cpu + b.size, align: b.size, kind: `BAR${b.index}` });
  }
  return out;
}

describe("resource assignment (drivers/pci/setup-bus.c)", () => {
  // Sizes only: two switches, mixed BAR kinds, two host bridges.
  const t = topo([
    host("H0", 0), hostFn("00:00.0", "H0", "8086:09a2"), rp("00:01.0", "H0"), usp("01:00.0", "00:01.0", bar({ size: "256KiB", is64: false, prefetchable: false })),
    dsp("02:00.0", "01:00.0"), dsp("02:01.0", "01:00.0"),
    ep("03:00.0", "02:00.0", { bars: [{ index: 0, size: "16MiB", is64: false, prefetchable: false }, { index: 1, size: "32GiB" }, { index: 3, size: "32MiB" }] }),
    ep("04:00.0", "02:01.0", { bars: [{ index: 0, size: "4KiB", is64: false, prefetchable: false }, { index: 2, size: "64MiB", is64: false }] }),
    ep("04:00.1", "02:01.0", { bars: [{ index: 0, size: "8MiB" }] }),
    rp("00:02.0", "H0"), ep("05:00.0", "00:02.0", { bars: [{ index: 0, size: "16KiB", is64: false, prefetchable: false }] }),
    host("H1", 0x80), hostFn("80:00.0", "H1", "8086:09a2"), rp("80:01.0", "H1"), ep("81:00.0", "80:01.0", { bars: [{ index: 0, size: "1GiB" }] }),
  ]);
  const f = buildFabric(t);
  it("every BAR is naturally aligned", () => {
    for (const r of ranges(f)) expect(r.lo % r.align, `${r.owner.id} ${r.kind}`).toBe(0);
  });
  it("every BAR is inside its bridge windows: non-prefetchable in mem, 64-bit prefetchable in prefetch", () => {
    for (const fn of f.functions) {
      const p = findNode(f, fn.parent)!;
      if (p.kind !== "rootPort" && p.kind !== "switchDownstream" && p.kind !== "switchUpstream") continue;
      for (const b of fn.bars) {
        const w = b.prefetchable && b.is64 ? p.windows.prefetch! : p.windows.mem!;
        expect(b.cpu >= w.cpu && b.cpu + b.size <= w.cpu + w.size, `${fn.id} BAR${b.index}`).toBe(true);
      }
    }
  });
  it("bridge windows have 1 MiB granularity and nest in their parent's window and host apertures", () => {
    for (const fn of f.functions) {
      for (const cls of ["mem", "prefetch"] as const) {
        const w = fn.windows[cls];
        if (!w) continue;
        expect(w.cpu % 2 ** 20).toBe(0);
        expect(w.size % 2 ** 20).toBe(0);
        const p = findNode(f, fn.parent)!;
        const outer = p.kind === "hostBridge" ? p.windows : [(p as PciFunction).windows[cls]!];
        expect(outer.some((o) => w.cpu >= o.cpu && w.cpu + w.size <= o.cpu + o.size), `${fn.id} ${cls}`).toBe(true);
      }
    }
  });
  it("no two BARs overlap and windows are sized to cover their children", () => {
    const rs = ranges(f).sort((a, b) => a.lo - b.lo);
    for (let k = 1; k < rs.length; k++) expect(rs[k].lo).toBeGreaterThanOrEqual(rs[k - 1].hi);
    const sw = getFunction(f, "02:00.0");
    expect(sw.windows.prefetch!.size).toBe(32 * 2 ** 30 + 32 * 2 ** 20);
    expect(sw.windows.mem!.size).toBe(16 * 2 ** 20);
  });
  it("default host apertures: a 32-bit window below 4 GiB and a 64-bit prefetchable window above, distinct per host bridge", () => {
    const [h0, h1] = f.hostBridges;
    for (const h of [h0, h1]) {
      const mem = h.windows.find((w) => !w.prefetchable)!;
      const pref = h.windows.find((w) => w.prefetchable)!;
      expect(mem.cpu + mem.size).toBeLessThanOrEqual(DEFAULT_MMIO32_LIMIT);
      expect(pref.cpu).toBeGreaterThanOrEqual(2 ** 32);
      expect(mem.bus).toBe(mem.cpu);
    }
    const all = [...h0.windows, ...h1.windows].sort((a, b) => a.cpu - b.cpu);
    for (let k = 1; k < all.length; k++) expect(all[k].cpu).toBeGreaterThanOrEqual(all[k - 1].cpu + all[k - 1].size);
  });
  it("given addresses are kept", () => {
    const g = buildFabric(topo([...base(), ep("01:00.0", "00:01.0", bar({ size: "64GiB", addr: "0x13000000000" })), ep("01:00.1", "00:01.0", bar({ size: "1MiB" }))]));
    expect(getFunction(g, "01:00.0").bars[0].cpu).toBe(0x130_0000_0000);
    const other = getFunction(g, "01:00.1").bars[0];
    expect(other.cpu + other.size <= 0x130_0000_0000 || other.cpu >= 0x140_0000_0000).toBe(true);
  });
  it("secondary bus numbers are assigned depth-first when not given", () => {
    const g = buildFabric(topo([host("H", 0), { kind: "rootPort", id: "rp1", parent: "H" }, { kind: "switchUpstream", id: "u", parent: "rp1" },
      { kind: "switchDownstream", id: "d0", parent: "u" }, { kind: "endpoint", id: "e0", parent: "d0" },
      { kind: "switchDownstream", id: "d1", parent: "u" }, { kind: "rootPort", id: "rp2", parent: "H" }, { kind: "endpoint", id: "e2", parent: "rp2" }]));
    const sec = (id: string) => [getFunction(g, id).secondaryBus, getFunction(g, id).subordinateBus];
    expect([sec("rp1"), sec("u"), sec("d0"), sec("d1"), sec("rp2")]).toEqual([[1, 4], [2, 4], [3, 3], [4, 4], [5, 5]]);
    expect(getFunction(g, "e2").address).toBe("0000:05:00.0");
    expect(getFunction(g, "rp2").address).toBe("0000:00:01.0");
  });
});

describe("documented defaults", () => {
  it("roles from class code and vendor", () => {
    const classes: [string, string | undefined, string][] = [["0300", undefined, "gpu"], ["0302", undefined, "gpu"], ["0200", undefined, "nic"], ["0207", undefined, "nic"],
      ["0108", undefined, "nvme"], ["0680", "10de", "nvswitch"], ["0680", "8086", "other"], ["0600", undefined, "hostFunction"], ["1200", undefined, "accelerator"], ["0b40", undefined, "accelerator"]];
    const f = buildFabric(topo([host("H", 0), ...classes.map(([c, v], k) => ep(`00:${(k + 1).toString(16).padStart(2, "0")}.0`, "H", { class: c, ...(v ? { vendor: v } : {}) }))]));
    expect(classes.map((_, k) => getFunction(f, `00:${(k + 1).toString(16).padStart(2, "0")}.0`).role)).toEqual(classes.map((c) => c[2]));
  });
  it("NUMA node of a host bridge from a device below it; CPU from the root bus vendor (1022 → AMD family 0x17)", () => {
    const f = buildFabric(topo([host("H", 0), hostFn("00:00.0", "H", "1022:14a4"), rp("00:01.1", "H"), ep("01:00.0", "00:01.1", { numaNode: 3 }), ep("01:00.1", "00:01.1")]));
    expect(f.hostBridges[0].numaNode).toBe(3);
    expect(getFunction(f, "01:00.1").numaNode).toBe(3);
    expect(f.hostBridges[0].cpu).toEqual({ vendor: "amd", family: 0x17 });
    expect(f.machineCpu).toEqual({ vendor: "amd", family: 0x17 });
  });
  it("IOMMU dma/passthrough: pci_std_enable_acs sets SV|RR|CR|UF where advertised; explicit control is kept; IOMMU off leaves it", () => {
    const build = (iommu: string, acs: object) => getFunction(buildFabric(topo([host("H", 0, { iommu }), rp("00:01.0", "H", { acs })])), "00:01.0").acs;
    expect(build("dma", { capability: ["SV", "RR", "CR", "UF", "TB", "EC"] })).toEqual({ capability: 0x3f, control: 0x1d });
    expect(build("passthrough", { capability: ["RR"] })).toEqual({ capability: 0x04, control: 0x04 });
    expect(build("dma", { capability: ["SV", "RR"], control: [] })).toEqual({ capability: 0x05, control: 0 });
    expect(build("off", { capability: ["SV", "RR"] })).toEqual({ capability: 0x05, control: 0 });
  });
});

describe("address assignment around the BARs a dump gives", () => {
  it("a dump with an <unassigned> BAR and functions without -vvv blocks builds with every BAR naturally aligned and none overlapping (setup-bus.c never overlaps assigned resources)", () => {
    const fabric = loadTopologyFile("test/fixtures/import/multi-root-nn.lspci.txt");
    const bars = fabric.functions.flatMap((f) => f.bars.map((b) => ({ id: f.id, index: b.index, lo: b.cpu, hi: b.cpu + b.size })));
    expect(bars.length).toBeGreaterThan(4);
    for (const a of bars) {
      expect(Number.isSafeInteger(a.lo)).toBe(true);
      expect(a.lo % (a.hi - a.lo)).toBe(0);
      for (const b of bars) if (a !== b) expect(a.hi <= b.lo || b.hi <= a.lo, `${a.id} BAR ${a.index} overlaps ${b.id} BAR ${b.index}`).toBe(true);
    }
  });

  it("keeps a BAR it assigns off a given BAR of the other window class (64-bit non-prefetchable at 1 TiB)", () => {
    const fabric = buildFabric(topo([
      host("pci0000:00", 0),
      rp("00:01.0", "pci0000:00"),
      ep("01:00.0", "00:01.0", { bars: [{ index: 0, size: "16MiB", addr: DEFAULT_MMIO64_BASE, is64: true, prefetchable: false }] }),
      ep("01:00.1", "00:01.0", { bars: [{ index: 0, size: "16MiB", is64: true, prefetchable: true }] }),
    ]));
    const given = getFunction(fabric, "0000:01:00.0").bars[0];
    const placed = getFunction(fabric, "0000:01:00.1").bars[0];
    expect(given.cpu).toBe(DEFAULT_MMIO64_BASE);
    expect(placed.cpu % placed.size).toBe(0);
    expect(placed.cpu + placed.size <= given.cpu || given.cpu + given.size <= placed.cpu).toBe(true);
  });
});

