// Models: the pinning design of a P2P client (the peer-memory approach: nvidia-peermem behind an
// RDMA memory registration; a classic pinned MR): mapRange pins the pages where they are for as
// long as they are mapped (pin_user_pages(FOLL_LONGTERM) for system pages; the owner's get_pages
// for its device-private pages, returned as P2PDMA pages in its BAR) and maps them by P2PDMA map
// type; the owner cannot migrate a pinned page (migrate_vma_check_page sees the extra reference),
// so the design needs no invalidation: unmapRange waits for DMA in flight, unmaps and unpins.
// What it forbids: migrating or reclaiming mapped pages (the owner's migration fails, a CPU touch of
// a pinned device-private page gets SIGBUS); a process that unmaps the range leaves the pages pinned
// (they stay allocated, and DMA to them is safe, but no longer seen by the process).
// The broken variant (shortTermPin) reproduces a classic bug for the safety checker.
// Leaves out: the peer-memory free callback (the owner's forced teardown on process exit).
import type { Mm } from "../../memory/address-space.js";
import { EFAULT, ENOMEM, ENOSPC } from "../../memory/errno.js";
import { HMM_PFN_WRITE } from "../../hmm/hmm-pfn.js";
import { dropEntries, track, waitForDma } from "./quiesce.js";
import {
  DMA_MAPPING_ERROR, DPTE_WRITE, type DmaRequest, type DriverDevice, type DriverInstance, type Fence, type HookError,
  type Kernel, type Op, type MapRequest, type P2pdmaMapState, type P2pDriver, type RangeRequest,
} from "../api.js";

interface PinnedRange {
  mm: Mm;
  start: number;
  npages: number;
  pfns: Uint32Array;
  /** Whether the pages are still pinned (shortTermPin lets go once they are mapped). */
  pinned: boolean;
}

/** Why pin_user_pages refused a page, by errno. */
const PIN_FAILURES: Record<number, string> = {
  [EFAULT]: "page cannot be pinned (no VMA or no access)",
  [ENOSPC]: "the owner's BAR window has no slot to give: every slot is pinned or its policy is \"fail\" (a pinned design cannot let the owner reclaim)",
  [ENOMEM]: "the owner exposes no BAR window for its memory",
};

/** The bug a pinning driver can have; the variant the explorer must catch. */
export interface PinnedBugs {
  /** Pins only while mapping (get_user_pages without FOLL_LONGTERM, put after dma_map): the
   *  mapping outlives the pin, so the owner may migrate a page the device still reaches. */
  shortTermPin?: boolean;
}

class Pinned implements DriverInstance {
  private ranges: PinnedRange[] = [];
  private readonly inflight: Fence[] = [];

  constructor(private readonly k: Kernel, private readonly dev: DriverDevice, private readonly bugs: PinnedBugs) {}

  *mapRange(req: MapRequest): Op<HookError | void> {
    const k = this.k;
    const pfns = new Uint32Array(req.npages);
    // As GUP callers do: pin what can be pinned, ask again for the rest, until done or refused.
    for (let done = 0; done < req.npages; ) {
      const n = yield* k.pinUserPages(req.mm, req.start + done, req.npages - done, pfns.subarray(done), req.write);
      if (n < 0) {
        k.unpinUserPages(pfns, done);
        return { ret: n, page: req.start + done, reason: PIN_FAILURES[-n] ?? "page cannot be pinned" };
      }
      done += n;
    }
    const state: P2pdmaMapState = { map: "NONE", provider: null, flags: 0 };
    const table = this.dev.table(req.mm);
    for (let o = 0; o < req.npages; o++) {
      const dma = k.hmmDmaMapPfn(this.dev, pfns[o], state);
      if (dma === DMA_MAPPING_ERROR) {
        // A pinned design has no fallback that moves the page: the mapping fails as the DMA API does.
        dropEntries(k, this.dev, req.mm, req.start, req.start + o);
        k.unpinUserPages(pfns, req.npages);
        return { ret: -EFAULT, page: req.start + o, reason: `P2PDMA map type NOT_SUPPORTED between ${state.provider} and ${this.dev.id} (pinned pages cannot fall back by migrating)` };
      }
      table.set(req.start + o, dma, state.flags | (pfns[o] & HMM_PFN_WRITE ? DPTE_WRITE : 0));
    }
    const longTerm = !this.bugs.shortTermPin;
    if (!longTerm) k.unpinUserPages(pfns, req.npages); // the bug
    this.ranges.push({ mm: req.mm, start: req.start, npages: req.npages, pfns, pinned: longTerm });
    return undefined;
  }

  *unmapRange(req: RangeRequest): Op<void> {
    const k = this.k;
    yield* waitForDma(k, this.inflight);
    const end = req.start + req.npages;
    dropEntries(k, this.dev, req.mm, req.start, end);
    // A registration is released whole once any of it is unmapped (ib_dereg_mr): its other pages
    // lose their mappings before their pins go.
    const keep: PinnedRange[] = [];
    for (const r of this.ranges) {
      if (r.mm === req.mm && r.start < end && req.start < r.start + r.npages) {
        dropEntries(k, this.dev, r.mm, r.start, r.start + r.npages);
        if (r.pinned) k.unpinUserPages(r.pfns, r.npages);
      } else keep.push(r);
    }
    this.ranges = keep;
  }

  *dma(req: DmaRequest): Op<Fence> {
    const fence = this.k.dmaIssue(this.dev, req);
    track(this.inflight, fence);
    return fence;
  }
}

/** A pinning driver with the given bug (none: the correct design). */
export function pinnedDriver(name: string, description: string, bugs: PinnedBugs = {}): P2pDriver {
  return { name, description, create: (k: Kernel, dev: DriverDevice) => new Pinned(k, dev, bugs) };
}

export const PINNED_DRIVER = pinnedDriver(
  "pinned", "pin the pages where they are while mapped (peer-memory / pinned MR): no invalidation needed, the owner cannot migrate them",
);

export const PINNED_DRIVERS: P2pDriver[] = [
  PINNED_DRIVER,
  pinnedDriver("pinned-short-term", "pinned design that drops its pins once the pages are mapped (no FOLL_LONGTERM): the owner may migrate a mapped page", { shortTermPin: true }),
];
