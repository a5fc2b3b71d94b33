// A dump taken the way the README tells a user to (`{ lspci -tv; lspci -vvv; } > machine.txt 2>&1`)
// on a KVM guest: root-bus virtio functions only, an lspci warning line on stderr mixed in, and
// Intel host bridge 8086:0d57, which is not in the P2PDMA whitelist (drivers/pci/p2pdma.c).
import { describe, expect, it } from "vitest";
import { main } from "../src/cli/main.js";
import { bufferIo } from "../src/cli/io.js";

describe("a user's own lspci dump through the CLI", () => {
  it("is recognised, built, and every pair of root-bus functions goes to the host-bridge gate", async () => {
    const io = bufferIo();
    const code = await main(["topo", "test/fixtures/import/kvm-virtio-own.lspci.txt", "--json"], io);
    expect(io.stderr()).toBe("");
    expect(code).toBe(0);
    const out = JSON.parse(io.stdout()) as { devices: string[]; pairs: { a: string; b: string; class: string; mapType: string; distance: number }[] };
    expect(out.devices).toEqual(["0000:00:01.0", "0000:00:02.0", "0000:00:03.0", "0000:00:04.0", "0000:00:05.0"]);
    expect(out.pairs).toHaveLength(10);
    // Two functions on a root bus share no upstream bridge (pci_upstream_bridge is NULL): distance
    // 1 + 1, then the host-bridge gate: Intel CPU, first device 00:00.0 = 8086:0d57 not whitelisted.
    for (const p of out.pairs) expect(p).toMatchObject({ class: "PHB", mapType: "NOT_SUPPORTED", distance: -1 });
  });
});
