// Models: a CPU load or store to one page, or to a run of pages in order: the access goes
// through the PTE when it allows it, and otherwise takes a page fault first (handle_mm_fault), as
// the MMU would.
// Leaves out: TLBs and access size (a page holds one number, DESIGN §4).
import { Mm } from "./address-space.js";
import { EFAULT, ENOMEM } from "./errno.js";
import { inBlock, nextBlockStart, PTRS_PER_PTE } from "./page-table.js";
import { FAULT_FLAG_WRITE, handleMmFault } from "./fault.js";
import { KIND_PRESENT, PTE_KIND_SHIFT, PTE_PFN_MASK, PTE_WRITE } from "./pte.js";
import { PROT_READ, PROT_WRITE, type Vma } from "./vma.js";

/** The frame a CPU access to `vpn` lands on after any fault, or -EFAULT (SIGSEGV / SIGBUS). */
export function cpuAccess(mm: Mm, vpn: number, write: boolean): number {
  const vma = mm.find(vpn);
  if (!vma || !(vma.prot & (write ? PROT_WRITE : PROT_READ))) return -EFAULT;
  let p = Mm.pte(vma, vpn);
  if (p >>> PTE_KIND_SHIFT !== KIND_PRESENT || (write && !(p & PTE_WRITE))) {
    const ret = handleMmFault(mm, vpn, write ? FAULT_FLAG_WRITE : 0);
    if (ret !== 0) return ret;
    const again = mm.find(vpn)!;
    p = Mm.pte(again, vpn);
  }
  return p & PTE_PFN_MASK;
}

export function cpuRead(mm: Mm, vpn: number): number {
  const f = cpuAccess(mm, vpn, false);
  return f < 0 ? NaN : mm.mem.frames.content[f];
}

// Module-local copies for the per-page loops: V8 keeps an imported binding in a cell that
// optimized code reloads and re-checks at each use, but folds a module-local const.
const PRESENT = KIND_PRESENT;
const KIND_SHIFT = PTE_KIND_SHIFT;
const WRITE_BIT = PTE_WRITE;
const PFN_MASK = PTE_PFN_MASK;
/** The PTE of a new writable anonymous page, less its frame. */
const NEW_ANON_PTE = ((KIND_PRESENT << PTE_KIND_SHIFT) | PTE_WRITE) >>> 0;

/**
 * CPU loads (`write` false: into `data`) or stores over pages [start, start + count) (of `data`,
 * or without it `value + step * k` into the k-th page),
 * page by page in order, each exactly as cpuAccess: through the PTE when it allows it, else after
 * handle_mm_fault. The common first store to an untouched private anonymous page is
 * do_anonymous_page done inline (a fault event, a new page, the PTE), without the per-page lookups
 * of the general path; a run of such stores takes its pages from node 0 in one allocMany call (the
 * frames one alloc per store would give, in the same order). Returns the pages done and, when one
 * faulted fatally, its errno.
 */
export function cpuAccessRange(
  mm: Mm, start: number, count: number, write: boolean, data: Float64Array | null, value = 0, step = 0,
): { done: number; err: number } {
  const end = start + count;
  const run: AccessRun = { mm, start, write, data, value, step, anonWrite: false, failedAt: 0 };
  let v = start;
  while (v < end) {
    const vma = mm.find(v);
    if (!vma || !(vma.prot & (write ? PROT_WRITE : PROT_READ))) return { done: v - start, err: -EFAULT };
    const region = vma.region;
    // do_anonymous_page applies to private anonymous memory that never maps huge blocks.
    run.anonWrite = write && vma.file === null && !vma.shared && region.order === 0;
    const stop = Math.min(end, vma.end);
    while (v < stop) {
      const i = Mm.index(vma, v);
      const blockEnd = Math.min(stop, v + (nextBlockStart(i) - i));
      const fresh = run.anonWrite && region.block(i) === undefined;
      const b = run.anonWrite ? region.table(i) : region.block(i);
      const r = fresh ? newAnonBlock(run, vma, b!, inBlock(i), v, blockEnd) : accessBlock(run, vma, b, inBlock(i), v, blockEnd);
      if (r < 0) return { done: run.failedAt - start, err: r };
      v = blockEnd;
    }
  }
  return { done: count, err: 0 };
}

/** One cpuAccessRange call: what every block shares. */
interface AccessRun {
  mm: Mm;
  start: number;
  write: boolean;
  data: Float64Array | null;
  value: number;
  step: number;
  anonWrite: boolean;
  /** The page whose access failed. */
  failedAt: number;
}

/** Frames of one newAnonBlock call (a block has at most PTRS_PER_PTE pages). */
const newFrames = new Int32Array(PTRS_PER_PTE);

/**
 * Stores to pages [v, stop) of page table `b` (from entry `j`), which was just made (every PTE
 * none): do_anonymous_page for each in order (a new page of node 0, or of another node once node 0
 * is full, the PTE), then the store; the faults are published as one run (the failing page's
 * included). 0, or -ENOMEM (run.failedAt).
 */
function newAnonBlock(run: AccessRun, vma: Vma, b: Uint32Array, j: number, v: number, stop: number): number {
  const { mm, data, value, step, start } = run;
  const mem = mm.mem;
  const frames = mem.frames;
  const n = stop - v;
  const got = frames.allocMany(mem.ram[0], n, newFrames);
  let { mapcount, content } = frames; // after allocMany: it may have grown the frame table
  const v0 = v;
  for (let k = 0; k < n; k++, v++, j++) {
    let f: number;
    if (k < got) f = newFrames[k];
    else {
      f = mem.allocRam();
      if (f < 0) {
        mem.events.faultRun(mm, v0, k + 1, false);
        run.failedAt = v;
        return -ENOMEM;
      }
      ({ mapcount, content } = frames);
    }
    mapcount[f] = 1;
    vma.anonVma = true;
    b[j] = (NEW_ANON_PTE | f) >>> 0;
    content[f] = data === null ? value + step * (v - start) : data[v - start];
  }
  mem.events.faultRun(mm, v0, n, false);
  return 0;
}

/**
 * The accesses to pages [v, stop) of one page table `b` (from entry `j`): 0, or the errno of the
 * page that failed (run.failedAt). Called once per table, so it is compiled whole after a few
 * tables rather than entered mid-loop.
 */
function accessBlock(run: AccessRun, vma: Vma, b: Uint32Array | undefined, j: number, v: number, stop: number): number {
  const { mm, write, data, value, step, start, anonWrite } = run;
  const mem = mm.mem;
  const frames = mem.frames;
  for (; v < stop; v++, j++) {
    const p = b === undefined ? 0 : b[j];
    let f: number;
    if (p >>> KIND_SHIFT === PRESENT && (!write || p & WRITE_BIT)) f = p & PFN_MASK;
    else if (p === 0 && anonWrite) {
      mem.events.fault(mm, v, false);
      f = mem.allocRam();
      if (f < 0) {
        run.failedAt = v;
        return -ENOMEM;
      }
      frames.mapcount[f] = 1;
      vma.anonVma = true;
      b![j] = (NEW_ANON_PTE | f) >>> 0;
    } else {
      f = cpuAccess(mm, v, write); // a fault never changes the VMA layout
      if (f < 0) {
        run.failedAt = v;
        return f;
      }
    }
    if (!write) data![v - start] = frames.content[f];
    else frames.content[f] = data === null ? value + step * (v - start) : data[v - start];
  }
  return 0;
}
