// Kernel edges the model follows from the THP device-migration trees (lib/test_hmm.c of linux-mm
// 05ab5121, mm/ of the same era; README "Which kernel the model follows"): each test names the
// kernel function whose rule it checks. Rules are checked on cases built here, not on the
// selftests' own buffers.
import { describe, expect, it } from "vitest";
import { Mm } from "../src/memory/address-space.js";
import { cpuAccess, cpuRead } from "../src/memory/cpu-access.js";
import { EFAULT, EINVAL, EOPNOTSUPP } from "../src/memory/errno.js";
import { makeDeviceExclusive } from "../src/memory/exclusive.js";
import { forkMm } from "../src/memory/fork.js";
import { Memory } from "../src/memory/memory.js";
import {
  MMU_NOTIFY_CLEAR, MMU_NOTIFY_PROTECTION_PAGE, MMU_NOTIFY_PROTECTION_VMA, type NotifierRange,
} from "../src/memory/mmu-notifier.js";
import { KIND_DEVICE_EXCLUSIVE, KIND_DEVICE_PRIVATE, KIND_MIGRATION, KIND_PRESENT, pteFrame, pteKind, pteWritable } from "../src/memory/pte.js";
import { PMD_ORDER, PROT_READ, PROT_WRITE } from "../src/memory/vma.js";
import { intervalNotifierInsert, setSeq } from "../src/hmm/interval-notifier.js";
import {
  MIGRATE_PFN_COMPOUND, MIGRATE_PFN_MIGRATE, MIGRATE_PFN_VALID, MIGRATE_VMA_SELECT_COMPOUND,
  MIGRATE_VMA_SELECT_DEVICE_PRIVATE, MIGRATE_VMA_SELECT_SYSTEM, migrateVmaFinalize, migrateVmaPages, migrateVmaSetup,
  newMigrateVma,
} from "../src/hmm/migrate.js";
import { DmirrorDevice, PROT_ERROR, PROT_NONE } from "../src/devices/dmirror.js";
import { DMIRROR_TOPOLOGY } from "../src/fabric/builtin.js";
import { resultOf } from "../src/scenario/results.js";
import { runObject } from "./support/run.js";

const RW = PROT_READ | PROT_WRITE;
const GiB = 2 ** 30;
const PMD = 1 << PMD_ORDER;

function machine() {
  const mem = new Memory();
  const mm = new Mm(mem, "p");
  const d0 = new DmirrorDevice(mem, { id: "dmirror0", zoneDevice: "private", memory: GiB, numaNode: 0 });
  const d1 = new DmirrorDevice(mem, { id: "dmirror1", zoneDevice: "private", memory: GiB, numaNode: 0 });
  const c2 = new DmirrorDevice(mem, { id: "dmirror2", zoneDevice: "coherent", memory: GiB, numaNode: 0 });
  return { mem, mm, d0, d1, c2 };
}

/** Records every notifier range delivered to `mm` (a subscription over everything). */
function recorder(mm: Mm): NotifierRange[] {
  const seen: NotifierRange[] = [];
  const sub = intervalNotifierInsert(mm, 0, 2 ** 36, { invalidate: (s, r, cur) => (seen.push({ ...r }), setSeq(s, cur), true) });
  if (typeof sub === "number") throw new Error("notifier insert failed");
  return seen;
}

function pte(mm: Mm, vpn: number): number {
  return Mm.pte(mm.find(vpn)!, vpn);
}

/** A THP-capable buffer of `blocks` 2 MiB blocks, each written (one huge folio per block). */
function thpBuffer(mm: Mm, blocks: number): number {
  const a = mm.mmap(blocks * PMD, RW, { hugeOrder: PMD_ORDER });
  for (let b = 0; b < blocks; b++) cpuAccess(mm, a + b * PMD, true);
  return a;
}

const run = (steps: unknown[]) => runObject({ topology: "dmirror", steps });

describe("migrate_vma_collect_huge_pmd (mm/migrate_device.c)", () => {
  it("skips a PMD-mapped THP that the selection does not take, without splitting it or notifying a split", () => {
    const { mm, d0 } = machine();
    const a = thpBuffer(mm, 1);
    const seen = recorder(mm);
    const args = newMigrateVma(mm, a, a + PMD, MIGRATE_VMA_SELECT_DEVICE_PRIVATE | MIGRATE_VMA_SELECT_COMPOUND, d0.device);
    expect(migrateVmaSetup(args)).toBe(0);
    expect(args.cpages).toBe(0);
    expect(Array.from(args.src).every((s) => s === 0)).toBe(true);
    expect(mm.find(a)!.region.isHuge(0)).toBe(true); // still one PMD
    expect(seen.some((r) => r.event === MMU_NOTIFY_CLEAR)).toBe(false);
    migrateVmaPages(args);
    migrateVmaFinalize(args);
    expect(pteKind(pte(mm, a + 7))).toBe(KIND_PRESENT);
  });

  it("skips a device THP of another owner without splitting it", () => {
    const { mm, d0, d1 } = machine();
    const a = thpBuffer(mm, 1);
    expect(d0.open(mm).migrateToDevice(a, PMD).ret).toBe(0);
    expect(mm.find(a)!.region.isHuge(0)).toBe(true);
    const seen = recorder(mm);
    const args = newMigrateVma(mm, a, a + PMD, MIGRATE_VMA_SELECT_DEVICE_PRIVATE | MIGRATE_VMA_SELECT_COMPOUND, d1.device);
    migrateVmaSetup(args);
    expect(args.cpages).toBe(0);
    expect(mm.find(a)!.region.isHuge(0)).toBe(true);
    expect(seen.some((r) => r.event === MMU_NOTIFY_CLEAR)).toBe(false);
    migrateVmaPages(args);
    migrateVmaFinalize(args);
  });

  it("takes a whole aligned THP as one compound entry: cpages 1, the other 511 entries empty", () => {
    const { mm, d0 } = machine();
    const a = thpBuffer(mm, 1);
    const args = newMigrateVma(mm, a, a + PMD, MIGRATE_VMA_SELECT_SYSTEM | MIGRATE_VMA_SELECT_COMPOUND, d0.device);
    migrateVmaSetup(args);
    expect(args.cpages).toBe(1);
    expect(args.src[0] & (MIGRATE_PFN_VALID | MIGRATE_PFN_MIGRATE | MIGRATE_PFN_COMPOUND)).toBe(MIGRATE_PFN_VALID | MIGRATE_PFN_MIGRATE | MIGRATE_PFN_COMPOUND);
    expect(args.src.subarray(1, PMD).every((s) => s === 0)).toBe(true);
    expect(pteKind(pte(mm, a + 300))).toBe(KIND_MIGRATION);
    migrateVmaPages(args);
    migrateVmaFinalize(args); // no dst: the folio is mapped back, still by one PMD
    expect(pteKind(pte(mm, a + 300))).toBe(KIND_PRESENT);
    expect(mm.find(a)!.region.isHuge(0)).toBe(true);
  });

  it("splits a THP the selection takes only in part, firing the split's CLEAR notifier over the 2 MiB block", () => {
    const { mm, d0 } = machine();
    const a = thpBuffer(mm, 1);
    const seen = recorder(mm);
    const args = newMigrateVma(mm, a + 10, a + 20, MIGRATE_VMA_SELECT_SYSTEM | MIGRATE_VMA_SELECT_COMPOUND, d0.device);
    migrateVmaSetup(args);
    expect(seen.find((r) => r.event === MMU_NOTIFY_CLEAR)).toMatchObject({ start: a, end: a + PMD });
    expect(mm.find(a)!.region.isHuge(0)).toBe(false);
    expect(args.cpages).toBe(10);
    migrateVmaPages(args);
    migrateVmaFinalize(args);
  });
});

describe("hmm_vma_handle_absent_pmd (mm/hmm.c)", () => {
  it("reports HMM_PFN_ERROR over a PMD-level device-private entry of another owner when no fault is asked; 0 for a PTE-level one", () => {
    const { mm, d0, d1 } = machine();
    const huge = thpBuffer(mm, 1);
    const small = mm.mmap(PMD, RW);
    for (let k = 0; k < PMD; k++) cpuAccess(mm, small + k, true);
    expect(d0.open(mm).migrateToDevice(huge, PMD).ret).toBe(0);
    expect(d0.open(mm).migrateToDevice(small, PMD).ret).toBe(0);
    const other = d1.open(mm);
    expect(Array.from(other.snapshot(huge, PMD).bytes!).every((b) => b === PROT_ERROR)).toBe(true);
    expect(Array.from(other.snapshot(huge + 100, 5).bytes!)).toEqual([PROT_ERROR, PROT_ERROR, PROT_ERROR, PROT_ERROR, PROT_ERROR]);
    expect(Array.from(other.snapshot(small, PMD).bytes!).every((b) => b === PROT_NONE)).toBe(true);
    // With a fault asked (a device read), the other owner's device THP is faulted back instead.
    const r = other.read(huge, 4);
    expect(r.ret).toBe(0);
    expect(pteKind(pte(mm, huge))).toBe(KIND_PRESENT);
  });
});

describe("dmirror_migrate_to_system counting (lib/test_hmm.c dmirror_successful_migrated_pages)", () => {
  it("counts one per THP migrated whole; a THP split by FAIL_ALLOC counts its 512 base pages", () => {
    const r = run([
      { op: "mmap", buffer: "a", pages: 2 * PMD, huge: "pmd" },
      { op: "cpuWrite", buffer: "a", value: "index" },
      { op: "migrateToDevice", device: "dmirror0", buffer: "a" },
      { op: "migrateToSystem", device: "dmirror0", buffer: "a" },
      { op: "migrateToDevice", device: "dmirror0", buffer: "a" },
      { op: "flags", device: "dmirror0", value: 1 },
      { op: "migrateToSystem", device: "dmirror0", buffer: "a" },
      { op: "cpuRead", buffer: "a", first: 700, count: 2 },
    ]);
    expect(resultOf(r, 2, "migrateToDevice").cpages).toBe(2 * PMD); // the read-back counts pages
    expect(resultOf(r, 3, "migrateToSystem").cpages).toBe(2);
    expect(resultOf(r, 6, "migrateToSystem").cpages).toBe(PMD + 1);
    expect(resultOf(r, 7, "cpuRead").values).toEqual([700, 701]);
  });
});

describe("fork: copy_page_range / vma_needs_copy (mm/memory.c)", () => {
  it("does not copy a shared mapping: no notifier, the child's page table starts empty and faults the page cache in", () => {
    const { mem, mm } = machine();
    const a = mm.mmap(8, RW, { shared: true });
    cpuAccess(mm, a, true);
    mem.frames.content[pteFrame(pte(mm, a))] = 5;
    const seen = recorder(mm);
    const child = forkMm(mm, "c");
    expect(seen).toEqual([]);
    expect(pte(child, a)).toBe(0);
    expect(cpuRead(child, a)).toBe(5); // the same shmem page, through the page cache
    expect(pteFrame(pte(child, a))).toBe(pteFrame(pte(mm, a)));
  });

  it("does not copy a private mapping that only ever mapped the zero page (no anon_vma)", () => {
    const { mm } = machine();
    const a = mm.mmap(4, RW);
    cpuRead(mm, a); // zero page
    const seen = recorder(mm);
    const child = forkMm(mm, "c");
    expect(seen).toEqual([]);
    expect(pte(child, a)).toBe(0);
  });

  it("copies a private mapping with an anon_vma after a PROTECTION_PAGE notifier, write-protecting both", () => {
    const { mm } = machine();
    const a = mm.mmap(4, RW);
    cpuAccess(mm, a, true);
    const seen = recorder(mm);
    const child = forkMm(mm, "c");
    expect(seen.map((r) => r.event)).toEqual([MMU_NOTIFY_PROTECTION_PAGE]);
    expect(pteFrame(pte(child, a))).toBe(pteFrame(pte(mm, a)));
    expect(pteWritable(pte(child, a)) || pteWritable(pte(mm, a))).toBe(false);
  });
});

describe("mprotect: mprotect_fixup and vma_adjust_trans_huge (mm/mprotect.c, mm/huge_memory.c)", () => {
  it("changes nothing and notifies nothing when the flags do not change", () => {
    const { mm } = machine();
    const a = mm.mmap(16, RW);
    for (let k = 0; k < 16; k++) cpuAccess(mm, a + k, true);
    const seen = recorder(mm);
    expect(mm.mprotect(a + 3, 5, RW)).toBe(0);
    expect(seen).toEqual([]);
    expect(mm.vmas).toHaveLength(1);
  });

  it("splits a huge PMD cut by a boundary that is not 2 MiB aligned, with MMU_NOTIFY_CLEAR, so no PMD carries two protections", () => {
    const { mm } = machine();
    const a = thpBuffer(mm, 2);
    const seen = recorder(mm);
    expect(mm.mprotect(a + 100, 2 * PMD - 100, PROT_READ)).toBe(0);
    expect(seen[0]).toMatchObject({ event: MMU_NOTIFY_CLEAR, start: a, end: a + PMD });
    expect(seen.some((r) => r.event === MMU_NOTIFY_PROTECTION_VMA)).toBe(true);
    const region = mm.find(a)!.region;
    expect(region.isHuge(0)).toBe(false); // the cut block is mapped by PTEs now
    expect(region.isHuge(PMD)).toBe(true); // the whole block keeps its PMD (change_huge_pmd)
    expect(pteWritable(pte(mm, a + 99))).toBe(true);
    expect(pteWritable(pte(mm, a + 100))).toBe(false);
    expect(pteWritable(pte(mm, a + PMD + 5))).toBe(false);
  });
});

describe("try_to_migrate / remove_migration_ptes (mm/rmap.c)", () => {
  it("moves a page shared after fork for every process mapping it: one copy of the data", () => {
    const r = run([
      { op: "mmap", buffer: "a", pages: 4 },
      { op: "cpuWrite", buffer: "a", value: 7 },
      { op: "fork", child: "c" },
      { op: "migrateToDevice", device: "dmirror0", buffer: "a" },
      { op: "snapshot", device: "dmirror0", buffer: "a", process: "c" },
      { op: "cpuWrite", process: "c", buffer: "a", first: 0, count: 1, value: 9 },
      { op: "cpuRead", buffer: "a" },
      { op: "cpuRead", process: "c", buffer: "a" },
    ]);
    // The child sees the same device pages (read-only: still shared copy-on-write).
    expect((resultOf(r, 4, "snapshot") as { entries: string[] }).entries).toEqual(Array(4).fill("READ|DEV_PRIVATE_LOCAL"));
    expect(resultOf(r, 6, "cpuRead").values).toEqual([7, 7, 7, 7]);
    expect(resultOf(r, 7, "cpuRead").values).toEqual([9, 7, 7, 7]);
  });

  it("frees the old page once every mapping moved", () => {
    const { mem, mm, d0 } = machine();
    const a = mm.mmap(1, RW);
    const f = cpuAccess(mm, a, true);
    const child = forkMm(mm, "c");
    expect(d0.open(mm).migrateToDevice(a, 1).ret).toBe(0);
    expect(mem.frames.isFree(f)).toBe(true);
    expect(pteKind(pte(child, a))).toBe(KIND_DEVICE_PRIVATE);
    expect(pteFrame(pte(child, a))).toBe(pteFrame(pte(mm, a)));
  });
});

describe("make_device_exclusive (mm/rmap.c)", () => {
  it("takes an anonymous device-coherent page as it takes a RAM page", () => {
    const { mm, c2 } = machine();
    const a = mm.mmap(2, RW);
    cpuAccess(mm, a, true);
    cpuAccess(mm, a + 1, true);
    expect(c2.open(mm).migrateToDevice(a, 2).ret).toBe(0);
    const f = pteFrame(pte(mm, a));
    expect(makeDeviceExclusive(mm, a, null)).toBe(f);
    expect(pteKind(pte(mm, a))).toBe(KIND_DEVICE_EXCLUSIVE);
  });

  it("refuses a page-cache page and hugetlb memory (folio_test_anon, folio_test_hugetlb)", () => {
    const { mm } = machine();
    const a = mm.mmap(2, RW, { shared: true });
    expect(makeDeviceExclusive(mm, a, null)).toBe(-EOPNOTSUPP);
    const h = mm.mmap(1 << 18, RW, { hugeOrder: 18, hugetlb: true });
    expect(makeDeviceExclusive(mm, h, null)).toBe(-EOPNOTSUPP);
  });
});

describe("lib/test_hmm.c details", () => {
  it("fails a device write to its own read-only private page with EFAULT (dmirror_do_fault), not a retry loop", () => {
    const { mm, d0 } = machine();
    const a = mm.mmap(2, RW);
    cpuAccess(mm, a, true);
    cpuAccess(mm, a + 1, true);
    const dm = d0.open(mm);
    expect(dm.migrateToDevice(a, 2).ret).toBe(0);
    forkMm(mm, "c"); // write-protects the device-private entries
    const r = dm.write(a, 2, new Float64Array([1, 2]));
    expect(r.ret).toBe(-EFAULT);
    expect(r.page).toBe(a);
  });

  it("puts HMM_DMIRROR_FLAGS through the generic checks: the flag word is npages, so 0 is EINVAL", () => {
    const { mm, d0 } = machine();
    expect(d0.open(mm).setFlags(0).ret).toBe(-EINVAL);
    expect(d0.open(mm).setFlags(1).ret).toBe(0);
    const r = run([{ op: "flags", device: "dmirror0", value: 0 }]);
    expect(r.steps[0]).toMatchObject({ ok: false });
    expect(r.steps[0].error).toMatch(/^EINVAL/);
  });

  it("tags the mirror entry WRITE exactly when the source was writable (MIGRATE_PFN_WRITE): a hole migrates read-only", () => {
    const r = run([
      { op: "mmap", buffer: "a", pages: 2 },
      { op: "cpuWrite", buffer: "a", first: 0, count: 1, value: 3 },
      { op: "migrateToDevice", device: "dmirror0", buffer: "a" },
      // The device writes both pages: page 0's entry is writable, page 1 (a hole) needs a write fault round.
      { op: "deviceWrite", device: "dmirror0", buffer: "a", value: 4 },
    ]);
    expect(resultOf(r, 3, "deviceWrite")).toEqual({ cpages: 2, faults: 1 });
  });

  it("grows device memory in 256 MiB chunks on demand: the builtin dmirror machine migrates gigabytes", () => {
    const pages = 2 ** 19; // 2 GiB
    const r = run([
      { op: "mmap", buffer: "a", pages },
      { op: "cpuWrite", buffer: "a", value: 1 },
      { op: "migrateToDevice", device: "dmirror0", buffer: "a" },
      { op: "snapshot", device: "dmirror0", buffer: "a", summarize: true },
      { op: "migrateToSystem", device: "dmirror0", buffer: "a" },
    ]);
    expect(r.steps.every((s) => s.ok)).toBe(true);
    expect(resultOf(r, 2, "migrateToDevice").cpages).toBe(pages);
    expect(resultOf(r, 3, "snapshot")).toMatchObject({ counts: { "WRITE|DEV_PRIVATE_LOCAL": pages } });
    expect(resultOf(r, 4, "migrateToSystem").cpages).toBe(pages);
  });

  it("reports ENOENT where a topology caps a device's memory (the read-back finds pages not migrated)", () => {
    const topology = runObjectTopology();
    for (const n of topology.nodes) if (n.id === "dmirror0") n.memory = "4MiB";
    const r = runObject({
      topology,
      steps: [
        { op: "mmap", buffer: "a", pages: 2048 },
        { op: "cpuWrite", buffer: "a", value: 1 },
        { op: "migrateToDevice", device: "dmirror0", buffer: "a" },
      ],
    });
    expect(r.steps[2].ok).toBe(false);
    expect(r.steps[2].error).toMatch(/^ENOENT: migrateToDevice failed at page 1024/);
  });
});

/** The builtin dmirror topology as an object (to edit a copy). */
function runObjectTopology(): { nodes: Array<{ id: string; memory?: string }> } {
  return JSON.parse(JSON.stringify(DMIRROR_TOPOLOGY));
}
