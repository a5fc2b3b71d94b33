// Unit tests for DmaBatch (src/devices/device.ts): a DMA engine's copies of one operation are
// published as one copy event per (source, destination) memory pair, in the order each pair was
// first copied, with the pages added up; copies within one memory move nothing over a link.
import { describe, expect, it } from "vitest";
import { DmaBatch } from "../src/devices/device.js";
import type { CopyCause } from "../src/memory/events.js";
import { Memory } from "../src/memory/memory.js";
import { MEMORY_DEVICE_PRIVATE } from "../src/memory/pagemap.js";
import { PAGE_SIZE } from "../src/units/size.js";

function machine() {
  const copies: [string, string, number, CopyCause][] = [];
  const mem = new Memory({ listeners: [{ copy: (from, to, bytes, cause) => copies.push([from, to, bytes, cause]) }] });
  const pool = (id: string) => mem.addDevicePool(id, 256 * 2 ** 20, 0, { type: MEMORY_DEVICE_PRIVATE, owner: id, ops: { pageFree: () => {} } }).id;
  return { mem, copies, ram: mem.ram[0].id, gpu: pool("gpu0"), nic: pool("nic0") };
}

describe("DmaBatch", () => {
  it("publishes one event for a batch that copies one pair, the pages added up", () => {
    const { mem, copies, ram, gpu } = machine();
    const dma = new DmaBatch(mem, "migrate");
    dma.copyPages(ram, gpu, 3);
    dma.copy(ram, gpu);
    dma.copyPages(gpu, gpu, 5); // within device memory: no link crossed
    dma.copyPages(ram, gpu, 0);
    dma.flush();
    expect(copies).toEqual([["ram", "gpu0", 4 * PAGE_SIZE, "migrate"]]);
  });

  it("publishes pairs in the order each was first copied, and only what came after the last flush", () => {
    const { mem, copies, ram, gpu, nic } = machine();
    const dma = new DmaBatch(mem, "fault");
    dma.copyPages(gpu, ram, 2);
    dma.copyPages(nic, ram, 1);
    dma.copyPages(gpu, ram, 5);
    dma.flush();
    expect(copies).toEqual([["gpu0", "ram", 7 * PAGE_SIZE, "fault"], ["nic0", "ram", PAGE_SIZE, "fault"]]);
    dma.flush();
    expect(copies).toHaveLength(2);
    dma.copyPages(nic, ram, 2);
    dma.flush();
    expect(copies.slice(2)).toEqual([["nic0", "ram", 2 * PAGE_SIZE, "fault"]]);
  });
});
