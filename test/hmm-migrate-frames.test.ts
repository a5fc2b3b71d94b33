// Unit tests for what migrate_vma (src/hmm/migrate.ts) does to page frames (src/memory/frames.ts):
// migrate_vma_finalize puts each source page once, in order (mm/migrate_device.c
// migrate_vma_finalize -> folio_put), a page mapped elsewhere only loses this mapping, device
// pages reach their driver's page_free (include/linux/memremap.h), and frames come out of the
// allocator with refcount 1, mapcount 0 and zero contents whether fresh or reused.
import { describe, expect, it } from "vitest";
import { Mm } from "../src/memory/address-space.js";
import { cpuAccess } from "../src/memory/cpu-access.js";
import { forkMm } from "../src/memory/fork.js";
import { POOL_PRIVATE, POOL_RAM } from "../src/memory/frames.js";
import { Memory } from "../src/memory/memory.js";
import { MEMORY_DEVICE_PRIVATE } from "../src/memory/pagemap.js";
import { KIND_DEVICE_PRIVATE, KIND_MIGRATION, KIND_PRESENT, pteFrame, pteKind } from "../src/memory/pte.js";
import { PROT_READ, PROT_WRITE } from "../src/memory/vma.js";
import {
  MIGRATE_PFN_MIGRATE, MIGRATE_PFN_SHIFT, MIGRATE_PFN_VALID, MIGRATE_VMA_SELECT_DEVICE_PRIVATE, MIGRATE_VMA_SELECT_SYSTEM,
  MigrateVma, migratePfn, migrateVmaFinalize, migrateVmaPages, migrateVmaSetup, newMigrateVma,
} from "../src/hmm/migrate.js";

const RW = PROT_READ | PROT_WRITE;
const MiB = 1 << 20;

function pte(mm: Mm, vpn: number): number {
  const vma = mm.find(vpn)!;
  return Mm.pte(vma, vpn);
}

/** A machine with one device-private pool whose page_free calls are recorded. */
function machine() {
  const mem = new Memory();
  const mm = new Mm(mem, "p");
  const owner = { name: "dev" };
  const freed: number[] = [];
  const pool = mem.addDevicePool("dev", 64 * MiB, 0, { type: MEMORY_DEVICE_PRIVATE, owner, ops: { pageFree: (f) => freed.push(f) } });
  return { mem, mm, owner, freed, pool };
}

/** The driver's part: one destination frame per collected entry, contents copied. */
function fill(args: MigrateVma, alloc: () => number): number[] {
  const frames = args.mm.mem.frames;
  const out: number[] = [];
  for (let o = 0; o < args.npages; o++) {
    const s = args.src[o];
    if (!(s & MIGRATE_PFN_MIGRATE)) continue;
    const f = alloc();
    if (s & MIGRATE_PFN_VALID) frames.content[f] = frames.content[s >>> MIGRATE_PFN_SHIFT];
    args.dst[o] = migratePfn(f);
    out.push(f);
  }
  return out;
}

describe("migrate_vma and page frames", () => {
  it("puts each source page once, in page order: the free list hands them back last-freed first", () => {
    const { mem, mm, owner, pool } = machine();
    const a = mm.mmap(3, RW);
    const src = [0, 1, 2].map((k) => cpuAccess(mm, a + k, true));
    const args = newMigrateVma(mm, a, a + 3, MIGRATE_VMA_SELECT_SYSTEM, owner);
    expect(migrateVmaSetup(args)).toBe(0);
    fill(args, () => mem.frames.alloc(pool));
    migrateVmaPages(args);
    migrateVmaFinalize(args);
    expect(mem.counters.migrations).toBe(3);
    for (const f of src) expect(mem.frames.isFree(f)).toBe(true);
    expect([mem.allocRam(), mem.allocRam(), mem.allocRam()]).toEqual([src[2], src[1], src[0]]);
  });

  // This expectation changed with the rmap rule: the old model moved only the caller's mapping
  // (the child kept f). mm/migrate_device.c migrate_device_unmap calls
  // `if (folio_mapped(folio)) try_to_migrate(folio, 0);` so every mapping becomes a migration
  // entry, and migrate_device_finalize calls `remove_migration_ptes(folio, newfolio, 0);`, which
  // points every one of them at the new page: the shared page moves for both processes.
  it("moves every process's mapping of a page shared by fork (try_to_migrate, remove_migration_ptes)", () => {
    const { mem, mm, owner, pool } = machine();
    const a = mm.mmap(2, RW);
    const f = cpuAccess(mm, a, true);
    mem.frames.content[f] = 42;
    const child = forkMm(mm, "c"); // both map f: refcount 2, mapcount 2, not pinned
    expect(mem.frames.refcount[f]).toBe(2);
    const args = newMigrateVma(mm, a, a + 1, MIGRATE_VMA_SELECT_SYSTEM, owner);
    expect(migrateVmaSetup(args)).toBe(0);
    expect(args.cpages).toBe(1);
    expect(pteKind(pte(child, a))).toBe(KIND_MIGRATION); // the child's mapping was unmapped too
    const [g] = fill(args, () => mem.frames.alloc(pool));
    migrateVmaPages(args);
    migrateVmaFinalize(args);
    expect(pteKind(pte(mm, a))).toBe(KIND_DEVICE_PRIVATE);
    expect(pteFrame(pte(mm, a))).toBe(g);
    expect(mem.frames.content[g]).toBe(42);
    expect(pteKind(pte(child, a))).toBe(KIND_DEVICE_PRIVATE);
    expect(pteFrame(pte(child, a))).toBe(g);
    expect(mem.frames.isFree(f)).toBe(true);
    expect([mem.frames.refcount[g], mem.frames.mapcount[g]]).toEqual([2, 2]);
  });

  it("returns device pages migrated back to RAM through the driver's page_free, in page order", () => {
    const { mem, mm, owner, freed, pool } = machine();
    const a = mm.mmap(4, RW);
    for (let k = 0; k < 4; k++) cpuAccess(mm, a + k, true);
    const there = newMigrateVma(mm, a, a + 4, MIGRATE_VMA_SELECT_SYSTEM, owner);
    migrateVmaSetup(there);
    const dev = fill(there, () => mem.frames.alloc(pool));
    migrateVmaPages(there);
    migrateVmaFinalize(there);
    expect(freed).toEqual([]);
    const back = newMigrateVma(mm, a, a + 4, MIGRATE_VMA_SELECT_DEVICE_PRIVATE, owner);
    expect(migrateVmaSetup(back)).toBe(0);
    expect(back.cpages).toBe(4);
    const ram = fill(back, () => mem.allocRam());
    migrateVmaPages(back);
    migrateVmaFinalize(back);
    expect(freed).toEqual(dev);
    expect(pool.inUse).toBe(0);
    for (let k = 0; k < 4; k++) {
      expect(pteKind(pte(mm, a + k))).toBe(KIND_PRESENT);
      expect(pteFrame(pte(mm, a + k))).toBe(ram[k]);
    }
    expect(mem.counters.migrations).toBe(8);
  });

  it("hands out frames with refcount 1, mapcount 0 and zero contents, fresh or reused", () => {
    const { mem, pool } = machine();
    const f = mem.frames.alloc(pool);
    expect([mem.frames.refcount[f], mem.frames.mapcount[f], mem.frames.content[f]]).toEqual([1, 0, 0]);
    mem.frames.mapcount[f] = 1;
    mem.frames.content[f] = 7;
    mem.frames.mapcount[f] = 0;
    mem.frames.put(f);
    const g = mem.frames.alloc(pool);
    expect(g).toBe(f);
    expect([mem.frames.refcount[g], mem.frames.mapcount[g], mem.frames.content[g]]).toEqual([1, 0, 0]);
    const h = mem.frames.alloc(pool);
    expect(h).not.toBe(g);
    expect([mem.frames.refcount[h], mem.frames.mapcount[h], mem.frames.content[h]]).toEqual([1, 0, 0]);
  });

  it("records each carved chunk's pool kind next to its pool id", () => {
    const { mem, pool } = machine();
    const r = mem.allocRam();
    const d = mem.frames.alloc(pool);
    expect(mem.frames.chunkKind[r >>> 16]).toBe(POOL_RAM);
    expect(mem.frames.chunkKind[d >>> 16]).toBe(POOL_PRIVATE);
    expect(mem.frames.kindOf(d)).toBe(POOL_PRIVATE);
  });
});
