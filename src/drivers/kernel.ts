// Models: the kernel a P2P client driver runs against (api.ts Kernel), for one client device of a
// machine: interval notifiers whose callbacks the kit watches (so it knows when an invalidation of
// a page has returned), hmm_range_fault taking the walk's modelled time, the P2PDMA map type and
// state, hmm_dma_map_pfn (bus address through a switch, CPU address through the host bridge or an
// IOVA in the client's IOMMU domain, the device's own pages directly, system pages through the
// IOMMU), a driver mutex, page pinning (system pages where they are; another device's private
// pages by the owner's peer-memory get_pages, whose BAR slot is then never reclaimed), DMA jobs on
// the timeline that touch their pages one after another with a fence, and dma-buf attachments whose
// exporter calls move_notify before the buffer's pages move or go.
// Leaves out: errors injected into the primitives, and SG merging (one entry per page).
import type { Mm } from "../memory/address-space.js";
import { EBUSY, EDEADLK, EFAULT, EINVAL, ENOMEM, ENOSPC } from "../memory/errno.js";
import { FAULT_FLAG_REMOTE, FAULT_FLAG_WRITE, handleMmFault } from "../memory/fault.js";
import { CHUNK_SHIFT, POOL_P2PDMA, POOL_PRIVATE } from "../memory/frames.js";
import { MMU_NOTIFY_PROTECTION_PAGE, MMU_NOTIFY_PROTECTION_VMA, MMU_NOTIFY_SOFT_DIRTY, type NotifierRange } from "../memory/mmu-notifier.js";
import { HMM_PFN_PFN_MASK, HMM_PFN_VALID, HMM_PFN_WRITE } from "../hmm/hmm-pfn.js";
import { intervalNotifierInsert, intervalNotifierRemove, readBegin, readRetry, setSeq, type IntervalNotifier } from "../hmm/interval-notifier.js";
import { rangeFault, type HmmRange } from "../hmm/range-fault.js";
import { p2pdmaMapType } from "../fabric/p2pdma.js";
import { apertureOfFrame, type BarAperture } from "../devices/bar-aperture.js";
import { ClientDevice, DPTE_BOUNCE, DPTE_BUS, DPTE_HOST_BRIDGE, DPTE_IOVA, DPTE_LOCAL, DPTE_WRITE, type EntrySnapshot } from "../devices/client-device.js";
import { DmaSafety } from "../devices/dma-safety.js";
import type { Machine } from "../devices/machine.js";
import { InternalError } from "../units/internal-error.js";
import { hex, PAGE_SIZE } from "../units/size.js";
import {
  DMA_MAPPING_ERROR, type DmaBufAttachment, type DmaBufImporterOps, type DmaRequest, type DevicePageTable, type DriverDevice,
  type Fence, type IntervalNotifierOps, type Kernel, type Mutex, type Op, type P2pdmaMapState, type P2pdmaMapType,
} from "./api.js";
import { FenceState, type HardwareJob, type Timeline } from "./timeline.js";

/** How long the kernel's work takes (the run's cost model answers). */
export interface KernelCosts {
  /** One hmm_range_fault walk of `pages` pages that took `faults` faults, ns. */
  rangeFaultNs(device: string, pages: number, faults: number): number;
  /** A DMA of `bytes` by `device` to or from memory `memory` ("ram" or a device id), ns. */
  dmaNs(device: string, memory: string, bytes: number, write: boolean): number;
}

/** hmm_range_fault returning -EBUSY this many times in a row to one device: its retry loop does not end. */
export const LIVELOCK_RETRIES = 100_000;

/** What one driver operation did, for its step's result. */
export interface KernelStats {
  /** hmm_range_fault calls that returned 0. */
  rangeFaults: number;
  /** P2PDMA map type per provider the driver mapped pages of. */
  mapTypes: Record<string, P2pdmaMapType>;
}

/** A driver gave up in a way the kit must stop (a retry loop that does not end). */
export class DriverAbort extends Error {
  override readonly name = "DriverAbort";
  constructor(readonly ret: number, readonly page: number, message: string) {
    super(message);
  }
}

/** The client device as its driver sees it. */
class DriverDeviceView implements DriverDevice {
  constructor(readonly client: ClientDevice) {}
  get id(): string {
    return this.client.id;
  }
  get iommu(): boolean {
    return this.client.iommu !== null;
  }
  get owner(): unknown {
    return this.client.owner;
  }
  table(mm: Mm): DevicePageTable {
    return this.client.table(mm);
  }
}

/** A dma-buf attachment as the kit tracks it. */
class Attachment implements DmaBufAttachment {
  mapped = false;
  /** Device-private frames whose BAR slots the mapping holds (a mapped buffer stays placed: its slots are not reclaimed). */
  held: Array<{ frame: number; aperture: string }> = [];
  notifier: IntervalNotifier | null = null;
  constructor(readonly exporter: string, readonly importer: string, readonly mm: Mm, readonly start: number, readonly npages: number) {}
}

export class DeviceKernel implements Kernel {
  readonly device: DriverDeviceView;
  stats: KernelStats = { rangeFaults: 0, mapTypes: {} };
  /** The driver's aperture-pressure hook, once its instance exists. */
  pressure: ((provider: string) => number) | null = null;
  private busyInARow = 0;
  private retryInARow = 0;

  constructor(private readonly machine: Machine, private readonly timeline: Timeline, private readonly costs: KernelCosts, client: ClientDevice) {
    this.device = new DriverDeviceView(client);
  }

  private get client(): ClientDevice {
    return this.device.client;
  }

  get now(): number {
    return this.timeline.now;
  }

  // --- mm/mmu_notifier.c ---

  mmuIntervalNotifierInsert(mm: Mm, start: number, length: number, ops: IntervalNotifierOps): IntervalNotifier | number {
    const client = this.client;
    return intervalNotifierInsert(mm, start, length, {
      invalidate: (sub, range, cur) => {
        client.inCallback = true;
        try {
          return ops.invalidate(sub, range, cur);
        } finally {
          client.inCallback = false;
          // The callback has returned: from now on the device may not use mappings made before it.
          client.table(mm).invalidated(Math.max(range.start, sub.start), Math.min(range.end, sub.end));
        }
      },
    });
  }

  mmuIntervalNotifierRemove(sub: IntervalNotifier): void {
    intervalNotifierRemove(sub);
  }

  mmuIntervalReadBegin(sub: IntervalNotifier): number {
    return readBegin(sub);
  }

  mmuIntervalReadRetry(sub: IntervalNotifier, seq: number): boolean {
    if (!readRetry(sub, seq)) {
      this.retryInARow = 0;
      return false;
    }
    // A loop that retries without ever reading a sequence no invalidation overtook does not end
    // (the explorer's events are finite, so a correct driver's retries are too).
    if (++this.retryInARow > LIVELOCK_RETRIES) {
      this.retryInARow = 0;
      this.livelock(sub.start, "mmu_interval_read_retry", `said retry ${LIVELOCK_RETRIES} times in a row: the driver's retry loop does not end (does it call mmu_interval_read_begin again before each retry?)`);
    }
    return true;
  }

  /** A retry loop through `via` did not end at page `page`: a livelock violation, and the hook fails with -EBUSY. */
  private livelock(page: number, via: string, what: string): never {
    this.machine.mem.events.violation({ code: "livelock", device: this.client.id, address: hex(page * PAGE_SIZE), access: "read", via });
    throw new DriverAbort(-EBUSY, page, `${via} ${what}`);
  }

  mmuIntervalSetSeq(sub: IntervalNotifier, curSeq: number): void {
    setSeq(sub, curSeq);
  }

  // --- mm/hmm.c ---

  *hmmRangeFault(range: HmmRange): Op<number> {
    const counters = this.machine.mem.counters;
    const before = counters.faults;
    const ret = rangeFault(range);
    if (ret === 0) this.stats.rangeFaults++;
    if (ret === -EBUSY) {
      if (++this.busyInARow > LIVELOCK_RETRIES) {
        this.busyInARow = 0;
        this.livelock(range.start, "hmm_range_fault", `returned -EBUSY ${LIVELOCK_RETRIES} times in a row: the driver's retry loop does not end`);
      }
    } else this.busyInARow = 0;
    yield { waitNs: this.costs.rangeFaultNs(this.client.id, range.end - range.start, counters.faults - before) };
    return ret;
  }

  // --- drivers/pci/p2pdma.c, kernel/dma ---

  pciP2pdmaMapType(provider: string, client: string): P2pdmaMapType {
    return p2pdmaMapType(this.machine.fabric, provider, client).mapType;
  }

  pciP2pdmaState(state: P2pdmaMapState, dev: DriverDevice, hmmPfn: number): "NONE" | P2pdmaMapType {
    const ap = apertureOfFrame(this.machine.mem.frames, hmmPfn & HMM_PFN_PFN_MASK);
    if (ap === undefined) {
      state.map = "NONE";
      state.provider = null;
    } else if (state.provider !== ap.id) {
      state.provider = ap.id;
      state.map = this.pciP2pdmaMapType(ap.id, dev.id);
    }
    return state.map;
  }

  hmmDmaMapPfn(dev: DriverDevice, hmmPfn: number, state: P2pdmaMapState): number {
    const frames = this.machine.mem.frames;
    const frame = hmmPfn & HMM_PFN_PFN_MASK;
    const iommu = this.clientOf(dev).iommu;
    const map = this.pciP2pdmaState(state, dev, hmmPfn);
    if (map !== "NONE") {
      this.stats.mapTypes[state.provider!] = map;
      const ap = apertureOfFrame(frames, frame)!;
      const offset = ap.offsetOf(frame);
      if (map === "BUS_ADDR") {
        state.flags = DPTE_BUS;
        return ap.bar!.bus + offset; // pci_p2pdma_bus_addr_map: CPU address + bus offset
      }
      if (map === "THRU_HOST_BRIDGE") {
        state.flags = DPTE_HOST_BRIDGE | (iommu ? DPTE_IOVA : 0);
        return iommu ? iommu.map(ap.bar!.cpu + offset) : ap.bar!.cpu + offset;
      }
      state.flags = 0;
      return DMA_MAPPING_ERROR; // NOT_SUPPORTED: -EREMOTEIO in the mappers
    }
    const pool = frames.pools[frames.chunkPool[frame >>> CHUNK_SHIFT]];
    if (pool.kind === POOL_PRIVATE && pool.pagemap?.owner === dev.owner) {
      state.flags = DPTE_LOCAL; // the device's own memory: no mapping
      return frame * PAGE_SIZE;
    }
    state.flags = iommu ? DPTE_IOVA : 0;
    return iommu ? iommu.map(frame * PAGE_SIZE) : frame * PAGE_SIZE;
  }

  dmaUnmap(dev: DriverDevice, dmaAddr: number, flags: number): void {
    if (flags & DPTE_IOVA) this.clientOf(dev).iommu!.unmap(dmaAddr);
  }

  bounceMapPfn(dev: DriverDevice, hmmPfn: number, state?: P2pdmaMapState): number {
    const frame = hmmPfn & HMM_PFN_PFN_MASK;
    const iommu = this.clientOf(dev).iommu;
    if (state) state.flags = DPTE_BOUNCE | (iommu ? DPTE_IOVA : 0);
    return iommu ? iommu.map(frame * PAGE_SIZE) : frame * PAGE_SIZE;
  }

  mutexInit(): Mutex {
    const timeline = this.timeline;
    let holder = -2;
    return {
      get held() {
        return holder !== -2;
      },
      *lock(): Op<void> {
        if (holder !== -2) {
          throw new DriverAbort(-EDEADLK, -1, `the driver mutex is taken while another operation holds it across a preemption point (a driver may not yield holding a lock its invalidation callback needs)`);
        }
        holder = timeline.current;
      },
      unlock(): void {
        holder = -2;
      },
    };
  }

  // --- mm/gup.c, peer-memory get_pages ---

  *pinUserPages(mm: Mm, start: number, npages: number, pfns: Uint32Array, write: boolean): Op<number> {
    const frames = this.machine.mem.frames;
    const client = this.client;
    const before = this.machine.mem.counters.faults;
    let pinned = 0;
    let err = -EFAULT;
    for (let o = 0; o < npages; o++) {
      const vpn = start + o;
      let b = DmaSafety.backing(mm, vpn);
      const foreignPrivate = b.frame >= 0 && this.privateOwner(b.frame) !== null && this.privateOwner(b.frame) !== client.owner;
      if (!foreignPrivate && (b.frame < 0 || (write && !b.writable))) {
        // GUP faults the page in (FOLL_WRITE: writable); a device-private page of another device stays there.
        if (handleMmFault(mm, vpn, FAULT_FLAG_REMOTE | (write ? FAULT_FLAG_WRITE : 0)) !== 0) break;
        b = DmaSafety.backing(mm, vpn);
        if (b.frame < 0) break;
      }
      let pfn = b.frame;
      if (foreignPrivate) {
        // The owner's get_pages: the page stays in its memory, reached through its BAR.
        const ap = this.machine.aperture(frames.poolOf(b.frame).label);
        const alias = ap ? this.aliasFor(ap, b.frame, mm, vpn) : -ENOMEM;
        if (alias < 0) {
          err = alias;
          break;
        }
        ap!.pinAlias(b.frame, true);
        pfn = alias;
      }
      frames.get(b.frame);
      client.pin(b.frame);
      pfns[o] = (HMM_PFN_VALID | (b.writable ? HMM_PFN_WRITE : 0) | pfn) >>> 0;
      pinned++;
    }
    yield { waitNs: this.costs.rangeFaultNs(client.id, npages, this.machine.mem.counters.faults - before) };
    // As pin_user_pages: the pages pinned, or the error that stopped the first one.
    return pinned === 0 && npages > 0 ? err : pinned;
  }

  /** The owner's alias of `frame` in its BAR; under pressure the driver's hook may release slots, then one more try. */
  private aliasFor(ap: BarAperture, frame: number, mm: Mm, vpn: number): number {
    const alias = ap.aliasFor(frame, mm, vpn);
    if (alias !== -ENOSPC || this.pressure === null) return alias;
    return this.pressure(ap.id) > 0 ? ap.aliasFor(frame, mm, vpn) : alias;
  }

  unpinUserPages(pfns: Uint32Array, npages: number): void {
    const frames = this.machine.mem.frames;
    for (let o = 0; o < npages; o++) {
      let frame = pfns[o] & HMM_PFN_PFN_MASK;
      const ap = apertureOfFrame(frames, frame);
      if (ap) {
        frame = ap.target(frame);
        if (frame < 0) continue;
        ap.pinAlias(frame, false);
      }
      this.client.unpin(frame);
      frames.put(frame);
    }
  }

  // --- DMA engine and fences ---

  dmaIssue(dev: DriverDevice, req: DmaRequest): Fence {
    const client = this.clientOf(dev);
    const fence = this.timeline.fence();
    const job = new DmaJob(this, client, req, fence);
    if (job.pages === 0) {
      job.failAtStart();
      return fence;
    }
    const total = this.costs.dmaNs(client.id, job.memory, job.pages * PAGE_SIZE, req.write !== undefined);
    job.perPageNs = total / job.pages;
    this.timeline.startJob(job, this.timeline.now + job.perPageNs);
    return fence;
  }

  signal(fence: FenceState): void {
    this.timeline.signal(fence);
  }

  *dmaFenceWaitOp(fence: Fence): Op<void> {
    if (!fence.signaled) yield { fence };
  }

  dmaFenceWait(fence: Fence): void {
    if (fence.signaled) return;
    const from = this.timeline.now;
    this.timeline.runHardwareUntil(fence as FenceState);
    this.machine.mem.events.fenceWait(this.client.id, this.timeline.now - from);
  }

  // --- drivers/dma-buf ---

  dmaBufAttach(importer: DriverDevice, mm: Mm, start: number, npages: number, ops: DmaBufImporterOps): DmaBufAttachment | number {
    let exporter: string | null = null;
    for (let o = 0; o < npages; o++) {
      const b = DmaSafety.backing(mm, start + o);
      const owner = b.frame >= 0 ? this.privateOwner(b.frame) : null;
      const id = owner === null ? null : this.machine.mem.frames.poolOf(b.frame).label;
      if (id === null || (exporter !== null && id !== exporter)) return -EINVAL;
      exporter = id;
    }
    if (exporter === null) return -EINVAL;
    const a = new Attachment(exporter, importer.id, mm, start, npages);
    const client = this.clientOf(importer);
    // The exporter calls move_notify before the buffer's pages move or go: any change of the range's
    // page tables but a protection change (which moves nothing).
    const sub = intervalNotifierInsert(mm, start, npages, {
      invalidate: (s: IntervalNotifier, range: NotifierRange, cur: number) => {
        setSeq(s, cur);
        if (range.event === MMU_NOTIFY_PROTECTION_VMA || range.event === MMU_NOTIFY_PROTECTION_PAGE || range.event === MMU_NOTIFY_SOFT_DIRTY) return true;
        if (!a.mapped) return true;
        client.inCallback = true;
        try {
          ops.moveNotify(a);
        } finally {
          client.inCallback = false;
        }
        return true;
      },
    });
    if (typeof sub === "number") return sub;
    a.notifier = sub;
    client.buffers.push({ mm, start, end: start + npages });
    return a;
  }

  *dmaBufMapAttachment(attachment: DmaBufAttachment, addrs: Float64Array, flags: Uint8Array): Op<number> {
    const a = attachment as Attachment;
    const dev = this.device;
    // The mapping's cost is paid first; the addresses are then taken and handed back with no
    // preemption point between: the dma_resv lock that serializes the exporter's moves.
    yield { waitNs: this.costs.rangeFaultNs(this.client.id, a.npages, 0) };
    const state: P2pdmaMapState = { map: "NONE", provider: null, flags: 0 };
    for (let o = 0; o < a.npages; o++) {
      const vpn = a.start + o;
      const b = DmaSafety.backing(a.mm, vpn);
      let pfn = b.frame;
      if (pfn >= 0 && this.privateOwner(b.frame) !== null && this.privateOwner(b.frame) !== dev.owner) {
        const id = this.machine.mem.frames.poolOf(b.frame).label;
        const ap = this.machine.aperture(id);
        pfn = ap ? this.aliasFor(ap, b.frame, a.mm, vpn) : -ENOMEM;
        if (pfn >= 0) {
          ap!.pinAlias(b.frame, true);
          a.held.push({ frame: b.frame, aperture: id });
        }
      }
      const addr = pfn < 0 ? DMA_MAPPING_ERROR : this.hmmDmaMapPfn(dev, HMM_PFN_VALID | pfn, state);
      if (addr === DMA_MAPPING_ERROR) {
        // Not all of the buffer can be placed where the importer reaches it: nothing is mapped.
        this.releaseHeld(a);
        for (let j = 0; j < o; j++) this.dmaUnmap(dev, addrs[j], flags[j]);
        return b.frame < 0 ? -EFAULT : pfn < 0 ? (pfn === -ENOMEM ? -ENOMEM : -ENOSPC) : -EINVAL;
      }
      addrs[o] = addr;
      flags[o] = state.flags | (b.writable ? DPTE_WRITE : 0);
    }
    a.mapped = true;
    return 0;
  }

  dmaBufUnmapAttachment(attachment: DmaBufAttachment): void {
    const a = attachment as Attachment;
    a.mapped = false;
    this.releaseHeld(a);
  }

  /** The BAR slots a mapped attachment held go back to their apertures' LRU. */
  private releaseHeld(a: Attachment): void {
    for (const h of a.held) this.machine.aperture(h.aperture)?.pinAlias(h.frame, false);
    a.held = [];
  }

  dmaBufDetach(attachment: DmaBufAttachment): void {
    const a = attachment as Attachment;
    if (a.notifier) intervalNotifierRemove(a.notifier);
    const list = this.client.buffers;
    const i = list.findIndex((r) => r.mm === a.mm && r.start === a.start && r.end === a.start + a.npages);
    if (i >= 0) list.splice(i, 1);
  }

  /** The page-map owner of a device-private frame, or null for any other frame. */
  private privateOwner(frame: number): unknown {
    const pool = this.machine.mem.frames.poolOf(frame);
    return pool.kind === POOL_PRIVATE ? pool.pagemap!.owner : null;
  }

  private clientOf(dev: DriverDevice): ClientDevice {
    if (dev !== this.device) throw new InternalError(`kernel of ${this.client.id} asked to act for device ${dev.id}`);
    return this.client;
  }

  /** Publishes a violation of the DMA engine's page access. */
  violation(client: ClientDevice, mm: Mm, vpn: number, e: EntrySnapshot, write: boolean, code: NonNullable<ReturnType<ClientDevice["access"]>>["violation"]): void {
    if (code === null) return;
    this.machine.mem.events.violation({ code, device: client.id, address: hex(vpn * PAGE_SIZE), access: write ? "write" : "read", via: client.via(e) });
  }
}

/**
 * A DMA on the timeline: every page's entry is taken when it starts (the device holds the
 * translations, as a work request holds its addresses), then one page is touched after another
 * until the last, when its fence signals; a page without a usable entry or an address the IOMMU
 * no longer translates ends it early with the fault (no violation).
 */
class DmaJob implements HardwareJob {
  readonly pages: number;
  /** The memory most of its pages are in, for its modelled time. */
  readonly memory: string;
  perPageNs = 0;
  private k = 0;
  private readonly entries: (EntrySnapshot | null)[] = [];
  private readonly out = { value: 0, fail: "" };
  private readonly moved = new Map<string, number>();
  private stopAt: number;
  private stopReason = "";

  constructor(private readonly kernel: DeviceKernel, private readonly client: ClientDevice, private readonly req: DmaRequest, private readonly fence: FenceState) {
    const write = req.write !== undefined;
    this.stopAt = req.npages;
    for (let o = 0; o < req.npages; o++) {
      const e = client.snapshot(req.mm, req.start + o);
      if (e === null || (write && !(e.flags & DPTE_WRITE))) {
        this.stopAt = o;
        this.stopReason = e === null ? "the device has no mapping for the page (IOMMU fault)" : "the device maps the page read-only";
        break;
      }
      this.entries.push(e);
    }
    this.pages = this.stopAt;
    this.memory = this.pages > 0 ? client.memoryOf(req.mm, this.entries[0]!) : "ram";
  }

  /** A DMA whose first page has no usable entry: it ends at once with the fault. */
  failAtStart(): void {
    this.finish(this.stopReason);
  }

  step(_nowNs: number): number {
    const req = this.req;
    const write = req.write !== undefined;
    const vpn = req.start + this.k;
    const e = this.entries[this.k]!;
    this.out.fail = "";
    const a = this.client.access(req.mm, vpn, e, write, write ? req.write!(this.k) : 0, this.out);
    if (a === null) {
      this.finish(this.out.fail);
      return -1;
    }
    this.kernel.violation(this.client, req.mm, vpn, e, write, a.violation);
    if (!write) this.fence.values.push(this.out.value);
    if (!(e.flags & DPTE_LOCAL)) {
      const key = `${a.memory}|${a.viaRam ? "ram" : ""}`;
      this.moved.set(key, (this.moved.get(key) ?? 0) + 1);
    }
    this.fence.cpages = ++this.k;
    if (this.k < this.pages) return this.kernel.now + this.perPageNs;
    this.finish(this.stopAt < req.npages ? this.stopReason : "");
    return -1;
  }

  /** The DMA ends: its bytes are published per memory, its fence signals (with the fault, if any). */
  private finish(fail: string): void {
    const req = this.req;
    const events = req.mm.mem.events;
    const id = this.client.id;
    const write = req.write !== undefined;
    for (const [key, n] of this.moved) {
      const [memory, hop] = key.split("|");
      const bytes = n * PAGE_SIZE;
      if (hop) {
        // Through a host buffer: two copies, one on each side of RAM.
        events.copy(write ? id : memory, "ram", bytes, "access");
        events.copy("ram", write ? memory : id, bytes, "access");
      } else if (write) events.copy(id, memory, bytes, "access");
      else events.copy(memory, id, bytes, "access");
    }
    if (fail) this.fence.error = { ret: -EFAULT, page: req.start + this.k, reason: fail };
    this.kernel.signal(this.fence);
  }
}

