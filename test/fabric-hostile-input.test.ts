// Hostile and careless topology input: dumps cut anywhere, garbled lines, whitespace bombs, XML
// nesting, DOCTYPE and prototype tricks, scenario files given to `topo`, short PCI addresses, and
// misspelt fields. Each case names the input it guards and asserts the InputError (field, value,
// reason) or the warning and the values read. Time bounds are "must finish" bounds for hostile
// input, at least 10x what the parse takes.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildFabric, findNode, getFunction, loadTopologyFile, nvlinkCount, p2pdmaMapType, routeAddress, type TopologyWarning } from "../src/fabric/index.js";
import { parseTopologyText } from "../src/fabric/import/index.js";
import { MAX_XML_DEPTH } from "../src/fabric/import/xml-guard.js";
import { Topology, type TopologySpec } from "../src/fabric/schema.js";
import { InputError } from "../src/units/input-error.js";
import { inputErrorFromZod } from "../src/units/zod-input-error.js";
import { A, dsp, ep, expectInputError, host, hostFn, inputError, rp, topo, usp } from "./fabric-helpers.js";

const FIX = join(import.meta.dirname, "fixtures", "import");
const DUMP = readFileSync(join(FIX, "multi-root-nn.lspci.txt"), "utf8");
const HWLOC = readFileSync(join(FIX, "hwloc-v1.xml"), "utf8");

/** Imports `text`, collecting warnings. */
function importText(text: string, source = "m.txt"): { spec: TopologySpec; warnings: TopologyWarning[] } {
  const warnings: TopologyWarning[] = [];
  const spec = Topology.parse(parseTopologyText(text, source, { onWarning: (w) => warnings.push(w) }));
  return { spec, warnings };
}

const barsOf = (spec: TopologySpec, id: string) => (spec.nodes.find((n) => n.id === id) as { bars?: unknown[] } | undefined)?.bars;
/** The dump up to and including `needle`'s first occurrence (no newline after it). */
const cutAfter = (text: string, needle: string) => text.slice(0, text.indexOf(needle) + needle.length);

describe("an lspci dump cut anywhere: refused when the cut could change what is read, else a warning", () => {
  it("a dump cut inside a Region line of lspci -vvv is refused, naming the line: the BAR never just disappears", () => {
    const e = inputError(() => parseTopologyText(cutAfter(DUMP, "Region 1: Memory at 20000000000 (64-bit, pref"), "cut.txt"));
    expect(e.field).toBe("line 39");
    expect(e.value).toBe("Region 1: Memory at 20000000000 (64-bit, pref");
    expect(e.message).toMatch(/^cut\.txt: line 39: lspci -vvv: the file ends inside this line, which the importer reads .*the dump looks cut/);
    // Cut after the size's closing bracket is a whole line, but still the file's unterminated end.
    expect(inputError(() => parseTopologyText(cutAfter(DUMP, "[size=32G]"), "cut.txt")).field).toBe("line 39");
  });

  it("a Region line garbled in the middle of a dump is refused, not skipped", () => {
    const garbled = DUMP.replace("(64-bit, prefetchable) [size=32G]", "(64-bit,@prefetchable) [size=32G]");
    const e = inputError(() => parseTopologyText(garbled, "g.txt"));
    expect(e.field).toBe("line 39");
    expect(e.message).toMatch(/Region line not understood \(expected `Memory at ADDRESS \(TYPE, \[non-\]prefetchable\)`\); is the dump cut\?/);
    const openSize = DUMP.replace("[size=32G]", "[size=32");
    expect(inputError(() => parseTopologyText(openSize, "s.txt")).message).toMatch(/line 39: lspci -vvv: Region line not understood \(unexpected text after the BAR type: " \[size=32"\)/);
  });

  it("a Region line lspci printed without a size is read with a warning naming the BAR it leaves out", () => {
    const { spec, warnings } = importText(DUMP.replace("(64-bit, prefetchable) [size=32G]", "(64-bit, prefetchable)"));
    expect(barsOf(spec, "0000:1a:00.0")).toEqual([{ index: 0, size: 16 * 2 ** 20, addr: 0xc5000000, is64: false, prefetchable: false }]);
    const w = warnings.find((x) => x.field === "line 39")!;
    expect(w.reason).toBe("0000:1a:00.0 BAR 1 left out: lspci printed no size for it (it could not read one)");
  });

  it("a low-1M BAR is a 32-bit BAR, as the kernel's decode_bar() treats it, with a warning", () => {
    const { spec, warnings } = importText(DUMP.replace("Memory at c5000000 (32-bit, non-prefetchable)", "Memory at c5000000 (low-1M, non-prefetchable)"));
    expect(barsOf(spec, "0000:1a:00.0")?.[0]).toEqual({ index: 0, size: 16 * 2 ** 20, addr: 0xc5000000, is64: false, prefetchable: false });
    expect(warnings.some((w) => w.field === "line 38" && /memory type low-1M treated as a 32-bit BAR, as the kernel's decode_bar\(\) does/.test(w.reason))).toBe(true);
  });

  it("a tree cut right after `+-`, after a fork `-+-`, or at a line boundary before its last branch is refused", () => {
    const afterBranch = inputError(() => parseTopologyText(cutAfter(DUMP, " |                                           +-"), "t.txt"));
    expect(afterBranch.message).toMatch(/t\.txt: line 1 column 2: lspci -tv: this fork's last branch `\\-` never comes \(the tree stops before line 6\): the dump looks cut/);
    const afterFork = inputError(() => parseTopologyText("-[0000:00]-+-00.0  Intel Corporation Device 2020\n           +-01.0-[01]--+-\n", "f.txt"));
    expect(afterFork.message).toMatch(/line 2 column 23: lspci -tv: connector with nothing after it: the dump looks cut/);
    const beforeChild = inputError(() => parseTopologyText("-[0000:00]-+-00.0  X\n           \\-01.0-[01]----\n", "c.txt"));
    expect(beforeChild.message).toMatch(/line 2 column 23: lspci -tv: connector with nothing after it/);
    const lineBoundary = inputError(() => parseTopologyText("-[0000:00]-+-00.0  X\n           +-01.0  Y\n", "b.txt"));
    expect(lineBoundary.field).toBe("line 1 column 12");
  });

  it("an empty bridge `-[bb]--` (ls-tree.c show_tree_bus of a bus without devices) is still accepted", () => {
    const { spec } = importText("-[0000:00]-+-00.0  X\n           \\-01.0-[01]--\n");
    expect(spec.nodes.find((n) => n.id === "0000:00:01.0")).toMatchObject({ kind: "rootPort", secondaryBus: 1 });
  });

  it("a tree whose last line lacks its newline is refused (a name may be cut); with the newline it is read", () => {
    const tree = "-[0000:00]-+-00.0  Intel Corporation Device 2020\n           \\-01.0  NVIDIA Corporation GV100GL [Tesla V100 PCIe 32GB]";
    const e = inputError(() => parseTopologyText(tree, "n.txt"));
    expect(e.field).toBe("line 2");
    expect(e.message).toMatch(/the file ends without a newline inside the lspci -tv tree: the dump looks cut .*end the file with a newline if this line is whole/);
    expect(importText(`${tree}\n`).spec.nodes.find((n) => n.id === "0000:00:01.0")).toMatchObject({ vendor: "10de", class: "0302" });
  });

  it("a dump cut inside a line the importer does not read is accepted with a warning, and reads the same BARs", () => {
    const whole = importText(DUMP).spec;
    const { spec, warnings } = importText(cutAfter(DUMP, "Kernel driver in use: mlx5_co"));
    expect(barsOf(spec, "0000:1a:00.0")).toEqual(barsOf(whole, "0000:1a:00.0"));
    expect(barsOf(spec, "0000:1b:00.0")).toEqual(barsOf(whole, "0000:1b:00.0"));
    const w = warnings.find((x) => x.field === "line 59")!;
    expect(w.value).toBe("Kernel driver in use: mlx5_co");
    expect(w.reason).toBe("the file ends without a newline inside a line the importer does not read: if the dump was cut here, the rest of the block of 0000:1b:00.0 is missing");
  });

  it("a dump cut at a line boundary inside a block warns that the rest of the block may be missing", () => {
    const { warnings } = importText(cutAfter(DUMP, "Region 0: Memory at c5000000 (32-bit, non-prefetchable) [size=16M]\n"));
    const w = warnings.find((x) => x.field === "line 38")!;
    expect(w.reason).toBe("the last lspci -vvv block does not end with the blank line lspci prints after every block: if the dump was cut here, the rest of the block of 0000:1a:00.0 is missing");
    const missing = warnings.find((x) => x.field === "file")!;
    expect(missing.value).toBe("4 of 16 functions");
    expect(missing.reason).toMatch(/^12 function\(s\) of the lspci -tv tree have no lspci -vvv block \(0000:00:00\.0, 0000:00:00\.1, 0000:00:1f\.0, \.\.\.\): their BARs are defaults by role/);
  });

  it("ACS, LnkSta, NUMA and bridge-window lines that are cut or garbled are refused, naming line and value", () => {
    const acs = inputError(() => parseTopologyText(DUMP.replace("ReqRedir+ CmpltRedir+ UpstreamFwd+ EgressCtrl- DirectTrans-\n\n0000:1a", "ReqRedir+\n\n0000:1a"), "a.txt"));
    expect(acs.field).toBe("line 33");
    expect(acs.message).toMatch(/ACSCtl lacks CmpltRedir, UpstreamFwd, EgressCtrl, DirectTrans \(lspci prints all seven flags\); is the dump cut\?/);
    const link = inputError(() => parseTopologyText(DUMP.replace("LnkSta:\tSpeed 16GT/s (downgraded), Width x16", "LnkSta:\tSpeed 16GT/s (downgr"), "l.txt"));
    expect(link.field).toBe("line 26");
    expect(link.message).toMatch(/LnkSta not understood \(expected `Speed S, Width xN`\)/);
    const numa = inputError(() => parseTopologyText(DUMP.replace("\tNUMA node: 1\n\tRegion", "\tNUMA node: one\n\tRegion"), "n.txt"));
    expect(numa.field).toBe("line 37");
    expect(numa.value).toBe("NUMA node: one");
    const window = inputError(() => parseTopologyText(DUMP.replace("c5000000-c61fffff [size=18M]", "c5000000-c61f [size=18M]"), "w.txt"));
    expect(window.field).toBe("line 16");
    expect(window.message).toMatch(/bridge window not understood \(expected base-limit of equal width\); is the dump cut\?/);
  });

  it("a window lspci -vv prints as `[disabled]` without a range, or with its limit below its base, is a closed window", () => {
    const noRange = importText(DUMP.replace("Memory behind bridge: c5000000-c61fffff [size=18M] [32-bit]", "Memory behind bridge: [disabled] [32-bit]")).spec;
    expect(noRange.nodes.find((n) => n.id === "0000:17:02.0")).toMatchObject({ windows: { prefetch: { base: 0x200_0000_0000 } } });
    expect((noRange.nodes.find((n) => n.id === "0000:17:02.0") as { windows: object }).windows).not.toHaveProperty("mem");
    // pci_read_bridge_mmio(): base > limit means the window is off.
    const inverted = importText(DUMP.replace("c5000000-c61fffff", "fff00000-000fffff")).spec;
    expect((inverted.nodes.find((n) => n.id === "0000:17:02.0") as { windows: object }).windows).not.toHaveProperty("mem");
  });

  it("every cut point of a dump: an InputError, or a warning, or the same BARs as the whole dump", () => {
    const whole = importText(DUMP).spec;
    let refused = 0;
    let warned = 0;
    for (let at = 1; at < DUMP.length; at++) {
      let result: ReturnType<typeof importText>;
      try {
        result = importText(DUMP.slice(0, at), "cut.txt");
      } catch (e) {
        expect(e).toBeInstanceOf(InputError);
        refused++;
        continue;
      }
      if (result.warnings.length) {
        warned++;
        continue;
      }
      if (!/lspci -vvv block\(s\)/.test(result.spec.description ?? "")) {
        // Cut between the tree and the first -vvv block: a tree-only dump, whose BARs are documented defaults.
        expect(result.spec.description).toMatch(/device\(s\) without a -vvv block: BARs not in the dump use default sizes per role/);
        continue;
      }
      for (const n of whole.nodes) if (result.spec.nodes.some((m) => m.id === n.id)) expect(barsOf(result.spec, n.id)).toEqual(barsOf(whole, n.id));
    }
    expect(refused).toBeGreaterThan(DUMP.length / 2);
    expect(warned).toBeGreaterThan(0);
  });
});

describe("hostile lines parse in linear time", () => {
  const MiB1 = 2 ** 20;
  const cases: [string, string][] = [
    ["a 1 MB whitespace run inside a tree line's name", `-[0000:00]----00.0  Intel${" ".repeat(MiB1)}X710 [8086:1572]\n`],
    ["a 1 MB whitespace run at the end of a tree line", `-[0000:00]----00.0  Intel${" ".repeat(MiB1)}\n`],
    ["a 1 MB whitespace run in a -vvv header before `(rev`", `-[0000:00]----00.0  Intel\n00:00.0 Host bridge: Intel${" ".repeat(MiB1)}(rev${" ".repeat(MiB1)}\n`],
    ["a -vvv header of 500 000 `: ` and a carriage return", `-[0000:00]----00.0  Intel\n00:00.0 Host${": ".repeat(MiB1 / 2)}\r\n`],
    ["a 1 MB word in an ACS line", `-[0000:00]----00.0  Intel\n00:00.0 Host bridge: Intel\n\tCapabilities: [220 v1] Access Control Services\n\t\tACSCtl:\t${"a".repeat(MiB1)}\n`],
    ["a 1 MB bridge window limit before a carriage return", `-[0000:00]----00.0  Intel\n00:00.0 PCI bridge: Intel\n\tMemory behind bridge: 1-${"f".repeat(MiB1)}\r [x]\n`],
  ];
  for (const [name, text] of cases) {
    it(`${name}: read or refused in under a second`, () => {
      const t0 = performance.now();
      let outcome: string;
      try {
        outcome = `${importText(text).spec.nodes.length} nodes`;
      } catch (e) {
        expect(e).toBeInstanceOf(InputError);
        outcome = (e as InputError).field;
      }
      expect(performance.now() - t0).toBeLessThan(1000);
      expect(outcome).toBe(name.includes("ACS") ? "line 4" : name.includes("window") ? "line 3" : "2 nodes");
    });
  }

  it("1 MB of `<!DOCTYPE` without `>` (a search from every occurrence would be quadratic) is refused in under a second", () => {
    const t0 = performance.now();
    const e = inputError(() => parseTopologyText("<!DOCTYPE".repeat(2 ** 20 / 9), "d.xml"));
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(e.message).toMatch(/^d\.xml: line 1: XML not well formed: Start tag expected/);
  });

  it("a 1 MB run of digits in an hwloc GPU model (the `NN GB` memory guess) in under a second", () => {
    const model = "1".repeat(2 ** 20);
    const xml = HWLOC.replace('pci_link_speed="3.938462"/>', `pci_link_speed="3.938462"><object type="OSDev" name="x"><info name="GPUModel" value="${model}"/></object></object>`);
    const t0 = performance.now();
    const { spec } = importText(xml, "m.xml");
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(spec.nodes.find((n) => n.id === "0000:81:00.0")).toMatchObject({ name: model });
  });
});

describe("hwloc XML: every refusal is an InputError; guard and parser share one depth limit", () => {
  const nested = (depth: number) =>
    HWLOC.replace('<info name="Backend" value="Linux"/>', `${'<object type="Misc">'.repeat(depth)}${"</object>".repeat(depth)}`);

  it("nesting deeper than fast-xml-parser's default limit (100) but within MAX_XML_DEPTH is read", () => {
    // topology > Machine > Misc x (MAX_XML_DEPTH - 2): exactly MAX_XML_DEPTH levels.
    const { spec } = importText(nested(MAX_XML_DEPTH - 2), "deep.xml");
    expect(spec.nodes.find((n) => n.id === "0000:81:00.0")).toMatchObject({ class: "0108" });
  });

  it("one level more is refused by the guard with line and column, even behind `/>` inside attribute values", () => {
    const e = inputError(() => parseTopologyText(nested(MAX_XML_DEPTH - 1), "deep.xml"));
    expect(e.message).toMatch(/^deep\.xml: line 5 column \d+: XML elements nested deeper than 256 levels/);
    const hidden = HWLOC.replace('<info name="Backend" value="Linux"/>', `${'<object x="/>" type="Misc">'.repeat(300)}${"</object>".repeat(300)}`);
    expect(inputError(() => parseTopologyText(hidden, "hidden.xml")).message).toMatch(/hidden\.xml: line 5 column \d+: XML elements nested deeper than 256 levels/);
  });

  it("a second DOCTYPE, or one after the root element, is refused with line and column", () => {
    const twice = HWLOC.replace('<!DOCTYPE topology SYSTEM "hwloc.dtd">', '<!DOCTYPE topology SYSTEM "hwloc.dtd">\n<!DOCTYPE topology>');
    expect(inputError(() => parseTopologyText(twice, "d.xml")).message).toBe(
      'd.xml: line 3 column 1: XML has a second DOCTYPE (the first is at line 2 column 1); refused (value: "<!DOCTYPE")',
    );
    const late = HWLOC.replace('<!DOCTYPE topology SYSTEM "hwloc.dtd">\n', "").replace("<topology>", "<topology><!DOCTYPE topology>");
    expect(inputError(() => parseTopologyText(late, "l.xml")).message).toMatch(/l\.xml: line 2 column 11: XML DOCTYPE after the root element started/);
  });

  it("element and attribute names __proto__, constructor and prototype are refused with line and column", () => {
    for (const name of ["__proto__", "constructor", "prototype"]) {
      const element = inputError(() => parseTopologyText(HWLOC.replace('<info name="Backend" value="Linux"/>', `<${name}/>`), "e.xml"));
      expect(element.message).toBe(`e.xml: line 5 column 6: XML element name \`${name}\` is not allowed (it would reach an object prototype); not an hwloc export (value: "${name}")`);
      const attribute = inputError(() => parseTopologyText(HWLOC.replace('<info name="Backend"', `<info ${name}="x" name="Backend"`), "a.xml"));
      expect(attribute.field).toBe("line 5 column 11");
    }
  });

  it("what the parser itself refuses (a DOCTYPE with markup inside it) is an InputError naming the file", () => {
    const e = inputError(() => parseTopologyText(HWLOC.replace('<!DOCTYPE topology SYSTEM "hwloc.dtd">', '<!DOCTYPE topo<a/>logy SYSTEM "hwloc.dtd">'), "p.xml"));
    expect(e.message).toMatch(/^p\.xml: file: XML refused by the parser: Invalid DOCTYPE/);
  });

  it("attributes named like child elements (info=, object=) are not mistaken for them", () => {
    const { spec } = importText(HWLOC.replace('<object type="Machine"', '<object type="Machine" info="x" object="y"'), "i.xml");
    expect(spec.nodes.map((n) => n.id)).toEqual(["pci0000:80", "0000:80:02.0", "0000:81:00.0"]);
  });
});

describe("JSON and unknown files", () => {
  it("deep nesting is refused by the guard with the line and column of the first level too deep", () => {
    const deep = `{\n  "name": "x",\n  "nodes": ${"[".repeat(100)}`;
    const e = inputError(() => parseTopologyText(deep, "deep.json"));
    expect(e.field).toBe("line 3 column 75");
    expect(e.message).toMatch(/JSON syntax error: nested deeper than 64 levels/);
  });

  it("a scenario file given to `topo` names the command that runs it", () => {
    const e = inputError(() => parseTopologyText(JSON.stringify({ topology: "dmirror", steps: [{ op: "mmap", buffer: "a", pages: 1 }] }), "s.json"));
    expect(e.message).toBe('s.json: file: is a scenario file (it has `steps`), not a topology: run it with `p2pdma-lab run s.json` (value: "s.json")');
  });

  it("JSON that is not an object, and text of no known format, say which formats are accepted", () => {
    expect(inputError(() => parseTopologyText("[1, 2]", "a.json")).message).toMatch(/JSON holds an array, not a topology object \(accepted: the kit's topology JSON .*`lspci -tv` text .*hwloc XML/);
    expect(inputError(() => parseTopologyText("GPU0\tGPU1\tCPU Affinity\n", "nvsmi.txt")).message).toMatch(/not a recognised topology format \(accepted: .*hwloc XML \(`lstopo --of xml`\)\)/);
  });
});

describe("short PCI addresses (`01:00.0`, as lspci prints them) name devices wherever a full one does", () => {
  const machine = () =>
    topo([
      host("h0", 0, { cpu: { vendor: "amd" } }),
      hostFn("00:00.0", "h0", "1022:1480"),
      rp("00:01.0", "h0"),
      usp("01:00.0", "00:01.0"),
      dsp("02:00.0", "01:00.0"),
      dsp("02:01.0", "01:00.0"),
      // Parent and PF named by short address, an id-named GPU by bdf.
      ep("03:00.0", "02:00.0", { class: "0200", bars: [{ index: 0, size: "32MiB" }] }),
      { kind: "endpoint", id: "vf0", bdf: "0000:03:00.1", parent: "02:00.0", physfn: "03:00.0" },
      { kind: "endpoint", id: "gpu0", bdf: "0000:04:00.0", parent: "02:01.0", class: "0302", bars: [{ index: 1, size: "1GiB" }] },
    ], [{ kind: "nvlink", a: "03:00.0", b: "04:00.0", count: 2 }]);

  it("parents, a VF's PF and NVLink ends given as short addresses are stored as ids", () => {
    const fabric = buildFabric(machine());
    expect(fabric.byId.get("vf0")).toMatchObject({ parent: "0000:02:00.0", physfn: "0000:03:00.0" });
    expect(fabric.nvlinks).toEqual([{ a: "0000:03:00.0", b: "gpu0", count: 2, gen: undefined }]);
    expect(nvlinkCount(fabric, "04:00.0", "03:00.0")).toBe(2);
  });

  it("getFunction, findNode, p2pdmaMapType and routeAddress take `bb:dd.f` as `0000:bb:dd.f`", () => {
    const fabric = buildFabric(machine());
    expect(getFunction(fabric, "04:00.0").id).toBe("gpu0");
    expect(findNode(fabric, "02:01.0")?.id).toBe(A("02:01.0"));
    expect(p2pdmaMapType(fabric, "04:00.0", "03:00.0")).toMatchObject({ mapType: "BUS_ADDR", distance: 4 });
    const gpuBar = getFunction(fabric, "gpu0").bars[0];
    expect(routeAddress(fabric, "03:00.0", gpuBar.bus)).toMatchObject({ unclaimed: false, target: "gpu0", bar: 1 });
  });

  it("a short address found in two domains is refused, listing both", () => {
    const apart = buildFabric(topo([host("h0", 0), ep("0000:00:04.0", "h0"), host("h1", 0x80, { domain: 1 }), ep("0001:80:04.0", "h1")]));
    expect(getFunction(apart, "00:04.0").id).toBe("0000:00:04.0"); // only domain 0000 has one there
    expect(getFunction(apart, "80:04.0").id).toBe("0001:80:04.0"); // only domain 0001 has one there
    const both = buildFabric(topo([host("h0", 0), ep("0000:00:04.0", "h0"), host("h1", 0, { domain: 1 }), ep("0001:00:04.0", "h1")]));
    const e = expectInputError(() => getFunction(both, "00:04.0", "provider"), "provider", '"00:04.0"');
    expect(e.message).toMatch(/ambiguous short PCI address: it names a function in each of several domains \(0000:00:04\.0, 0001:00:04\.0\); write the domain/);
  });

  it("an unknown device names the close candidates", () => {
    const fabric = buildFabric(machine());
    const e = expectInputError(() => getFunction(fabric, "gpu1", "client"), "client", '"gpu1"');
    expect(e.message).toMatch(/no device with this id or PCI address in topology "test" \(close: "gpu0"\)/);
    const short = expectInputError(() => getFunction(fabric, "03:00.2"), "device", '"03:00.2"');
    expect(short.message).toMatch(/\(close: "0000:03:00\.0", "0000:03:00\.1"/);
    const bad = machine();
    (bad.nodes as { parent?: string }[])[6].parent = "02:00.1";
    expectInputError(() => buildFabric(bad), "nodes[6].parent", '"02:00.1"');
  });
});

describe("zod messages say how to fix the input", () => {
  const node = { kind: "endpoint", id: "e", parent: "h", bar: [{ index: 0, size: 16 }] };
  const withBar = { name: "x", nodes: [{ kind: "hostBridge", id: "h", rootBus: 0 }, node] };

  it("a node with `bar` instead of `bars` is an unknown field, with `did you mean`", () => {
    const e = expectInputError(() => buildFabric(withBar, "t.json"), "nodes[1].bar", '[{"index":0,"size":16}]');
    expect(e.message).toBe('t.json: nodes[1].bar: unknown field (did you mean `bars`?) (value: [{"index":0,"size":16}])');
  });

  it("an unknown field is reported before a type error zod lists first", () => {
    const both = { ...withBar, nodes: [withBar.nodes[0], { ...node, numaNode: "one" }] };
    const r = Topology.safeParse(both);
    expect(r.success ? [] : r.error.issues.map((i) => i.code)).toEqual(["invalid_type", "unrecognized_keys"]);
    expectInputError(() => buildFabric(both), "nodes[1].bar", "did you mean `bars`?");
  });

  it("without the schema, a required field another issue names is suggested (`rootbus` → `rootBus`)", () => {
    const input = { name: "x", nodes: [{ kind: "hostBridge", id: "h", rootbus: 0 }] };
    const r = Topology.safeParse(input);
    const e = inputErrorFromZod(r.success ? (undefined as never) : r.error, input, { root: "(topology)", discriminator: "kind" });
    expect(e.field).toBe("nodes[0].rootbus");
    expect(e.message).toBe("nodes[0].rootbus: unknown field (did you mean `rootBus`?) (value: 0)");
  });

  it("an unknown field with nothing close says only that it is unknown", () => {
    expectInputError(() => buildFabric({ ...withBar, nodes: [{ kind: "hostBridge", id: "h", rootBus: 0, colour: "red" }] }), "nodes[0].colour", '"red"');
  });
});

describe("the warnings channel of loadTopologyFile", () => {
  const dir = mkdtempSync(join(tmpdir(), "p2pdma-hostile-"));

  it("delivers an importer's warnings to onWarning, and loadTopologyFile(path) still returns the fabric alone", () => {
    const file = join(dir, "partial.lspci.txt");
    writeFileSync(file, DUMP.replace("(64-bit, prefetchable) [size=32G]", "(64-bit, prefetchable)"));
    const warnings: TopologyWarning[] = [];
    const fabric = loadTopologyFile(file, { onWarning: (w) => warnings.push(w) });
    expect(fabric.byId.get("0000:1a:00.0")).toMatchObject({ kind: "endpoint", role: "gpu" });
    expect(warnings.map((w) => [w.source, w.field])).toEqual([[file, "line 39"], [file, "file"]]);
    expect(warnings[0].message).toBe(`${file}: line 39: 0000:1a:00.0 BAR 1 left out: lspci printed no size for it (it could not read one) (value: "Region 1: Memory at 20000000000 (64-bit, prefetchable)")`);
    expect(loadTopologyFile(file).functions.length).toBe(fabric.functions.length);
  });
});
