// Overlays: a user's corrections to an imported machine (fabric/overlay.ts), by id or PCI address
// (short "bb:dd.f" too), applied before the fabric is built; bad entries are refused naming the
// overlay field and value, and the topology object given is never changed.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { buildFabric, getFunction } from "../src/fabric/build.js";
import { parseLspciText } from "../src/fabric/import/index.js";
import { applyOverlay } from "../src/fabric/overlay.js";
import { expectInputError } from "./fabric-helpers.js";

const DATA = join(import.meta.dirname, "..", "data", "topologies");
const ASUS = parseLspciText(readFileSync(join(DATA, "asus-esc8000a-e12-dump.lspci.txt"), "utf8"), "asus.txt");
const GiB = 2 ** 30;

describe("applyOverlay", () => {
  it("sets memory, zone device, role, name and links by full or short PCI address; the input is untouched", () => {
    const before = JSON.stringify(ASUS);
    const changed = new Map<string, string[]>();
    const out = applyOverlay(ASUS, {
      devices: {
        "c1:00.0": { memory: "24GiB", zoneDevice: "coherent", name: "my GPU" },
        "0000:81:00.0": { role: "nic", link: { gen: 5, width: 8 }, linkCurrent: { gen: 5, width: 8 } },
        "e1:00.0": { zoneDevice: "none" },
      },
      linkSpeed: "current",
      platform: "genoa-custom",
    }, "o.json", "asus.txt", changed);
    expect(JSON.stringify(ASUS)).toBe(before);
    const fabric = buildFabric(out);
    expect(getFunction(fabric, "c1:00.0")).toMatchObject({ memory: 24 * GiB, zoneDevice: "coherent", name: "my GPU" });
    expect(getFunction(fabric, "81:00.0")).toMatchObject({ role: "nic", link: { gen: 5, width: 8 }, linkCurrent: { gen: 5, width: 8 } });
    expect(getFunction(fabric, "e1:00.0").zoneDevice).toBeUndefined();
    expect(getFunction(fabric, "e1:00.0").memory).toBe(48 * GiB); // the memory stays, only behind the BAR now
    expect(fabric).toMatchObject({ linkSpeed: "current", platform: "genoa-custom" });
    expect(changed.get("0000:c1:00.0")).toEqual(["memory", "zoneDevice", "name"]);
  });

  it("refuses an unknown device, naming the entry and close candidates", () => {
    const e = expectInputError(() => applyOverlay(ASUS, { devices: { "c1:00.2": { memory: 1 } } }, "o.json"), 'devices["c1:00.2"]', "c1:00.2");
    expect(e.message).toContain("close:");
    expect(e.message).toContain("0000:c1:00.0");
  });
  it("refuses an endpoint field on a bridge, and a host bridge", () => {
    expectInputError(() => applyOverlay(ASUS, { devices: { "c0:01.1": { memory: "1GiB" } } }, "o.json"), 'devices["c0:01.1"].memory', "0x40000000");
    expectInputError(() => applyOverlay(ASUS, { devices: { "pci0000:c0": { name: "x" } } }, "o.json"), 'devices["pci0000:c0"]', "pci0000:c0");
  });
  it("refuses a bad shape: an unknown field (with did-you-mean), a bad size, a bad zone kind", () => {
    const e = expectInputError(() => applyOverlay(ASUS, { devices: { "c1:00.0": { memroy: 1 } } }, "o.json"), 'devices.c1:00.0.memroy', "1");
    expect(e.message).toContain("did you mean `memory`");
    expectInputError(() => applyOverlay(ASUS, { devices: { "c1:00.0": { memory: "lots" } } }, "o.json"), "devices.c1:00.0.memory", "lots");
    expectInputError(() => applyOverlay(ASUS, { devices: { "c1:00.0": { zoneDevice: "public" } } }, "o.json"), "devices.c1:00.0.zoneDevice", "public");
    expectInputError(() => applyOverlay(ASUS, { device: {} }, "o.json"), "device", "{}");
  });
});
