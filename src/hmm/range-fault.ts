// Models: hmm_range_fault (mm/hmm.c) and its no-fault form hmm_vma_get_pfns: a walk of the CPU
// page tables of [start, end) that reports each page into hmm_pfns, faulting pages in where the
// request flags (per page, masked by pfn_flags_mask, OR default_flags) ask for it, with the
// -EFAULT / -EPERM / -EBUSY outcomes and the sequence check before every walk (hmm-semantics §1),
// and the P2P series' HMM_PFN_ALLOW_P2P: a foreign device-private page is reported as the owner's
// P2PDMA page when the owner's pgmap hands one out (hmm_handle_device_private, §6). Only page
// tables that exist are read (a missing one is a hole); a PMD-level device-private entry of another
// owner with no fault wanted is HMM_PFN_ERROR for its whole step (hmm_vma_handle_absent_pmd).
// Leaves out: migration-entry waits (no concurrent migration exists between steps), swap, poison.
import { Mm } from "../memory/address-space.js";
import { EBUSY, EFAULT, ENOSPC, EPERM } from "../memory/errno.js";
import { FAULT_FLAG_REMOTE, FAULT_FLAG_WRITE, handleMmFault } from "../memory/fault.js";
import { CHUNK_SHIFT, FrameTable } from "../memory/frames.js";
import { KIND_DEVICE_PRIVATE, KIND_PRESENT, PTE_KIND_SHIFT, PTE_PFN_MASK, PTE_WRITE } from "../memory/pte.js";
import { inBlock, nextBlockStart } from "../memory/page-table.js";
import { PMD_ORDER, PROT_READ, PROT_WRITE, Vma } from "../memory/vma.js";
import { IntervalNotifier, checkRetry } from "./interval-notifier.js";
import { HMM_PFN_ALLOW_P2P, HMM_PFN_ERROR, HMM_PFN_REQ_FAULT, HMM_PFN_REQ_WRITE, HMM_PFN_VALID, HMM_PFN_WRITE, levelBits } from "./hmm-pfn.js";

/** struct hmm_range; addresses are page numbers, hmm_pfns has one entry per page of [start, end). */
/** struct hmm_range (include/linux/hmm.h), in pages. */
export interface HmmRange {
  /** The interval notifier covering the range (its mm is the one walked). */
  notifier: IntervalNotifier;
  /** mmu_interval_read_begin's value: a walk that an invalidation overtook returns -EBUSY. */
  notifierSeq: number;
  /** Virtual page numbers [start, end). */
  start: number;
  end: number;
  /** In: per-page request flags (HMM_PFN_REQ_FAULT, HMM_PFN_REQ_WRITE, HMM_PFN_ALLOW_P2P);
   *  out: HMM_PFN_VALID | HMM_PFN_WRITE | pfn, or HMM_PFN_ERROR. One entry per page. */
  hmmPfns: Uint32Array;
  /** Request flags for every page, and which of each entry's own flags count (hmm.rst "Leverage
   *  default_flags and pfn_flags_mask"). */
  defaultFlags: number;
  pfnFlagsMask: number;
  /** dev_private_owner: device-private pages of this owner are reported, not faulted (your
   *  DriverDevice.owner for your own memory). */
  devPrivateOwner: unknown;
}

/** Walk outcome: all entries filled. */
const WALK_DONE = 0;
/** A page walk's outcome: an ALLOW_P2P page whose owner has no BAR slot left for it (the kit's
 *  aperture "fail" policy; the P2P series leaves the callback's error to the normal path). */
const WALK_NOSPC = -2;
/** Walk outcome: a fault was taken; re-walk from `walk.last` (internal -EBUSY). */
const WALK_AGAIN = 1;

/**
 * Per-call state of one walk (struct hmm_vma_walk: the range and `last`, the page to resume from
 * after a fault), made on the caller's stack; hot loops copy its fields to locals.
 */
interface HmmVmaWalk {
  mm: Mm;
  frames: FrameTable;
  start: number;
  end: number;
  out: Uint32Array;
  defaultFlags: number;
  pfnFlagsMask: number;
  owner: unknown;
  /** Whether any page may request a fault (default or per-page REQ_FAULT). */
  canFault: boolean;
  last: number;
}

function newWalk(mm: Mm, start: number, end: number, out: Uint32Array, defaultFlags: number, pfnFlagsMask: number, owner: unknown): HmmVmaWalk {
  return {
    mm, frames: mm.mem.frames, start, end, out, defaultFlags, pfnFlagsMask, owner,
    canFault: ((defaultFlags | pfnFlagsMask) & HMM_PFN_REQ_FAULT) !== 0, last: start,
  };
}

/** hmm_range_fault: 0, -EBUSY (sequence changed), -EFAULT or -EPERM; -ENOSPC when a P2P alias
 *  is refused because the owner's BAR window is full under the "fail" policy. */
export function rangeFault(range: HmmRange): number {
  const walk = newWalk(range.notifier.mm, range.start, range.end, range.hmmPfns, range.defaultFlags, range.pfnFlagsMask, range.devPrivateOwner);
  for (;;) {
    if (checkRetry(range.notifier, range.notifierSeq)) return -EBUSY;
    const r = walkRange(walk);
    if (r !== WALK_AGAIN) return r;
  }
}

/**
 * hmm_vma_get_pfns / hmm_range_fault with default_flags = pfn_flags_mask = 0: reports the CPU page
 * tables of [start, end) into `out` without faulting anything. Never fails.
 */
export function snapshot(mm: Mm, start: number, end: number, out: Uint32Array, devPrivateOwner: unknown): void {
  walkRange(newWalk(mm, start, end, out, 0, 0, devPrivateOwner));
}

/** walk_page_range from `walk.last`: holes and VMAs without VM_READ, then each VMA's PTEs. */
function walkRange(walk: HmmVmaWalk): number {
  const { mm, start, end, out, canFault } = walk;
  let a = walk.last;
  while (a < end) {
    const vma = mm.findFrom(a);
    if (vma === undefined || vma.start > a) {
      // hmm_vma_walk_hole without a VMA: -EFAULT if a fault is wanted, else HMM_PFN_ERROR.
      const e = vma === undefined ? end : Math.min(vma.start, end);
      if (canFault && anyFault(walk, a - start, e - start)) return -EFAULT;
      out.fill(HMM_PFN_ERROR, a - start, e - start);
      a = e;
      continue;
    }
    const e = Math.min(vma.end, end);
    if (!(vma.prot & PROT_READ)) {
      // hmm_vma_walk_test: a VMA without VM_READ is all HMM_PFN_ERROR, or -EFAULT when faulting.
      if (canFault && anyFault(walk, a - start, e - start)) return -EFAULT;
      out.fill(HMM_PFN_ERROR, a - start, e - start);
      a = e;
      continue;
    }
    const need = canFault ? walkPtesFaulting(walk, vma, a, e) : walkPtesNoFault(walk, vma, a, e);
    if (need === WALK_NOSPC) return -ENOSPC;
    if (need < 0) {
      a = e;
      continue;
    }
    // hmm_vma_fault: fault [addr, end of this PMD step) with the flags of the page that needed it.
    const vpn = Math.floor(need / 2); // page numbers reach 2^35: no 32-bit shifts
    const write = need % 2 === 1;
    if (write && !(vma.prot & PROT_WRITE)) return -EPERM;
    const stepEnd = Math.min(e, (Math.floor(vpn / 512) + 1) * 512);
    const flags = FAULT_FLAG_REMOTE | (write ? FAULT_FLAG_WRITE : 0);
    for (let v = vpn; v < stepEnd; v++) if (handleMmFault(mm, v, flags) !== 0) return -EFAULT;
    walk.last = vpn;
    return WALK_AGAIN;
  }
  return WALK_DONE;
}

/**
 * Snapshot mode (no page can request a fault): the hot path of hmm_vma_get_pfns, run per page
 * table so the map level is a constant of the inner loop; a missing table is a hole (0).
 */
function walkPtesNoFault(walk: HmmVmaWalk, vma: Vma, a: number, e: number): number {
  const region = vma.region;
  const level = levelBits(region.order);
  let idx = Mm.index(vma, a);
  let o = a - walk.start;
  const oEnd = e - walk.start;
  const out = walk.out;
  while (o < oEnd) {
    const stop = Math.min(oEnd, o + (nextBlockStart(idx) - idx));
    const b = region.block(idx);
    if (b === undefined) out.fill(0, o, stop);
    else if (!region.anyHuge || !region.isHuge(idx)) fillNoFault(walk, b, inBlock(idx), o, stop, 0);
    else if (!absentPmdError(walk, vma, idx, o, stop)) fillNoFault(walk, b, inBlock(idx), o, stop, level);
    idx += stop - o;
    o = stop;
  }
  return -1;
}

/**
 * hmm_vma_handle_absent_pmd without a fault wanted: a PMD-level device-private entry of another
 * owner reports HMM_PFN_ERROR for the whole step (a PTE-level one reports 0). Returns whether
 * entries [o, stop) were filled so.
 */
function absentPmdError(walk: HmmVmaWalk, vma: Vma, idx: number, o: number, stop: number): boolean {
  if (vma.region.order !== PMD_ORDER) return false;
  const p = vma.region.get(idx);
  if (p >>> PTE_KIND_SHIFT !== KIND_DEVICE_PRIVATE) return false;
  const frames = walk.frames;
  if (frames.pools[frames.chunkPool[(p & PTE_PFN_MASK) >>> CHUNK_SHIFT]].pagemap?.owner === walk.owner) return false;
  walk.out.fill(HMM_PFN_ERROR, o, stop);
  return true;
}

/** Fills entries for [a, e) of one VMA; returns -1, or (vpn << 1 | write) of the first page needing a fault. */
function walkPtesFaulting(walk: HmmVmaWalk, vma: Vma, a: number, e: number): number {
  const { out, defaultFlags: def, pfnFlagsMask: mask, owner, mm, frames } = walk;
  const start = walk.start;
  const region = vma.region;
  const { chunkPool, pools } = frames;
  const level = levelBits(region.order);
  let idx = Mm.index(vma, a);
  const oEnd = e - start;
  for (let o = a - start; o < oEnd; ) {
    const stop = Math.min(oEnd, o + (nextBlockStart(idx) - idx));
    const b = region.block(idx);
    const huge = b !== undefined && region.anyHuge && region.isHuge(idx);
    if (huge && !anyFault(walk, o, stop) && absentPmdError(walk, vma, idx, o, stop)) {
      idx += stop - o;
      o = stop;
      continue;
    }
    const lvl = huge ? level : 0;
    for (let j = inBlock(idx); o < stop; o++, idx++, j++) {
      const p = b === undefined ? 0 : b[j];
      const kind = p >>> PTE_KIND_SHIFT;
      let cpu = 0;
      let owned = false;
      if (kind === KIND_PRESENT) {
        cpu = HMM_PFN_VALID | (p & PTE_WRITE ? HMM_PFN_WRITE : 0) | (p & PTE_PFN_MASK) | lvl;
      } else if (kind === KIND_DEVICE_PRIVATE) {
        const f = p & PTE_PFN_MASK;
        if (pools[chunkPool[f >>> CHUNK_SHIFT]].pagemap?.owner === owner) {
          owned = true; // reported, never faulted (hmm_vma_handle_pte, device-private owner match)
          cpu = HMM_PFN_VALID | (p & PTE_WRITE ? HMM_PFN_WRITE : 0) | f | lvl;
        } else if (((out[o] & mask) | def) & HMM_PFN_ALLOW_P2P) {
          const pf = p2pAlias(frames, f, mm, start + o);
          if (pf >= 0) {
            owned = true; // the P2P page is reported, never faulted (with or without REQ_FAULT)
            cpu = HMM_PFN_VALID | (p & PTE_WRITE ? HMM_PFN_WRITE : 0) | pf;
          } else if (pf === -ENOSPC) return WALK_NOSPC; // the owner's window is full under its "fail" policy

        }
      }
      if (!owned) {
        const req = (out[o] & mask) | def;
        if (req & HMM_PFN_REQ_FAULT) {
          // hmm_pte_need_fault
          if (req & HMM_PFN_REQ_WRITE && !(cpu & HMM_PFN_WRITE)) return (start + o) * 2 + 1;
          if (!(cpu & HMM_PFN_VALID)) return (start + o) * 2;
        }
      }
      out[o] = cpu;
    }
  }
  return -1;
}

// Module-local copies for fillNoFault: V8 reloads an imported binding from its cell at each use in
// optimized code, but folds a module-local const.
const VALID = HMM_PFN_VALID;
const PFN_MASK = PTE_PFN_MASK;
const WRITE_BIT = PTE_WRITE;
const CHUNK = CHUNK_SHIFT;
const ALLOW_P2P = HMM_PFN_ALLOW_P2P;

/** Output flags by (PTE kind << 1 | write): present → VALID[|WRITE]; device-private → look at the owner. */
const SLOW = 1;
const SNAP_FLAGS = new Int32Array(32);
SNAP_FLAGS[(KIND_PRESENT << 1) | 0] = HMM_PFN_VALID;
SNAP_FLAGS[(KIND_PRESENT << 1) | 1] = HMM_PFN_VALID | HMM_PFN_WRITE;
SNAP_FLAGS[KIND_DEVICE_PRIVATE << 1] = SLOW;
SNAP_FLAGS[(KIND_DEVICE_PRIVATE << 1) | 1] = SLOW;

/** Fills out[o..oEnd) from pte[idx..]: a table lookup per entry, the frame kept only for VALID outputs. */
function fillNoFault(walk: HmmVmaWalk, pte: Uint32Array, idx: number, o: number, oEnd: number, lvl: number): void {
  const { out, frames, owner, defaultFlags: def, pfnFlagsMask: mask, mm, start } = walk;
  const chunkPool = frames.chunkPool;
  // The last pool found to belong to the owner (device-private pages come in long runs of one pool).
  let ownedPool = -1;
  for (; o < oEnd; o++, idx++) {
    const p = pte[idx];
    const e = SNAP_FLAGS[p >>> 27];
    if (e !== SLOW) {
      const keep = e >> 31; // -1 when VALID, else 0
      out[o] = e | (p & PFN_MASK & keep) | (lvl & keep);
    } else {
      const f = p & PFN_MASK;
      const poolId = chunkPool[f >>> CHUNK];
      if (poolId === ownedPool) {
        out[o] = VALID | ((p & WRITE_BIT) << 3) | f | lvl;
        continue;
      }
      const pgmap = frames.pools[poolId].pagemap;
      if (pgmap !== null && pgmap.owner === owner) {
        ownedPool = poolId;
        out[o] = VALID | ((p & WRITE_BIT) << 3) | f | lvl;
      } else if (((out[o] & mask) | def) & ALLOW_P2P) {
        const pf = p2pAlias(frames, f, mm, start + o);
        out[o] = pf >= 0 ? VALID | ((p & WRITE_BIT) << 3) | pf : 0;
      } else out[o] = 0;
    }
  }
}

/** The owner pgmap's get_dma_pfn_for_device for device-private `f`, or -1 without the callback. */
function p2pAlias(frames: FrameTable, f: number, mm: Mm, vpn: number): number {
  const ops = frames.pools[frames.chunkPool[f >>> CHUNK_SHIFT]].pagemap?.ops;
  return ops?.getDmaPfnForDevice ? ops.getDmaPfnForDevice(f, mm, vpn) : -1;
}

/** Whether any entry of [o0, o1) asks for a fault (hmm_range_need_fault). */
function anyFault(walk: HmmVmaWalk, o0: number, o1: number): boolean {
  if (walk.defaultFlags & HMM_PFN_REQ_FAULT) return true;
  const { out, pfnFlagsMask: mask } = walk;
  for (let o = o0; o < o1; o++) if (out[o] & mask & HMM_PFN_REQ_FAULT) return true;
  return false;
}
