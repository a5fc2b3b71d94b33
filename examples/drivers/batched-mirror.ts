/**
 * batched-mirror: an HMM mirror (RDMA on-demand paging / GPU SVM style) that maps a peerMap range
 * in chunks of `chunkPages` pages, each chunk its own mmu_interval_read_begin → hmm_range_fault →
 * driver lock → mmu_interval_read_retry → program (shared/reference/hmm-semantics.md §1.7), so a
 * large range never holds the lock across more than one chunk's programming and an invalidation of
 * one chunk only retries that chunk. Written from the README ("Your own P2P driver") and the .d.ts
 * files alone, against the public API.
 *
 * Models: one interval notifier per mapped range (reused by later maps it covers); an invalidate
 * callback that sets the sequence, clears the entries of its clipped range (a DMA started from then
 * on finds none), waits for this device's DMA in flight on that range, then unmaps the IOVAs
 * (hmm-semantics.md §2.2, §2.5); NOT_SUPPORTED pages by the step's fallback: "migrate" clears
 * HMM_PFN_ALLOW_P2P for those pages only and faults the chunk again (the mlx5 ODP P2P patches,
 * hmm-semantics.md §6), "bounce" maps the owner's host bounce buffer; -ENOSPC from hmm_range_fault
 * (the owner's BAR window full under the "fail" aperture policy) is the same P2P failure: "migrate"
 * faults that chunk to RAM, "bounce" fails the step with ENOSPC. An entry already present is kept
 * as it is (hmm_dma_map_pfn reuses an HMM_PFN_DMA_MAPPED entry's address), only given write access
 * when the map asks for it and the CPU page is writable. A chunk that keeps being invalidated gives
 * up with EBUSY after MAX_RETRIES tries.
 * Leaves out: aperturePressure (the kit calls it only inside pinUserPages and dmaBufMapAttachment;
 * a mirror's BAR slots are reclaimed through its invalidate callback); ignoring its own MIGRATE
 * events (it owns no memory).
 */
import {
  DMA_MAPPING_ERROR,
  DPTE_WRITE,
  EBUSY,
  EFAULT,
  ENOSPC,
  HMM_PFN_ALLOW_P2P,
  HMM_PFN_REQ_FAULT,
  HMM_PFN_REQ_WRITE,
  HMM_PFN_WRITE,
  type DmaRequest,
  type DriverDevice,
  type DriverInstance,
  type Fence,
  type HmmRange,
  type HookError,
  type IntervalNotifier,
  type Kernel,
  type MapRequest,
  type Mm,
  type Mutex,
  type NotifierRange,
  type Op,
  type P2pDriver,
  type P2pdmaMapState,
  type RangeRequest,
} from "p2pdma-lab";

/** How many times a chunk starts again before it fails with EBUSY. Simplification: the kernel
 *  bounds the retries by time (HMM_RANGE_DEFAULT_TIMEOUT, 1000 ms, include/linux/hmm.h), but a
 *  retry the model charges ~10 ns of simulated time for may cost µs on hardware, so a count. */
const MAX_RETRIES = 1000;

/** One interval notifier: [start, end) of `mm`; `busy` counts map calls using it right now. */
interface Registration {
  mm: Mm;
  start: number;
  end: number;
  sub: IntervalNotifier;
  busy: number;
}

class BatchedMirror implements DriverInstance {
  private readonly regs: Registration[] = [];
  /** This device's DMA in flight: fence k covers pages [fenceStart[k], fenceEnd[k]) of fenceMm[k]. */
  private readonly fences: Fence[] = [];
  private readonly fenceMm: Mm[] = [];
  private readonly fenceStart: number[] = [];
  private readonly fenceEnd: number[] = [];
  private readonly lock: Mutex;

  constructor(
    private readonly k: Kernel,
    private readonly dev: DriverDevice,
    private readonly chunkPages: number,
  ) {
    this.lock = k.mutexInit();
  }

  *mapRange(req: MapRequest): Op<HookError | void> {
    const end = req.start + req.npages;
    const reg = this.registration(req.mm, req.start, end);
    if (typeof reg === "number") {
      return { ret: reg, page: req.start, reason: "mmu_interval_notifier_insert failed" };
    }
    reg.busy++;
    try {
      for (let s = req.start; s < end; s += this.chunkPages) {
        const err = yield* this.mapChunk(reg.sub, req, s, Math.min(s + this.chunkPages, end));
        if (err) return err;
      }
    } finally {
      reg.busy--;
    }
  }

  /** The ODP retry loop over pages [s, e): fault, lock, recheck the sequence, program, unlock. */
  private *mapChunk(sub: IntervalNotifier, req: MapRequest, s: number, e: number): Op<HookError | void> {
    const { k, dev } = this;
    const n = e - s;
    const pfns = new Uint32Array(n);
    const noP2p = new Uint8Array(n); // 1: this page goes to RAM (P2P refused for it)
    const state: P2pdmaMapState = { map: "NONE", provider: null, flags: 0 };
    const table = dev.table(req.mm);
    for (let retries = 0; ; retries++) {
      // Two maps of this device can evict each other's BAR slots forever (a chunk's fault
      // invalidates the other's chunk): give up, as ib_umem_odp_map_dma_and_lock and
      // dmirror_range_fault do on their timeout (hmm-semantics.md §1.7 step 3).
      if (retries > MAX_RETRIES) {
        return { ret: -EBUSY, page: s, reason: `invalidated at each of ${MAX_RETRIES} retries` };
      }
      const seq = k.mmuIntervalReadBegin(sub);
      for (let i = 0; i < n; i++) pfns[i] = noP2p[i] ? 0 : HMM_PFN_ALLOW_P2P;
      const range: HmmRange = {
        notifier: sub,
        notifierSeq: seq,
        start: s,
        end: e,
        hmmPfns: pfns,
        defaultFlags: HMM_PFN_REQ_FAULT | (req.write ? HMM_PFN_REQ_WRITE : 0),
        pfnFlagsMask: HMM_PFN_ALLOW_P2P,
        devPrivateOwner: dev.owner,
      };
      const ret = yield* k.hmmRangeFault(range);
      if (ret === -EBUSY) continue;
      if (ret === -ENOSPC && req.fallback === "migrate" && noP2p.indexOf(0) >= 0) {
        noP2p.fill(1); // which page missed a slot is not reported: the whole chunk goes to RAM
        continue;
      }
      if (ret < 0) return { ret, page: s, reason: "hmm_range_fault failed" };

      yield* this.lock.lock();
      if (k.mmuIntervalReadRetry(sub, seq)) {
        this.lock.unlock();
        continue;
      }
      let refault = false;
      for (let i = 0; i < n; i++) {
        const vpn = s + i;
        // Write access only where the CPU maps the page writable (ib_umem_odp_map_dma_and_lock).
        const writable = req.write && (pfns[i] & HMM_PFN_WRITE) !== 0;
        const old = table.flags(vpn);
        if (old !== 0) {
          // Present since before this walk and not invalidated since: the same page; keep its address.
          if (writable && (old & DPTE_WRITE) === 0) table.set(vpn, table.address(vpn), old | DPTE_WRITE);
          continue;
        }
        let addr = k.hmmDmaMapPfn(dev, pfns[i], state);
        if (addr === DMA_MAPPING_ERROR) {
          if (req.fallback === "bounce") {
            addr = k.bounceMapPfn(dev, pfns[i], state);
          } else if (noP2p[i] === 0) {
            noP2p[i] = 1;
            refault = true;
            continue;
          } else {
            this.lock.unlock();
            return { ret: -EFAULT, page: vpn, reason: "no DMA address for the page even in RAM" };
          }
        }
        table.set(vpn, addr, state.flags | (writable ? DPTE_WRITE : 0));
      }
      this.lock.unlock();
      if (!refault) return;
    }
  }

  *unmapRange(req: RangeRequest): Op<void> {
    const end = req.start + req.npages;
    // Wait until none of this device's DMA is in flight on the range, then drop entries and IOVAs
    // with no preemption point in between.
    for (let f = this.busyFence(req.mm, req.start, end); f; f = this.busyFence(req.mm, req.start, end)) {
      yield* this.k.dmaFenceWaitOp(f);
    }
    this.zap(req.mm, req.start, end);
    for (let i = this.regs.length - 1; i >= 0; i--) {
      const r = this.regs[i];
      if (r.mm === req.mm && r.busy === 0 && r.start >= req.start && r.end <= end) {
        this.k.mmuIntervalNotifierRemove(r.sub);
        this.regs.splice(i, 1);
      }
    }
  }

  *dma(req: DmaRequest): Op<Fence> {
    const fence = this.k.dmaIssue(this.dev, req);
    let j = 0; // forget the fences that have signalled
    for (let i = 0; i < this.fences.length; i++) {
      if (this.fences[i].signaled) continue;
      this.fences[j] = this.fences[i];
      this.fenceMm[j] = this.fenceMm[i];
      this.fenceStart[j] = this.fenceStart[i];
      this.fenceEnd[j] = this.fenceEnd[i];
      j++;
    }
    this.fences.length = this.fenceMm.length = this.fenceStart.length = this.fenceEnd.length = j;
    this.fences.push(fence);
    this.fenceMm.push(req.mm);
    this.fenceStart.push(req.start);
    this.fenceEnd.push(req.start + req.npages);
    return fence;
  }

  release(): void {
    for (const r of this.regs) {
      this.k.mmuIntervalNotifierRemove(r.sub);
      this.zap(r.mm, r.start, r.end);
    }
    this.regs.length = 0;
  }

  /** The notifier covering [start, end) of `mm`: an existing one, else a new one (or -errno). */
  private registration(mm: Mm, start: number, end: number): Registration | number {
    for (const r of this.regs) if (r.mm === mm && r.start <= start && r.end >= end) return r;
    const sub = this.k.mmuIntervalNotifierInsert(mm, start, end - start, {
      invalidate: (sub: IntervalNotifier, range: NotifierRange, curSeq: number) => this.invalidate(sub, range, curSeq),
    });
    if (typeof sub === "number") return sub;
    const reg: Registration = { mm, start, end, sub, busy: 0 };
    this.regs.push(reg);
    return reg;
  }

  /** ops->invalidate: runs in the invalidating thread, never yields. */
  private invalidate(sub: IntervalNotifier, range: NotifierRange, curSeq: number): boolean {
    this.k.mmuIntervalSetSeq(sub, curSeq);
    const s = Math.max(range.start, sub.start);
    const e = Math.min(range.end, sub.end);
    if (s < e) this.zap(sub.mm, s, e);
    return true;
  }

  /**
   * Drops the entries of [s, e) of `mm` so no DMA can start on them, waits for DMA in flight on
   * the range (it took its addresses when it started), then unmaps the IOVAs it may have used.
   */
  private zap(mm: Mm, s: number, e: number): void {
    const addrs = new Float64Array(e - s);
    const flags = new Int32Array(e - s);
    let n = 0;
    this.dev.table(mm).clear(s, e, (_vpn, addr, f) => {
      addrs[n] = addr;
      flags[n++] = f;
    });
    for (let f = this.busyFence(mm, s, e); f; f = this.busyFence(mm, s, e)) this.k.dmaFenceWait(f);
    for (let i = 0; i < n; i++) this.k.dmaUnmap(this.dev, addrs[i], flags[i]);
  }

  /** A fence of this device's DMA in flight on pages [s, e) of `mm`, or null. */
  private busyFence(mm: Mm, s: number, e: number): Fence | null {
    for (let i = 0; i < this.fences.length; i++) {
      const f = this.fences[i];
      if (!f.signaled && this.fenceMm[i] === mm && this.fenceStart[i] < e && this.fenceEnd[i] > s) return f;
    }
    return null;
  }
}

/** A batched mirror mapping `chunkPages` pages per hmm_range_fault. */
export function batchedMirrorDriver(chunkPages: number): P2pDriver {
  if (!Number.isSafeInteger(chunkPages) || chunkPages < 1) {
    throw new RangeError(`batchedMirrorDriver: chunkPages must be a positive integer, got ${chunkPages}`);
  }
  return {
    name: `batched-mirror-${chunkPages}`,
    description: `HMM mirror mapping ${chunkPages} pages per hmm_range_fault + sequence recheck`,
    create: (k, dev) => new BatchedMirror(k, dev, chunkPages),
  };
}

/** Two pages per chunk, so the explorer's buffers (1 to 4 pages) span one to two chunks. */
export default batchedMirrorDriver(2);
