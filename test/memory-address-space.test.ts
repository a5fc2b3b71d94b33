// Unit tests for src/memory (address-space, fault, fork, exclusive): demand faults, the zero page,
// copy-on-write, munmap/mprotect notifier events, device-exclusive entries (mm/memory.c,
// mm/mmap.c, mm/mprotect.c, mm/rmap.c; reference/hmm-semantics.md §2.3, §5).
import { describe, expect, it } from "vitest";
import { Mm } from "../src/memory/address-space.js";
import { cpuAccess, cpuAccessRange, cpuRead } from "../src/memory/cpu-access.js";
import { EFAULT, ENOMEM } from "../src/memory/errno.js";
import { makeDeviceExclusive } from "../src/memory/exclusive.js";
import { forkMm } from "../src/memory/fork.js";
import { ZERO_PFN } from "../src/memory/frames.js";
import { Memory } from "../src/memory/memory.js";
import {
  MMU_NOTIFY_CLEAR, MMU_NOTIFY_EXCLUSIVE, MMU_NOTIFY_PROTECTION_PAGE, MMU_NOTIFY_PROTECTION_VMA, MMU_NOTIFY_UNMAP, NotifierRange,
} from "../src/memory/mmu-notifier.js";
import { KIND_DEVICE_EXCLUSIVE, KIND_PRESENT, pteFrame, pteKind, pteWritable } from "../src/memory/pte.js";
import { PROT_NONE, PROT_READ, PROT_WRITE } from "../src/memory/vma.js";

const RW = PROT_READ | PROT_WRITE;

function setup() {
  const mem = new Memory();
  const mm = new Mm(mem, "p");
  const events: NotifierRange[] = [];
  mm.notifier = { invalidateRangeStart: (r) => events.push(r) };
  return { mem, mm, events };
}

function pte(mm: Mm, vpn: number): number {
  const vma = mm.find(vpn)!;
  return Mm.pte(vma, vpn);
}

describe("demand faults", () => {
  it("maps the zero page on a read of untouched private anonymous memory (do_anonymous_page)", () => {
    const { mm } = setup();
    const a = mm.mmap(4, RW);
    expect(cpuRead(mm, a)).toBe(0);
    expect(pteFrame(pte(mm, a))).toBe(ZERO_PFN);
    expect(pteWritable(pte(mm, a))).toBe(false);
  });

  it("replaces the zero page on write after a CLEAR notifier (wp_page_copy)", () => {
    const { mm, mem, events } = setup();
    const a = mm.mmap(1, RW);
    cpuRead(mm, a);
    const f = cpuAccess(mm, a, true);
    expect(f).not.toBe(ZERO_PFN);
    expect(mem.frames.mapcount[f]).toBe(1);
    expect(events.map((e) => e.event)).toEqual([MMU_NOTIFY_CLEAR]);
  });

  it("faults on PROT_NONE and on unmapped pages with SIGSEGV (-EFAULT)", () => {
    const { mm } = setup();
    const a = mm.mmap(2, PROT_NONE);
    expect(cpuAccess(mm, a, false)).toBe(-EFAULT);
    expect(cpuAccess(mm, a + 100, false)).toBe(-EFAULT);
  });

  it("maps a whole huge folio on the first write to a THP region (do_huge_pmd_anonymous_page)", () => {
    const { mm } = setup();
    const a = mm.mmap(512, RW, { hugeOrder: 9 });
    expect(a % 512).toBe(0);
    const f = cpuAccess(mm, a + 3, true);
    const vma = mm.find(a)!;
    expect(vma.region.isHuge(0)).toBe(true); // huge block 0 is mapped by one PMD leaf
    expect(pteFrame(pte(mm, a))).toBe(f - 3);
  });
});

describe("munmap / mprotect", () => {
  it("fires UNMAP before the pages are freed (hmm-semantics §2.5)", () => {
    const mem = new Memory();
    const mm = new Mm(mem, "p");
    const a = mm.mmap(2, RW);
    const f = cpuAccess(mm, a, true);
    let freeDuringCallback: boolean | undefined;
    mm.notifier = { invalidateRangeStart: (r) => { if (r.event === MMU_NOTIFY_UNMAP) freeDuringCallback = mem.frames.isFree(f); } };
    expect(mm.munmap(a, 2)).toBe(0);
    expect(freeDuringCallback).toBe(false);
    expect(mem.frames.isFree(f)).toBe(true);
    expect(mm.find(a)).toBeUndefined();
  });

  it("splits VMAs and write-protects PTEs on mprotect(PROT_READ) after PROTECTION_VMA", () => {
    const { mm, events } = setup();
    const a = mm.mmap(4, RW);
    for (let k = 0; k < 4; k++) cpuAccess(mm, a + k, true);
    expect(mm.mprotect(a + 1, 2, PROT_READ)).toBe(0);
    expect(mm.vmas.length).toBe(3);
    expect(events.at(-1)).toMatchObject({ start: a + 1, end: a + 3, event: MMU_NOTIFY_PROTECTION_VMA });
    expect(pteWritable(pte(mm, a))).toBe(true);
    expect(pteWritable(pte(mm, a + 1))).toBe(false);
    expect(mm.mprotect(a + 10, 1, PROT_READ)).toBe(-ENOMEM);
  });
});

describe("fork", () => {
  it("makes private pages copy-on-write in both processes after PROTECTION_PAGE (copy_page_range)", () => {
    const { mm, mem, events } = setup();
    const a = mm.mmap(1, RW);
    const f = cpuAccess(mm, a, true);
    mem.frames.content[f] = 7;
    const child = forkMm(mm, "c");
    expect(events[0].event).toBe(MMU_NOTIFY_PROTECTION_PAGE);
    expect(mem.frames.mapcount[f]).toBe(2);
    const g = cpuAccess(child, a, true);
    expect(g).not.toBe(f);
    mem.frames.content[g] = 8;
    expect(cpuRead(mm, a)).toBe(7);
    expect(cpuRead(child, a)).toBe(8);
  });

  it("shares pages of shared mappings", () => {
    const { mm, mem } = setup();
    const a = mm.mmap(1, RW, { shared: true });
    const f = cpuAccess(mm, a, true);
    const child = forkMm(mm, "c");
    expect(cpuAccess(child, a, true)).toBe(f);
    mem.frames.content[f] = 3;
    expect(cpuRead(mm, a)).toBe(3);
  });
});

describe("device-exclusive entries", () => {
  it("converts the PTE after EXCLUSIVE(owner) and restores it on CPU access after EXCLUSIVE(NULL)", () => {
    const { mm, events } = setup();
    const a = mm.mmap(1, RW);
    const f = cpuAccess(mm, a, true);
    expect(makeDeviceExclusive(mm, a, "dev")).toBe(f);
    expect(pteKind(pte(mm, a))).toBe(KIND_DEVICE_EXCLUSIVE);
    expect(events.at(-1)).toMatchObject({ event: MMU_NOTIFY_EXCLUSIVE, owner: "dev" });
    expect(cpuAccess(mm, a, false)).toBe(f);
    expect(pteKind(pte(mm, a))).toBe(KIND_PRESENT);
    expect(events.at(-1)).toMatchObject({ event: MMU_NOTIFY_EXCLUSIVE, owner: null });
  });
});

describe("fault events of a CPU store run (memory/cpu-access.ts cpuAccessRange)", () => {
  /** A machine whose listeners record faults page by page (`fault` only) and as runs (`fault` and `faultRun`). */
  function listened(ramPages?: number) {
    const pages: number[] = [];
    const runs: [number, number][] = [];
    const mem = new Memory({
      ramPerNode: ramPages === undefined ? undefined : ramPages * 4096,
      listeners: [
        { fault: (_mm, vpn) => pages.push(vpn) },
        { fault: () => { throw new Error("a run goes to faultRun"); }, faultRun: (_mm, vpn, n) => runs.push([vpn, n]) },
      ],
    });
    return { mem, mm: new Mm(mem, "p"), pages, runs };
  }

  it("first stores to untouched anonymous pages: one fault per page, in order, a run per page table", () => {
    const { mem, mm, pages, runs } = listened();
    const a = mm.mmap(1000, RW);
    expect(cpuAccessRange(mm, a, 1000, true, null, 7, 1)).toEqual({ done: 1000, err: 0 });
    expect(pages).toEqual(Array.from({ length: 1000 }, (_, k) => a + k));
    // do_anonymous_page per page; the model publishes the faults of one page table (512 PTEs) at once.
    const firstTable = 512 - (a % 512);
    expect(runs).toEqual([[a, firstTable], [a + firstTable, 1000 - firstTable]]);
    expect(mem.counters.faults).toBe(1000);
    expect(cpuRead(mm, a + 999)).toBe(7 + 999);
  });

  it("a store that finds no free RAM page faults too (-ENOMEM): the run ends at that page", () => {
    const { mem, mm, pages, runs } = listened(8);
    const a = mm.mmap(16, RW);
    const r = cpuAccessRange(mm, a, 16, true, null, 1, 0);
    expect(r.err).toBe(-ENOMEM);
    expect(pages).toEqual(Array.from({ length: r.done + 1 }, (_, k) => a + k));
    expect(runs).toEqual([[a, r.done + 1]]);
    expect(mem.counters.faults).toBe(r.done + 1);
  });
});
