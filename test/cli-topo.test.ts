// `p2pdma-lab topo FILE [--json]` (DESIGN §4): exit 0 with { devices, pairs }; bad input exits 2
// with the file, field and value and no stack trace (a cut dump, hostile XML, a scenario file given
// by mistake); a missing file exits 2.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../src/cli/main.js";
import { bufferIo } from "../src/cli/io.js";

const dir = mkdtempSync(join(tmpdir(), "p2pdma-topo-"));
const write = (name: string, value: unknown) => {
  const p = join(dir, name);
  writeFileSync(p, typeof value === "string" ? value : JSON.stringify(value));
  return p;
};
const good = {
  name: "two gpus and a nic",
  nodes: [
    { kind: "hostBridge", id: "h0", rootBus: 0 },
    { kind: "endpoint", id: "0000:00:00.0", parent: "h0", vendor: "8086", device: "09a2", class: "0600" },
    { kind: "rootPort", id: "0000:00:01.0", parent: "h0" },
    { kind: "switchUpstream", id: "0000:01:00.0", parent: "0000:00:01.0" },
    { kind: "switchDownstream", id: "0000:02:00.0", parent: "0000:01:00.0" },
    { kind: "switchDownstream", id: "0000:02:01.0", parent: "0000:01:00.0" },
    { kind: "endpoint", id: "gpu0", bdf: "0000:03:00.0", parent: "0000:02:00.0", class: "0302", bars: [{ index: 1, size: "32GiB" }] },
    { kind: "endpoint", id: "nic0", bdf: "0000:04:00.0", parent: "0000:02:01.0", class: "0200" },
    { kind: "rootPort", id: "0000:00:02.0", parent: "h0" },
    { kind: "endpoint", id: "gpu1", parent: "0000:00:02.0", class: "0302" },
  ],
};

describe("topo command", () => {
  it("--json prints exactly { devices, pairs } and exits 0; pairs grow additively", async () => {
    const io = bufferIo();
    expect(await main(["topo", write("good.json", good), "--json"], io)).toBe(0);
    const out = JSON.parse(io.stdout());
    expect(Object.keys(out)).toEqual(["devices", "pairs"]);
    expect(out.devices).toEqual(["0000:03:00.0", "0000:04:00.0", "gpu1"]);
    expect(out.pairs).toMatchObject([
      { a: "0000:03:00.0", b: "0000:04:00.0", class: "PIX", mapType: "BUS_ADDR", distance: 4 },
      { a: "0000:03:00.0", b: "gpu1", class: "PHB", mapType: "THRU_HOST_BRIDGE", distance: 6 },
      { a: "0000:04:00.0", b: "gpu1", class: "PHB", mapType: "THRU_HOST_BRIDGE", distance: 6 },
    ]);
    // The added fields: roles, names when known, the path's slowest link when known, the deciding rule and its reason.
    expect(out.pairs[0]).toMatchObject({ aRole: "gpu", bRole: "nic", rule: "common-upstream-bridge" });
    expect(out.pairs[1]).toMatchObject({ rule: "host-bridge-whitelist" });
    expect(out.pairs[1].reason).toContain("host bridge 8086:09a2 (0000:00:00.0) is in pci_p2pdma_whitelist[]");
    expect(io.stderr()).toBe("");
  });
  it("without --json prints the tree with BARs and windows, then the matrix", async () => {
    const io = bufferIo();
    expect(await main(["topo", write("good2.json", good)], io)).toBe(0);
    const out = io.stdout();
    expect(out).toContain("host bridge h0 [0000:00-05] NUMA 0, CPU intel, IOMMU off");
    expect(out).toMatch(/0000:03:00\.0 gpu0 \[gpu\]/);
    expect(out).toMatch(/BAR1 0x[0-9a-f]+-0x[0-9a-f]+, 32GiB, 64-bit, prefetchable/);
    expect(out).toMatch(/window prefetch 0x/);
    expect(out).toMatch(/0000:03:00\.0\s+X\s+PIX BUS 4\s+PHB HB 6/);
  });
  it("a bad field exits 2 naming the file, field and value, without a stack trace", async () => {
    const bad = structuredClone(good);
    (bad.nodes[6] as { bars: { size: unknown }[] }).bars[0].size = 3000;
    const io = bufferIo();
    const file = write("bad.json", bad);
    expect(await main(["topo", file, "--json"], io)).toBe(2);
    expect(io.stderr()).toContain(file);
    expect(io.stderr()).toContain("nodes[6].bars[0].size");
    expect(io.stderr()).toContain("3000");
    expect(io.stderr()).not.toContain("    at ");
    expect(io.stdout()).toBe("");
  });
  it("an unknown field exits 2", async () => {
    const io = bufferIo();
    expect(await main(["topo", write("unknown.json", { ...good, nodez: [] })], io)).toBe(2);
    expect(io.stderr()).toContain("nodez");
  });
  it("a scenario file exits 2 and names the command that runs it", async () => {
    const io = bufferIo();
    const file = write("scenario.json", { topology: "dmirror", steps: [] });
    expect(await main(["topo", file], io)).toBe(2);
    expect(io.stderr()).toBe(`p2pdma-lab: ${file}: file: is a scenario file (it has \`steps\`), not a topology: run it with \`p2pdma-lab run ${file}\` (value: ${JSON.stringify(file)})\n`);
  });
  it("an lspci dump cut inside a Region line exits 2 naming the line, without a stack trace", async () => {
    const dump = readFileSync(join(import.meta.dirname, "fixtures", "import", "multi-root-nn.lspci.txt"), "utf8");
    const io = bufferIo();
    const file = write("cut.lspci.txt", dump.slice(0, dump.indexOf("(64-bit, prefetchable) [size=32G]") + 10));
    expect(await main(["topo", file, "--json"], io)).toBe(2);
    expect(io.stderr()).toMatch(/^p2pdma-lab: .*cut\.lspci\.txt: line 39: lspci -vvv: the file ends inside this line/);
    expect(io.stderr()).not.toContain("    at ");
  });
  it("hwloc XML the parser would refuse (a second DOCTYPE, a __proto__ element) exits 2, not 70", async () => {
    for (const [name, xml] of [
      ["doctype.xml", '<?xml version="1.0"?>\n<!DOCTYPE topology>\n<!DOCTYPE topology>\n<topology/>'],
      ["proto.xml", '<?xml version="1.0"?>\n<topology><__proto__/></topology>'],
    ]) {
      const io = bufferIo();
      expect(await main(["topo", write(name, xml)], io)).toBe(2);
      expect(io.stderr()).toMatch(/line \d+ column \d+: XML/);
    }
  });
  it("a missing file exits 2 naming it", async () => {
    const io = bufferIo();
    const file = join(dir, "nope.json");
    expect(await main(["topo", file], io)).toBe(2);
    expect(io.stderr()).toContain(file);
    expect(io.stderr()).not.toContain("    at ");
  });
});
