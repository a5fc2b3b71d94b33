// Unit tests for src/memory/frames.ts and memory.ts: frame allocation, refcounts, the zero page,
// large folios and ZONE_DEVICE page_free (include/linux/memremap.h dev_pagemap_ops.page_free).
import { describe, expect, it } from "vitest";
import { Memory } from "../src/memory/memory.js";
import { POOL_PRIVATE, ZERO_PFN } from "../src/memory/frames.js";
import { MEMORY_DEVICE_PRIVATE } from "../src/memory/pagemap.js";

describe("frames", () => {
  it("keeps frame 0 as the zero page, never freed (mm/memory.c is_zero_pfn)", () => {
    const mem = new Memory();
    mem.frames.put(ZERO_PFN);
    expect(mem.frames.isFree(ZERO_PFN)).toBe(false);
    expect(mem.frames.content[ZERO_PFN]).toBe(0);
  });

  it("allocates with refcount 1 and frees at refcount 0, reusing the frame", () => {
    const mem = new Memory();
    const f = mem.allocRam();
    expect(f).toBeGreaterThan(0);
    expect(mem.frames.refcount[f]).toBe(1);
    mem.frames.get(f);
    mem.frames.put(f);
    expect(mem.frames.isFree(f)).toBe(false);
    mem.frames.put(f);
    expect(mem.frames.isFree(f)).toBe(true);
    expect(mem.allocRam()).toBe(f);
  });

  it("allocates large folios naturally aligned (512 frames for a PMD)", () => {
    const mem = new Memory();
    mem.allocRam();
    const f = mem.allocRamContig(9);
    expect(f % 512).toBe(0);
    expect(mem.frames.refcount[f + 511]).toBe(1);
  });

  it("returns -1 when a pool is full (ENOMEM), and calls page_free for device pages", () => {
    const mem = new Memory();
    const freed: number[] = [];
    const pool = mem.addDevicePool("dev", 2 * 4096, 0, { type: MEMORY_DEVICE_PRIVATE, owner: "d", ops: { pageFree: (f) => freed.push(f) } });
    expect(pool.kind).toBe(POOL_PRIVATE);
    const a = mem.frames.alloc(pool);
    const b = mem.frames.alloc(pool);
    expect(mem.frames.alloc(pool)).toBe(-1);
    mem.frames.put(a);
    expect(freed).toEqual([a]);
    expect(mem.frames.poolOf(b)).toBe(pool);
  });
});
