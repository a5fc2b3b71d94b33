// Models: the HMM-mirror design of a P2P client (RDMA on-demand paging, mlx5 ib_umem_odp; a GPU's
// SVM): per process an interval notifier over the whole address space and the device's page
// table; mapRange faults the range with HMM_PFN_ALLOW_P2P in chunks, re-checks the notifier
// sequence under the driver mutex and programs each page by its P2PDMA map type (bus address
// through a switch, IOVA through the host bridge), NOT_SUPPORTED pages by the step's fallback
// (migrate: fault them to RAM without ALLOW_P2P, as the mlx5 patches do; bounce: through a host
// buffer); the invalidation callback bumps the sequence, waits for the device's DMA in flight on
// the range, zaps the entries and unmaps their IOVAs before returning (hmm-semantics.md §1.7, §2.2).
// A walk overtaken by an invalidation is retried on a smaller chunk, so a provider's aperture
// smaller than a chunk still makes progress. Aperture pressure with no slot to reclaim (-ENOSPC)
// takes the migrate fallback: the chunk is faulted to RAM.
// The broken variants (odp.ts options) reproduce classic driver bugs for the safety checker.
// Leaves out: ODP page-fault events raised by the device itself: a DMA runs through the entries
// present (DESIGN §4: a page with no mapping fails the step); a peerMap maps again.
import type { Mm } from "../../memory/address-space.js";
import { EBUSY, ENOSPC } from "../../memory/errno.js";
import type { NotifierRange } from "../../memory/mmu-notifier.js";
import type { IntervalNotifier } from "../../hmm/interval-notifier.js";
import { HMM_PFN_ALLOW_P2P, HMM_PFN_REQ_FAULT, HMM_PFN_REQ_WRITE, HMM_PFN_WRITE } from "../../hmm/hmm-pfn.js";
import type { HmmRange } from "../../hmm/range-fault.js";
import {
  DMA_MAPPING_ERROR, DPTE_IOVA, DPTE_WRITE, type DmaRequest, type DriverDevice, type DriverInstance, type Fence,
  type HookError, type Kernel, type Op, type MapRequest, type P2pdmaMapState, type P2pDriver, type RangeRequest,
} from "../api.js";
import { dropEntries, track, waitForDma } from "./quiesce.js";

/** Pages per hmm_range_fault call (ib_umem_odp maps in bounded chunks). */
const FAULT_CHUNK = 32;
/** Retries of one chunk before giving up with -EBUSY (HMM_RANGE_DEFAULT_TIMEOUT stands for it). */
const MAX_RETRIES = 1000;
const ALL_PAGES = 2 ** 36;
/** mapChunk's answer when the chunk should be retried smaller. */
const SMALLER = "smaller";

/** The bugs an ODP driver can have; each one is a variant the explorer must catch. */
export interface OdpBugs {
  /** The callback bumps the sequence but leaves the entries (DMA keeps going after invalidation). */
  ignoreInvalidation?: boolean;
  /** The table is programmed without mmu_interval_read_retry after the walk (a stale snapshot wins). */
  noSeqRecheck?: boolean;
  /** IOVA-mapped entries are zapped and their IOVAs unmapped only at the next map call, after the page was given back. */
  lateIovaUnmap?: boolean;
  /** The callback does not wait for the device's DMA in flight before returning. */
  noFenceWait?: boolean;
}

interface Mirror {
  sub: IntervalNotifier;
  /** DMA this device started on this process and not known to have ended. */
  inflight: Fence[];
  /** lateIovaUnmap: pages whose zap and IOVA unmap were deferred. */
  deferred: number[];
}

/** An ODP driver with the given bugs (none: the correct design). */
export function odpDriver(name: string, description: string, bugs: OdpBugs = {}): P2pDriver {
  return { name, description, create: (k, dev) => new Odp(k, dev, bugs) };
}

class Odp implements DriverInstance {
  private readonly mirrors = new Map<Mm, Mirror>();
  private readonly mutex;

  constructor(private readonly k: Kernel, private readonly dev: DriverDevice, private readonly bugs: OdpBugs) {
    this.mutex = k.mutexInit();
  }

  /** ib_umem_odp_get: the process's mirror, with its notifier over the whole address space. */
  private mirror(mm: Mm): Mirror | HookError {
    let m = this.mirrors.get(mm);
    if (m) return m;
    const ops = { invalidate: (sub: IntervalNotifier, range: NotifierRange, cur: number) => this.invalidate(mm, sub, range, cur) };
    const sub = this.k.mmuIntervalNotifierInsert(mm, 0, ALL_PAGES, ops);
    if (typeof sub === "number") return { ret: sub, page: 0, reason: "the process has exited (mmu_interval_notifier_insert failed)" };
    m = { sub, inflight: [], deferred: [] };
    this.mirrors.set(mm, m);
    return m;
  }

  /** The invalidate callback: sequence, wait for DMA in flight, zap and unmap, before the CPU PTEs change. */
  private invalidate(mm: Mm, sub: IntervalNotifier, range: NotifierRange, cur: number): boolean {
    const k = this.k;
    k.mmuIntervalSetSeq(sub, cur);
    if (this.bugs.ignoreInvalidation) return true;
    const m = this.mirrors.get(mm)!;
    if (!this.bugs.noFenceWait) for (const f of m.inflight) if (!f.signaled) k.dmaFenceWait(f);
    const table = this.dev.table(mm);
    if (this.bugs.lateIovaUnmap) {
      const zap: number[] = [];
      table.forEach(range.start, range.end, (vpn, _addr, flags) => (flags & DPTE_IOVA ? m.deferred : zap).push(vpn)); // the bug
      for (const vpn of zap) table.clear(vpn, vpn + 1);
      return true;
    }
    dropEntries(k, this.dev, mm, range.start, range.end);
    return true;
  }

  /** lateIovaUnmap's deferred work, at the driver's next map or unmap call. */
  private flushDeferred(m: Mirror, mm: Mm): void {
    for (const vpn of m.deferred) dropEntries(this.k, this.dev, mm, vpn, vpn + 1);
    m.deferred = [];
  }

  *mapRange(req: MapRequest): Op<HookError | void> {
    const m = this.mirror(req.mm);
    if (!("sub" in m)) return m;
    this.flushDeferred(m, req.mm);
    const pfns = new Uint32Array(FAULT_CHUNK);
    /** Per page of the chunk: 1 while it may be reached peer-to-peer (cleared by the migrate fallback). */
    const allow = new Uint8Array(FAULT_CHUNK);
    const end = req.start + req.npages;
    let chunk = FAULT_CHUNK;
    for (let addr = req.start; addr < end; ) {
      const next = Math.min(end, addr + chunk);
      allow.fill(1);
      const r = yield* this.mapChunk(req, m, addr, next, pfns, allow, chunk === 1);
      if (r === SMALLER) {
        // An invalidation overtook the walk (a provider reclaiming BAR slots inside it): back off to a smaller chunk.
        chunk >>= 1;
        continue;
      }
      if (r) return r;
      addr = next;
    }
    return undefined;
  }

  /** The ODP retry loop (hmm-semantics.md §1.7) for pages [addr, next). */
  private *mapChunk(req: MapRequest, m: Mirror, addr: number, next: number, pfns: Uint32Array, allow: Uint8Array, smallest: boolean): Op<HookError | typeof SMALLER | void> {
    const k = this.k;
    const n = next - addr;
    const range: HmmRange = {
      notifier: m.sub, notifierSeq: 0, start: addr, end: next, hmmPfns: pfns,
      defaultFlags: HMM_PFN_REQ_FAULT | (req.write ? HMM_PFN_REQ_WRITE : 0), pfnFlagsMask: HMM_PFN_ALLOW_P2P, devPrivateOwner: this.dev.owner,
    };
    const state: P2pdmaMapState = { map: "NONE", provider: null, flags: 0 };
    for (let tries = 0; tries < MAX_RETRIES; tries++) {
      for (let o = 0; o < n; o++) pfns[o] = allow[o] ? HMM_PFN_ALLOW_P2P : 0;
      range.notifierSeq = k.mmuIntervalReadBegin(m.sub);
      const ret = yield* k.hmmRangeFault(range);
      if (ret === -EBUSY) continue;
      if (ret === -ENOSPC) {
        // Aperture pressure: the owner's window is full and may not be reclaimed. The migrate
        // fallback faults the chunk to RAM instead (no ALLOW_P2P); bounce needs a slot too.
        if (req.fallback === "migrate" && allow.some((a, o) => o < n && a === 1)) {
          allow.fill(0);
          continue;
        }
        return { ret, page: addr, reason: "the owner's BAR window has no slot to give (aperture pressure with no reclaimable slot)" };
      }
      if (ret !== 0) return { ret, page: addr, reason: req.write ? "page cannot be faulted in for writing (no VMA or no write access)" : "page cannot be faulted in (no VMA or no read access)" };
      yield* this.mutex.lock();
      if (!this.bugs.noSeqRecheck && k.mmuIntervalReadRetry(m.sub, range.notifierSeq)) {
        this.mutex.unlock();
        if (!smallest) return SMALLER;
        continue;
      }
      // NOT_SUPPORTED P2P pages with the migrate fallback lose ALLOW_P2P and fault again (mlx5 patches).
      let refault = false;
      if (req.fallback === "migrate") {
        for (let o = 0; o < n; o++) {
          if (k.pciP2pdmaState(state, this.dev, pfns[o]) === "NOT_SUPPORTED") {
            allow[o] = 0;
            refault = true;
          }
        }
      }
      if (!refault) this.program(req.mm, addr, n, pfns, state);
      this.mutex.unlock();
      if (!refault) return undefined;
    }
    return { ret: -EBUSY, page: addr, reason: "hmm_range_fault kept being invalidated (retry limit)" };
  }

  /** Programs the device page table for pages [addr, addr + n) from hmm pfns, under the mutex. */
  private program(mm: Mm, addr: number, n: number, pfns: Uint32Array, state: P2pdmaMapState): void {
    const k = this.k;
    const table = this.dev.table(mm);
    for (let o = 0; o < n; o++) {
      const pfn = pfns[o];
      const write = pfn & HMM_PFN_WRITE ? DPTE_WRITE : 0;
      const old = table.flags(addr + o);
      if (old !== 0) {
        // Still mapped: no invalidation dropped it since, so it is this page's mapping; DMA in flight
        // may be using its address, which must not change (only the access grows; ib_umem_odp does so).
        if ((old | write) !== old) table.set(addr + o, table.address(addr + o), old | write);
        continue;
      }
      let dma = k.hmmDmaMapPfn(this.dev, pfn, state);
      let flags = state.flags | write;
      if (dma === DMA_MAPPING_ERROR) {
        // NOT_SUPPORTED with the bounce fallback: the owner stages the page through a host buffer.
        dma = k.bounceMapPfn(this.dev, pfn, state);
        flags = state.flags | write;
      }
      table.set(addr + o, dma, flags);
    }
  }

  *unmapRange(req: RangeRequest): Op<void> {
    const m = this.mirrors.get(req.mm);
    if (!m) return;
    this.flushDeferred(m, req.mm);
    yield* waitForDma(this.k, m.inflight);
    dropEntries(this.k, this.dev, req.mm, req.start, req.start + req.npages);
  }

  release(): void {
    for (const m of this.mirrors.values()) this.k.mmuIntervalNotifierRemove(m.sub);
    this.mirrors.clear();
  }

  *dma(req: DmaRequest): Op<Fence> {
    const fence = this.k.dmaIssue(this.dev, req);
    const m = this.mirrors.get(req.mm);
    if (m) track(m.inflight, fence);
    return fence;
  }
}

/** The builtin ODP drivers: the correct design and the four classic bugs. */
export const ODP_DRIVERS: P2pDriver[] = [
  odpDriver("odp", "HMM mirror with invalidation (RDMA ODP, GPU SVM): fault with ALLOW_P2P, re-check the sequence under the lock, map by P2PDMA map type; the callback waits for DMA in flight, zaps and unmaps"),
  odpDriver("odp-ignore-invalidation", "ODP whose invalidation callback zaps nothing (entries stay, DMA keeps going)", { ignoreInvalidation: true }),
  odpDriver("odp-no-seq-recheck", "ODP that programs its table without mmu_interval_read_retry (a stale snapshot wins the race)", { noSeqRecheck: true }),
  odpDriver("odp-late-iova-unmap", "ODP that zaps entries on invalidation but unmaps their IOVAs only at its next map call", { lateIovaUnmap: true }),
  odpDriver("odp-no-fence-wait", "ODP whose invalidation callback does not wait for the device's DMA in flight", { noFenceWait: true }),
];
