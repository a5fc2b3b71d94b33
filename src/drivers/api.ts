// Models: the API a P2P client driver is written against (DESIGN §1 steps 3-6): the hooks a driver
// provides (map a range for DMA, unmap it, issue DMA; the invalidation callback it registers; its
// answer to NOT_SUPPORTED pages, by the request's fallback; its answer to aperture pressure) and the primitives the kernel gives it, under their kernel names:
// interval notifiers with read_begin/read_retry/set_seq, hmm_range_fault with its flags (ALLOW_P2P
// included), the P2PDMA map type, hmm_dma_map_pfn / dma unmap, a driver mutex, page pinning,
// fences for DMA in flight, and dma-buf attachments with move_notify. A hook that can be preempted
// is a generator: every `yield*` is a point where the kernel may run something else (an
// invalidation, the owner migrating a page, DMA completing), so races are explicit in the code.
// Leaves out: SMP (one CPU runs kernel work; concurrency is preemption at yield points and DMA in
// flight), interrupts other than DMA completion, and error injection into primitives.
import type { Mm } from "../memory/address-space.js";
import type { NotifierRange } from "../memory/mmu-notifier.js";
import type { IntervalNotifier } from "../hmm/interval-notifier.js";
import type { HmmRange } from "../hmm/range-fault.js";

/** What a generator hook yields: the time it waits for, ns, or a fence it sleeps on. The kit's
 *  primitives yield these; driver code only passes them on with `yield*`. */
export type Wait = { readonly waitNs: number } | { readonly fence: Fence };

/** A preemptible operation that returns T. */
export type Op<T> = Generator<Wait, T, void>;

import type { P2pdmaMapType } from "../fabric/p2pdma.js";

/** The map type of the last page looked at (struct pci_p2pdma_map_state: NONE for a page that is
 *  not a P2PDMA page) and the provider it belongs to; plus the DPTE_* flags its mapping needs. */
export interface P2pdmaMapState {
  map: "NONE" | P2pdmaMapType;
  provider: string | null;
  flags: number;
}

export type { P2pdmaMapType };

/** DMA_MAPPING_ERROR: what a failed dma map returns. */
export const DMA_MAPPING_ERROR = -1;

/** DPTE_* flags of a device page-table entry: WRITE (the device may write), IOVA (an IOVA the driver
 *  must unmap when it drops the entry), BUS (a peer BAR's bus address: no IOMMU), HOST_BRIDGE (a
 *  peer BAR through the root complex), LOCAL (the device's own memory), BOUNCE (a host bounce buffer). */
export { DPTE_BOUNCE, DPTE_BUS, DPTE_HOST_BRIDGE, DPTE_IOVA, DPTE_LOCAL, DPTE_WRITE } from "../devices/client-device.js";

/** A device's page table for one process (an ODP MR's MTT, a GPU VM's page table): the hardware
 *  translates DMA through it. Entries: a DMA address and DPTE_* flags; 0 flags = no entry. */
export interface DevicePageTable {
  /** Programs page `vpn`: DMA goes to `dmaAddr` with `flags` (DPTE_*). Replaces an entry there. */
  set(vpn: number, dmaAddr: number, flags: number): void;
  /** The flags of page `vpn`'s entry (0: none) and its address. */
  flags(vpn: number): number;
  address(vpn: number): number;
  /** Drops the entries of [start, end); calls `dropped` for each entry that was there (to unmap
   *  IOVAs); returns how many were dropped. */
  clear(start: number, end: number, dropped?: (vpn: number, dmaAddr: number, flags: number) => void): number;
  /** Calls `visit` for each entry of [start, end) (only entries that exist are visited). */
  forEach(start: number, end: number, visit: (vpn: number, dmaAddr: number, flags: number) => void): void;
}

/** A DMA the device's engine runs: pages of `mm` from `start`, reading (values come back) or writing `value`. */
export interface DmaRequest {
  mm: Mm;
  start: number;
  npages: number;
  /** The value a write stores per page (index k of the request), or undefined for a read. */
  write?: (k: number) => number;
}

/** DMA in flight (struct dma_fence): signalled when the last page of its DMA was accessed. */
export interface Fence {
  readonly id: number;
  readonly signaled: boolean;
  /** When it signals (simulated ns). */
  readonly endNs: number;
  /** A read's values, once signalled; the error that stopped the DMA, if any (an IOMMU fault). */
  readonly values: number[];
  readonly error: { ret: number; page: number; reason: string } | null;
  /** Pages the DMA reached before it ended. */
  readonly cpages: number;
}

/** What a driver is asked to map (a peerMap step), and the fallback the step names for pages whose
 *  P2PDMA map type is NOT_SUPPORTED ("migrate": fault them to RAM; "bounce": through a host buffer). */
export interface MapRequest {
  mm: Mm;
  start: number;
  npages: number;
  write: boolean;
  fallback: "migrate" | "bounce";
}

export interface RangeRequest {
  mm: Mm;
  start: number;
  npages: number;
}

/** A failure a hook reports: a negative errno, the page and why (the step's error). */
export interface HookError {
  ret: number;
  page: number;
  reason: string;
}

/** The device a driver instance runs: its id, whether an IOMMU translates its DMA, its own page map
 *  owner (for hmm's dev_private_owner), and its page table per process. */
export interface DriverDevice {
  readonly id: string;
  readonly iommu: boolean;
  readonly owner: unknown;
  table(mm: Mm): DevicePageTable;
}

/** The callback a driver registers with mmu_interval_notifier_insert: runs in the invalidating
 *  thread before the CPU page tables change (it may not yield; it may wait on fences with
 *  dmaFenceWait); must call mmuIntervalSetSeq(sub, curSeq). */
export interface IntervalNotifierOps {
  invalidate(sub: IntervalNotifier, range: NotifierRange, curSeq: number): boolean;
}

/** A dma-buf attachment of an importer (dynamic importer: move_notify given). */
export interface DmaBufAttachment {
  readonly exporter: string;
  readonly importer: string;
  /** Pages [start, start + npages) of `mm`, in the exporter's memory when mapped. */
  readonly mm: Mm;
  readonly start: number;
  readonly npages: number;
}

export interface DmaBufImporterOps {
  /** dma_buf_attach_ops.move_notify: the exporter is about to move the buffer: stop using its
   *  mapping (wait for DMA with dmaFenceWait) and unmap; map again later. Runs in the exporter's thread. */
  moveNotify(attachment: DmaBufAttachment): void;
}

/** A driver mutex (struct mutex): held across no yield, so an invalidation never waits on it. */
export interface Mutex {
  lock(): Op<void>;
  unlock(): void;
  readonly held: boolean;
}

/** The primitives the kernel gives a driver (camelCase of the kernel names). */
export interface Kernel {
  /** Simulated time now, ns. */
  readonly now: number;
  // mm/mmu_notifier.c
  mmuIntervalNotifierInsert(mm: Mm, start: number, length: number, ops: IntervalNotifierOps): IntervalNotifier | number;
  mmuIntervalNotifierRemove(sub: IntervalNotifier): void;
  mmuIntervalReadBegin(sub: IntervalNotifier): number;
  mmuIntervalReadRetry(sub: IntervalNotifier, seq: number): boolean;
  mmuIntervalSetSeq(sub: IntervalNotifier, curSeq: number): void;
  // mm/hmm.c: walks (and faults) the range; takes the walk's time. 0, -EBUSY, -EFAULT or -EPERM.
  hmmRangeFault(range: HmmRange): Op<number>;
  // drivers/pci/p2pdma.c
  pciP2pdmaMapType(provider: string, client: string): P2pdmaMapType;
  /** pci_p2pdma_state: the map type between `dev` and the provider of the page hmm reported as
   *  `hmmPfn` (NONE for a page that is not a P2PDMA page), cached per provider. */
  pciP2pdmaState(state: P2pdmaMapState, dev: DriverDevice, hmmPfn: number): "NONE" | P2pdmaMapType;
  /** hmm_dma_map_pfn: the DMA address for `dev` of the page hmm reported as `hmmPfn` (a P2PDMA page
   *  by its map type, the device's own page directly, a system page through the IOMMU or directly),
   *  or DMA_MAPPING_ERROR (NOT_SUPPORTED); `state` tells the map type and the entry's DPTE_* flags. */
  hmmDmaMapPfn(dev: DriverDevice, hmmPfn: number, state: P2pdmaMapState): number;
  /** dma_unmap_page / hmm_dma_unmap_pfn: an IOVA stops translating (no-op for other addresses). */
  dmaUnmap(dev: DriverDevice, dmaAddr: number, flags: number): void;
  /** The NOT_SUPPORTED "bounce" fallback: the owner stages the page through a host buffer that
   *  `dev` maps normally; returns the DMA address, and with `state` sets its flags (DPTE_BOUNCE,
   *  DPTE_IOVA when the IOMMU translates) for the entry. */
  bounceMapPfn(dev: DriverDevice, hmmPfn: number, state?: P2pdmaMapState): number;
  mutexInit(): Mutex;
  // mm/gup.c pin_user_pages(FOLL_LONGTERM) / the peer-memory get_pages: pins the pages behind
  // [start, start + npages) where they are (device-private pages stay in their device); a pinned
  // page is not migrated (migrate_vma_check_page sees the extra reference). Returns the pages
  // pinned from `start` (fewer than asked when one cannot be), or the -errno that stopped the first
  // one: -EFAULT (no VMA or no access), -ENOSPC (its owner's BAR window has no slot), -ENOMEM (no window).
  pinUserPages(mm: Mm, start: number, npages: number, pfns: Uint32Array, write: boolean): Op<number>;
  unpinUserPages(pfns: Uint32Array, npages: number): void;
  // DMA engine and fences (include/linux/dma-fence.h)
  /** Starts DMA through `dev`'s page table; the engine translates every page now and accesses them
   *  over the DMA's modelled time. */
  dmaIssue(dev: DriverDevice, req: DmaRequest): Fence;
  /** Sleeps until the fence signals (a preemption point in task context). */
  dmaFenceWaitOp(fence: Fence): Op<void>;
  /** dma_fence_wait from a callback (invalidate, move_notify): time runs on until it signals. */
  dmaFenceWait(fence: Fence): void;
  // drivers/dma-buf: an importer attaches to the exporter of the pages behind a range.
  dmaBufAttach(importer: DriverDevice, mm: Mm, start: number, npages: number, ops: DmaBufImporterOps): DmaBufAttachment | number;
  /** dma_buf_map_attachment: DMA addresses of the buffer's pages for the importer into `addrs`
   *  (flags into `flags`), or -errno (-EBUSY while the exporter moves it). It returns as under the
   *  buffer's dma_resv lock: until the caller's next preemption point the exporter cannot move the
   *  buffer, so the importer programs its table before it yields again. */
  dmaBufMapAttachment(attachment: DmaBufAttachment, addrs: Float64Array, flags: Uint8Array): Op<number>;
  dmaBufUnmapAttachment(attachment: DmaBufAttachment): void;
  dmaBufDetach(attachment: DmaBufAttachment): void;
}

/** One driver running one device: made when the device first acts as a P2P client. */
export interface DriverInstance {
  /** peerMap: make the range DMA-able; a HookError fails the step. */
  mapRange(req: MapRequest): Op<HookError | void>;
  /** peerUnmap: drop the range's mappings. */
  unmapRange(req: RangeRequest): Op<void>;
  /** dma: start DMA through the device's table (default: k.dmaIssue). */
  dma?(req: DmaRequest): Op<Fence>;
  /** Aperture pressure: a BAR slot of `provider` could not be had for this device (every slot of
   *  its window is bound and none may be reclaimed: pinned by peers, or its "fail" policy). Runs in
   *  the kernel's thread inside pinUserPages or dmaBufMapAttachment (it may not yield; it may wait
   *  on fences with dmaFenceWait): release mappings of `provider`'s pages the device can spare and
   *  return how many pages were released; the primitive then tries once more. Without it (or when
   *  it returns 0) the primitive fails with -ENOSPC. hmm_range_fault does not call it: a mirror's
   *  slots are reclaimed through its invalidation callback, and -ENOSPC reaches its caller. */
  aperturePressure?(provider: string): number;
  /** The instance is being replaced by another driver: drop its notifiers (need not be provided). */
  release?(): void;
}

/** A P2P client driver: what a scenario's `"drivers": { "<device>": "<name or module>" }` names. */
export interface P2pDriver {
  readonly name: string;
  readonly description?: string;
  create(k: Kernel, dev: DriverDevice): DriverInstance;
}
