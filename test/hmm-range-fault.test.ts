// Unit tests for src/hmm: interval notifier sequences (mm/mmu_notifier.c) and hmm_range_fault /
// snapshot (mm/hmm.c; reference/hmm-semantics.md §1, §8 checklist items 2-9).
import { describe, expect, it } from "vitest";
import { Mm } from "../src/memory/address-space.js";
import { cpuAccess } from "../src/memory/cpu-access.js";
import { EBUSY, EFAULT, EPERM } from "../src/memory/errno.js";
import { ZERO_PFN } from "../src/memory/frames.js";
import { Memory } from "../src/memory/memory.js";
import { MMU_NOTIFY_CLEAR } from "../src/memory/mmu-notifier.js";
import { PROT_NONE, PROT_READ, PROT_WRITE } from "../src/memory/vma.js";
import {
  HMM_PFN_ERROR, HMM_PFN_REQ_FAULT, HMM_PFN_REQ_WRITE, HMM_PFN_VALID, HMM_PFN_WRITE, hmmPfnToFrame, hmmPfnToMapOrder,
} from "../src/hmm/hmm-pfn.js";
import { IntervalNotifier, intervalNotifierInsert, readBegin, readRetry, setSeq } from "../src/hmm/interval-notifier.js";
import { HmmRange, rangeFault, snapshot } from "../src/hmm/range-fault.js";

const RW = PROT_READ | PROT_WRITE;

function notifier(mm: Mm, start = 0, len = 2 ** 30): IntervalNotifier {
  const sub = intervalNotifierInsert(mm, start, len, { invalidate: (s, _r, cur) => (setSeq(s, cur), true) });
  if (typeof sub === "number") throw new Error("insert");
  return sub;
}

function range(sub: IntervalNotifier, start: number, n: number, def: number): HmmRange {
  return {
    notifier: sub, notifierSeq: readBegin(sub), start, end: start + n, hmmPfns: new Uint32Array(n),
    defaultFlags: def, pfnFlagsMask: 0, devPrivateOwner: null,
  };
}

describe("interval notifier sequence (mmu_interval_read_begin / read_retry)", () => {
  it("makes read_retry true after an overlapping invalidation and only then", () => {
    const mm = new Mm(new Memory(), "p");
    const sub = notifier(mm, 100, 10);
    const seq = readBegin(sub);
    mm.invalidate(0, 100, MMU_NOTIFY_CLEAR);
    expect(readRetry(sub, seq)).toBe(false);
    mm.invalidate(105, 106, MMU_NOTIFY_CLEAR);
    expect(readRetry(sub, seq)).toBe(true);
    expect(sub.seq % 2).toBe(1); // cur_seq is odd
    expect(mm.mem.counters.invalidations).toBe(1);
  });
});

describe("snapshot (hmm_vma_get_pfns: no faulting)", () => {
  it("reports none as 0, present pages with VALID/WRITE and frame, PROT_NONE and holes as ERROR", () => {
    const mm = new Mm(new Memory(), "p");
    const a = mm.mmap(3, RW);
    const b = mm.mmap(1, PROT_NONE);
    const f = cpuAccess(mm, a + 1, true);
    cpuAccess(mm, a + 2, false);
    const out = new Uint32Array(b + 1 - a);
    snapshot(mm, a, b + 1, out, null);
    expect(out[0]).toBe(0);
    expect(out[1]).toBe((HMM_PFN_VALID | HMM_PFN_WRITE | f) >>> 0);
    expect(out[2]).toBe((HMM_PFN_VALID | ZERO_PFN) >>> 0);
    expect(out[3]).toBe(HMM_PFN_ERROR); // gap between the two VMAs
    expect(out[out.length - 1]).toBe(HMM_PFN_ERROR); // VMA without VM_READ
  });

  it("reports a PMD-mapped folio with map order 9 on every page", () => {
    const mm = new Mm(new Memory(), "p");
    const a = mm.mmap(512, RW, { hugeOrder: 9 });
    const f = cpuAccess(mm, a, true);
    const out = new Uint32Array(512);
    snapshot(mm, a, a + 512, out, null);
    expect(hmmPfnToMapOrder(out[511])).toBe(9);
    expect(hmmPfnToFrame(out[511])).toBe(f + 511);
  });
});

describe("hmm_range_fault", () => {
  it("faults pages in with REQ_FAULT and returns 0", () => {
    const mm = new Mm(new Memory(), "p");
    const a = mm.mmap(4, RW);
    const sub = notifier(mm);
    const r = range(sub, a, 4, HMM_PFN_REQ_FAULT);
    expect(rangeFault(r)).toBe(0);
    expect(r.hmmPfns.every((e) => (e & HMM_PFN_VALID) !== 0 && hmmPfnToFrame(e) === ZERO_PFN)).toBe(true);
  });

  it("returns -EBUSY when its own write fault broke the zero page (CLEAR), then succeeds on retry", () => {
    const mm = new Mm(new Memory(), "p");
    const a = mm.mmap(1, RW);
    cpuAccess(mm, a, false);
    const sub = notifier(mm);
    const r = range(sub, a, 1, HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE);
    expect(rangeFault(r)).toBe(-EBUSY);
    r.notifierSeq = readBegin(sub);
    expect(rangeFault(r)).toBe(0);
    expect(r.hmmPfns[0] & HMM_PFN_WRITE).not.toBe(0);
  });

  it("returns -EFAULT for a fault on PROT_NONE or a hole, -EPERM for a write fault on a read-only VMA", () => {
    const mm = new Mm(new Memory(), "p");
    const n = mm.mmap(1, PROT_NONE);
    const ro = mm.mmap(1, PROT_READ);
    const sub = notifier(mm);
    expect(rangeFault(range(sub, n, 1, HMM_PFN_REQ_FAULT))).toBe(-EFAULT);
    expect(rangeFault(range(sub, n + 1, 1, HMM_PFN_REQ_FAULT))).toBe(-EFAULT);
    expect(rangeFault(range(sub, ro, 1, HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE))).toBe(-EPERM);
  });

  it("ignores REQ_WRITE without REQ_FAULT, and honours per-page requests through pfn_flags_mask", () => {
    const mm = new Mm(new Memory(), "p");
    const a = mm.mmap(2, RW);
    const sub = notifier(mm);
    const r = range(sub, a, 2, 0);
    r.pfnFlagsMask = HMM_PFN_REQ_FAULT | HMM_PFN_REQ_WRITE;
    r.hmmPfns[0] = HMM_PFN_REQ_WRITE;
    r.hmmPfns[1] = HMM_PFN_REQ_FAULT;
    expect(rangeFault(r)).toBe(0);
    expect(r.hmmPfns[0]).toBe(0);
    expect(r.hmmPfns[1] & HMM_PFN_VALID).not.toBe(0);
  });
});
