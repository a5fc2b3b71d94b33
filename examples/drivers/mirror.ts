// An HMM-mirror P2P client driver written against the public driver API only (what the README's
// "Your own P2P driver" section describes): one interval notifier per mapped range, the
// hmm_range_fault retry loop with HMM_PFN_ALLOW_P2P, the sequence re-checked under the driver's
// mutex before the device table is programmed (unless the range was unmapped meanwhile: its
// notifier is gone), and an invalidation callback that waits for DMA in
// flight, drops the entries and unmaps their IOVAs before it returns.
//   npx p2pdma-lab explore --driver examples/drivers/mirror.ts --topology data/topologies/p2p-three-devices-full-bar.json
import {
  DMA_MAPPING_ERROR, DPTE_WRITE, EBUSY, EINVAL, ENOENT, HMM_PFN_ALLOW_P2P, HMM_PFN_REQ_FAULT, HMM_PFN_REQ_WRITE, HMM_PFN_WRITE,
  type DmaRequest, type DriverDevice, type DriverInstance, type Fence, type HmmRange, type HookError, type IntervalNotifier,
  type Kernel, type MapRequest, type Mm, type NotifierRange, type Op, type P2pdmaMapState, type P2pDriver, type RangeRequest,
} from "p2pdma-lab";

interface Mapping {
  mm: Mm;
  start: number;
  npages: number;
  sub: IntervalNotifier;
}

class Mirror implements DriverInstance {
  private mappings: Mapping[] = [];
  private inflight: Fence[] = [];
  private readonly mutex;

  constructor(private readonly k: Kernel, private readonly dev: DriverDevice) {
    this.mutex = k.mutexInit();
  }

  /** The invalidation callback: may not yield; waits for DMA with dmaFenceWait. */
  private invalidate(m: Mapping, sub: IntervalNotifier, range: NotifierRange, cur: number): boolean {
    this.k.mmuIntervalSetSeq(sub, cur);
    for (const f of this.inflight) if (!f.signaled) this.k.dmaFenceWait(f);
    this.inflight = this.inflight.filter((f) => !f.signaled);
    const start = Math.max(range.start, m.start);
    const end = Math.min(range.end, m.start + m.npages);
    this.dev.table(m.mm).clear(start, end, (_vpn, addr, flags) => this.k.dmaUnmap(this.dev, addr, flags));
    return true;
  }

  *mapRange(req: MapRequest): Op<HookError | void> {
    const k = this.k;
    const m = { mm: req.mm, start: req.start, npages: req.npages } as Mapping;
    const sub = k.mmuIntervalNotifierInsert(req.mm, req.start, req.npages, { invalidate: (s, r, cur) => this.invalidate(m, s, r, cur) });
    if (typeof sub === "number") return { ret: sub, page: req.start, reason: "the process has exited" };
    m.sub = sub;
    this.mappings.push(m);
    const range: HmmRange = {
      notifier: sub, notifierSeq: 0, start: req.start, end: req.start + req.npages, hmmPfns: new Uint32Array(req.npages),
      defaultFlags: HMM_PFN_REQ_FAULT | (req.write ? HMM_PFN_REQ_WRITE : 0) | HMM_PFN_ALLOW_P2P, pfnFlagsMask: 0, devPrivateOwner: this.dev.owner,
    };
    for (let tries = 0; tries < 1000; tries++) {
      range.notifierSeq = k.mmuIntervalReadBegin(sub);
      const ret = yield* k.hmmRangeFault(range);
      if (ret === -EBUSY) continue;
      if (ret !== 0) return { ret, page: req.start, reason: "hmm_range_fault failed" };
      yield* this.mutex.lock();
      if (!this.mappings.includes(m)) {
        // Unmapped while the walk slept: its notifier is gone, so nothing may be programmed.
        this.mutex.unlock();
        return { ret: -ENOENT, page: req.start, reason: "the range was unmapped while it was being mapped" };
      }
      if (k.mmuIntervalReadRetry(sub, range.notifierSeq)) {
        this.mutex.unlock();
        continue;
      }
      const state: P2pdmaMapState = { map: "NONE", provider: null, flags: 0 };
      const table = this.dev.table(req.mm);
      for (let o = 0; o < req.npages; o++) {
        const pfn = range.hmmPfns[o];
        const addr = k.hmmDmaMapPfn(this.dev, pfn, state);
        if (addr === DMA_MAPPING_ERROR) {
          this.mutex.unlock();
          return { ret: -EINVAL, page: req.start + o, reason: `no P2P path from ${state.provider} (${state.map})` };
        }
        table.set(req.start + o, addr, state.flags | (pfn & HMM_PFN_WRITE ? DPTE_WRITE : 0));
      }
      this.mutex.unlock();
      return undefined;
    }
    return { ret: -EBUSY, page: req.start, reason: "kept being invalidated" };
  }

  *unmapRange(req: RangeRequest): Op<void> {
    for (const f of this.inflight) if (!f.signaled) yield* this.k.dmaFenceWaitOp(f);
    this.inflight = [];
    const end = req.start + req.npages;
    this.dev.table(req.mm).clear(req.start, end, (_vpn, addr, flags) => this.k.dmaUnmap(this.dev, addr, flags));
    this.mappings = this.mappings.filter((m) => {
      const inside = m.mm === req.mm && m.start >= req.start && m.start + m.npages <= end;
      if (inside) this.k.mmuIntervalNotifierRemove(m.sub);
      return !inside;
    });
  }

  *dma(req: DmaRequest): Op<Fence> {
    const fence = this.k.dmaIssue(this.dev, req);
    this.inflight.push(fence);
    return fence;
  }

  release(): void {
    for (const m of this.mappings) this.k.mmuIntervalNotifierRemove(m.sub);
    this.mappings = [];
  }
}

const driver: P2pDriver = {
  name: "mirror",
  description: "HMM mirror: one notifier per mapped range, fault with ALLOW_P2P, re-check under the lock; the callback waits for DMA, zaps and unmaps",
  create: (k, dev) => new Mirror(k, dev),
};
export default driver;
