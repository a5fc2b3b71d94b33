// Unit tests for src/hmm/migrate.ts and src/devices/dmirror.ts: migrate_vma phases
// (mm/migrate_device.c; hmm-semantics §3) and the dmirror ioctl counters (lib/test_hmm.c;
// hmm-tests-cases §2, §6).
import { describe, expect, it } from "vitest";
import { Mm } from "../src/memory/address-space.js";
import { cpuAccess, cpuRead } from "../src/memory/cpu-access.js";
import { EINVAL, ENOENT, EPERM } from "../src/memory/errno.js";
import { Memory } from "../src/memory/memory.js";
import { KIND_DEVICE_PRIVATE, KIND_MIGRATION, pteKind } from "../src/memory/pte.js";
import { PROT_NONE, PROT_READ, PROT_WRITE } from "../src/memory/vma.js";
import {
  MIGRATE_PFN_MIGRATE, MIGRATE_PFN_VALID, MIGRATE_VMA_SELECT_SYSTEM, migratePfn, migrateVmaFinalize, migrateVmaPages,
  migrateVmaSetup, newMigrateVma,
} from "../src/hmm/migrate.js";
import { DmirrorDevice } from "../src/devices/dmirror.js";

const RW = PROT_READ | PROT_WRITE;
const MiB = 1 << 20;

function machine() {
  const mem = new Memory();
  const mm = new Mm(mem, "p");
  const d0 = new DmirrorDevice(mem, { id: "dmirror0", zoneDevice: "private", memory: 256 * MiB, numaNode: 0 });
  const d1 = new DmirrorDevice(mem, { id: "dmirror1", zoneDevice: "private", memory: 256 * MiB, numaNode: 0 });
  return { mem, mm, d0, d1 };
}

function pte(mm: Mm, vpn: number): number {
  const vma = mm.find(vpn)!;
  return Mm.pte(vma, vpn);
}

describe("migrate_vma", () => {
  it("collects holes empty and present pages with migration entries, skips pinned pages", () => {
    const { mem, mm, d0 } = machine();
    const a = mm.mmap(3, RW);
    const f1 = cpuAccess(mm, a + 1, true);
    const f2 = cpuAccess(mm, a + 2, true);
    mem.frames.get(f2); // a pin (GUP) keeps the page in place
    const args = newMigrateVma(mm, a, a + 3, MIGRATE_VMA_SELECT_SYSTEM, d0.device);
    expect(migrateVmaSetup(args)).toBe(0);
    expect(args.src[0]).toBe(MIGRATE_PFN_MIGRATE);
    expect(args.src[1] & (MIGRATE_PFN_VALID | MIGRATE_PFN_MIGRATE)).toBe(MIGRATE_PFN_VALID | MIGRATE_PFN_MIGRATE);
    expect(args.src[2]).toBe(0);
    expect(args.cpages).toBe(2);
    expect(pteKind(pte(mm, a + 1))).toBe(KIND_MIGRATION);
    const g = mem.frames.alloc(d0.device.pool);
    args.dst[1] = migratePfn(g);
    migrateVmaPages(args);
    migrateVmaFinalize(args);
    expect(pteKind(pte(mm, a + 1))).toBe(KIND_DEVICE_PRIVATE);
    expect(mem.frames.isFree(f1)).toBe(true);
    expect(pte(mm, a)).toBe(0); // hole with no dst stays empty
    expect(mem.counters.migrations).toBe(1);
  });

  it("refuses a range crossing its VMA (-EINVAL)", () => {
    const { mm, d0 } = machine();
    const a = mm.mmap(2, RW);
    expect(migrateVmaSetup(newMigrateVma(mm, a, a + 3, MIGRATE_VMA_SELECT_SYSTEM, d0.device))).toBe(-EINVAL);
  });
});

describe("dmirror", () => {
  it("counts one fault round for a fresh range and none once mirrored (dmirror_read)", () => {
    const { mm, d0 } = machine();
    const a = mm.mmap(100, RW);
    const dm = d0.open(mm);
    expect(dm.read(a, 100)).toMatchObject({ ret: 0, cpages: 100, faults: 1 });
    expect(dm.read(a, 100)).toMatchObject({ ret: 0, cpages: 100, faults: 0 });
    cpuAccess(mm, a, true); // COW of the zero page invalidates page 0 of the mirror
    expect(dm.read(a, 100)).toMatchObject({ ret: 0, cpages: 100, faults: 1 });
  });

  it("migrates to the device, faults back on CPU access, and reads back cpages", () => {
    const { mem, mm, d0 } = machine();
    const a = mm.mmap(4, RW);
    for (let k = 0; k < 4; k++) mem.frames.content[cpuAccess(mm, a + k, true)] = k;
    const dm = d0.open(mm);
    const r = dm.migrateToDevice(a, 4);
    expect(r).toMatchObject({ ret: 0, cpages: 4 });
    expect(Array.from(r.values!)).toEqual([0, 1, 2, 3]);
    expect(pteKind(pte(mm, a))).toBe(KIND_DEVICE_PRIVATE);
    expect(cpuRead(mm, a + 2)).toBe(2);
    expect(dm.migrateToSystem(a, 4)).toMatchObject({ ret: 0, cpages: 3 });
    expect(mem.counters.bytesMoved()).toEqual({ "ram->dmirror0": 4 * 4096, "dmirror0->ram": 4 * 4096 });
  });

  it("returns -ENOENT for shared memory and for another device's page, -EINVAL for PROT_NONE", () => {
    const { mm, d0, d1 } = machine();
    const s = mm.mmap(2, RW, { shared: true });
    expect(d0.open(mm).migrateToDevice(s, 2).ret).toBe(-ENOENT);
    const a = mm.mmap(1, RW);
    expect(d1.open(mm).migrateToDevice(a, 1).ret).toBe(0);
    expect(d0.open(mm).migrateToDevice(a, 1).ret).toBe(-ENOENT);
    const n = mm.mmap(1, PROT_NONE);
    expect(d0.open(mm).migrateToDevice(n, 1).ret).toBe(-EINVAL);
  });

  it("snapshots a foreign device-private page as NONE and its own as DEV_PRIVATE_LOCAL|WRITE", () => {
    const { mm, d0, d1 } = machine();
    const a = mm.mmap(2, RW);
    d0.open(mm).migrateToDevice(a, 1);
    d1.open(mm).migrateToDevice(a + 1, 1);
    expect(Array.from(d0.open(mm).snapshot(a, 2).bytes!)).toEqual([0x22, 0x00]);
  });

  it("keeps ATOMIC entries until the CPU touches the page (CHECK_EXCLUSIVE -EPERM, then 0)", () => {
    const { mm, d0 } = machine();
    const a = mm.mmap(2, RW);
    const dm = d0.open(mm);
    expect(dm.exclusive(a, 2)).toMatchObject({ ret: 0, cpages: 2 });
    expect(dm.checkExclusive(a, 2).ret).toBe(-EPERM);
    cpuAccess(mm, a, true);
    cpuAccess(mm, a + 1, false);
    expect(dm.checkExclusive(a, 2).ret).toBe(0);
  });

  it("evicts every page of the device on RELEASE", () => {
    const { mm, d0 } = machine();
    const a = mm.mmap(8, RW);
    const dm = d0.open(mm);
    dm.migrateToDevice(a, 8);
    expect(d0.device.pool.inUse).toBe(8);
    expect(dm.release(a, 1).ret).toBe(0);
    expect(d0.device.pool.inUse).toBe(0);
  });
});
