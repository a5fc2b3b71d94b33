// Models: a P2P-capable client driver (RDMA on-demand paging, a GPU's SVM) per endpoint: one
// mirror per process with an interval notifier and a device page table of DMA addresses (bus
// addresses or IOVAs) in typed-array blocks of 512 virtual pages made on first mapping, which
// outlive the CPU's VMAs as a real device's table does; peerMap faults a range with
// HMM_PFN_ALLOW_P2P (hmm-semantics.md §1.7 retry loop, §6), DMA-maps each page by the P2PDMA map
// type between provider and client (p2pdma.md §1: BUS_ADDR = bus address, no IOMMU;
// THRU_HOST_BRIDGE = IOVA in the client's IOMMU domain, or the CPU address without one;
// NOT_SUPPORTED = the driver's fallback: migrate to RAM as the mlx5 patches do, or bounce through
// a host buffer); dma translates through the table, routes through the fabric into the provider's
// BAR and aperture, and every page is checked by the safety checker. Broken policies
// (ignoreInvalidation, noSeqRecheck, lateIovaUnmap) reproduce classic driver bugs. Mappings made
// and dropped, bytes moved and violations are published as machine events.
// Leaves out: concurrency (DMA is synchronous inside its step, so waiting for in-flight DMA at
// invalidation is immediate), huge device mappings, and the PCI bus offset of non-x86 hosts for RAM.
import { Mm } from "../memory/address-space.js";
import { EBUSY, EFAULT } from "../memory/errno.js";
import { POOL_P2PDMA, POOL_PRIVATE } from "../memory/frames.js";
import type { Memory } from "../memory/memory.js";
import type { NotifierRange } from "../memory/mmu-notifier.js";
import { BlockDirectory, inBlock, nextBlockStart, PTRS_PER_PTE } from "../memory/page-table.js";
import { HMM_PFN_ALLOW_P2P, HMM_PFN_PFN_MASK as HMM_PFN_FRAME, HMM_PFN_REQ_FAULT, HMM_PFN_REQ_WRITE, HMM_PFN_WRITE } from "../hmm/hmm-pfn.js";
import { IntervalNotifier, intervalNotifierInsert, readBegin, readRetry, setSeq } from "../hmm/interval-notifier.js";
import { rangeFault } from "../hmm/range-fault.js";
import { hostBridgeOf } from "../fabric/build.js";
import { p2pdmaMapType, type P2pdmaMapType } from "../fabric/p2pdma.js";
import { routeAddress } from "../fabric/route.js";
import type { Fabric, PciFunction } from "../fabric/types.js";
import { hex, PAGE_SIZE } from "../units/size.js";
import { apertureOfFrame, type BarAperture } from "./bar-aperture.js";
import { DmaSafety } from "./dma-safety.js";
import { IommuDomain } from "./iommu-domain.js";

export type P2pPolicy = "correct" | "ignoreInvalidation" | "noSeqRecheck" | "lateIovaUnmap";
export type P2pFallback = "migrate" | "bounce";

/** Per-page DMA path codes kept in the device page table (low 3 bits of the flag byte). */
export const PATH_NONE = 0;
export const PATH_BUS_ADDR = 1;
export const PATH_THRU_HOST_BRIDGE = 2;
export const PATH_SYSTEM = 3;
export const PATH_BOUNCE = 4;
export const PATH_LOCAL = 5;
export const PATH_NAMES = ["NONE", "BUS_ADDR", "THRU_HOST_BRIDGE", "SYSTEM", "BOUNCE", "LOCAL"] as const;
const F_WRITE = 8;
const F_IOVA = 16;

/** hmm_range_fault chunk (pages) before backing off under aperture pressure. */
const FAULT_CHUNK = 32;
const MAX_RETRIES = 1000;

/** What every client shares: the machine's memory, its fabric, the providers' apertures and the safety checker. */
export interface P2pHost {
  mem: Memory;
  fabric: Fabric;
  safety: DmaSafety;
  /** The BAR aperture of provider `id`, if it has one. */
  aperture(id: string): BarAperture | undefined;
}

export interface P2pClientOptions {
  host: P2pHost;
  fn: PciFunction;
  policy?: P2pPolicy;
  /** NOT_SUPPORTED fallback (default "migrate"). */
  fallback?: P2pFallback;
  /** The device's own pagemap owner (its device-private pages are local), or null. */
  owner?: unknown;
}

export interface PeerMapOptions {
  /** Ask for write access (default true). */
  write?: boolean;
}

/** One block (PTRS_PER_PTE pages) of a client's device page table, made on first mapping. */
interface Table {
  dma: Float64Array;
  /** Frame hmm reported (the P2PDMA frame for P2P pages). */
  target: Int32Array;
  /** Checker's stamp: the frame backing the address at map time and its generation. */
  mapped: Int32Array;
  gen: Uint32Array;
  flags: Uint8Array;
}

function newTable(): Table {
  const n = PTRS_PER_PTE;
  return { dma: new Float64Array(n), target: new Int32Array(n), mapped: new Int32Array(n), gen: new Uint32Array(n), flags: new Uint8Array(n) };
}

export interface PeerMapResult {
  ret: number;
  cpages: number;
  faults: number;
  paths: { BUS_ADDR: number; THRU_HOST_BRIDGE: number; SYSTEM: number };
  local: number;
  bounced: number;
  mapTypes: Record<string, P2pdmaMapType>;
  /** Per page: path name and DMA address (hex). */
  pagePaths: string[];
  addresses: string[];
  page?: number;
  reason?: string;
}

export interface DmaResult {
  ret: number;
  cpages: number;
  values?: number[];
  page?: number;
  reason?: string;
}

/** The client driver of one endpoint. */
export class P2pClient {
  readonly mirrors = new Map<Mm, ClientMirror>();
  readonly iommu: IommuDomain | null;
  readonly host: P2pHost;
  readonly fn: PciFunction;
  policy: P2pPolicy;
  fallback: P2pFallback;
  readonly owner: unknown;
  private readonly mapTypes = new Map<string, P2pdmaMapType>();

  constructor(opts: P2pClientOptions) {
    this.host = opts.host;
    this.fn = opts.fn;
    this.policy = opts.policy ?? "correct";
    this.fallback = opts.fallback ?? "migrate";
    this.owner = opts.owner ?? null;
    this.iommu = hostBridgeOf(this.host.fabric, this.fn).iommu === "dma" ? new IommuDomain() : null;
  }

  get id(): string {
    return this.fn.id;
  }

  open(mm: Mm): ClientMirror {
    let m = this.mirrors.get(mm);
    if (!m) {
      m = new ClientMirror(this, mm);
      this.mirrors.set(mm, m);
    }
    return m;
  }

  /** pci_p2pdma_map_type(provider, client), cached per provider as the kernel caches it per pgmap. */
  mapType(provider: string): P2pdmaMapType {
    let t = this.mapTypes.get(provider);
    if (t === undefined) {
      t = p2pdmaMapType(this.host.fabric, provider, this.fn.id).mapType;
      this.mapTypes.set(provider, t);
    }
    return t;
  }
}

/** One process as seen by a client device. */
export class ClientMirror {
  readonly notifier: IntervalNotifier;
  /** The device page table, indexed by virtual page, in blocks made on first mapping: it outlives the CPU's VMAs. */
  private readonly tables = new BlockDirectory<Table>(newTable);
  /** lateIovaUnmap: entries whose zap and IOVA unmap were deferred to the next map call. */
  private deferred: Array<[Table, number]> = [];

  constructor(readonly client: P2pClient, readonly mm: Mm) {
    const sub = intervalNotifierInsert(mm, 0, 2 ** 36, { invalidate: (s, r, cur) => this.invalidate(s, r, cur) });
    if (typeof sub === "number") throw new Error(`peer mirror on an exited process ${mm.name}`);
    this.notifier = sub;
  }

  /** The invalidate callback: zap the range (and unmap its IOVAs) before the CPU page tables change. */
  private invalidate(sub: IntervalNotifier, range: NotifierRange, cur: number): boolean {
    setSeq(sub, cur);
    const policy = this.client.policy;
    if (policy === "ignoreInvalidation") return true; // the bug: entries stay, DMA keeps going
    let zapped = 0;
    this.forEachMapped(range.start, range.end, (t, j) => {
      if (policy === "lateIovaUnmap" && t.flags[j] & F_IOVA) this.deferred.push([t, j]); // the bug
      else {
        this.zap(t, j);
        zapped++;
      }
    });
    this.mm.mem.events.peerUnmap(this.client.id, zapped, true);
    return true;
  }

  /** Calls `visit(block, index)` for each mapped entry of pages [start, end), reading only blocks that exist. */
  private forEachMapped(start: number, end: number, visit: (t: Table, j: number) => void): void {
    const dir = this.tables;
    for (let v = dir.next(start, end); v < end; ) {
      const t = dir.get(v)!;
      const stop = Math.min(end, nextBlockStart(v));
      for (let j = inBlock(v), n = j + (stop - v); j < n; j++) if (t.flags[j] !== 0) visit(t, j);
      v = dir.next(stop, end);
    }
  }

  private zap(t: Table, i: number): void {
    if (t.flags[i] & F_IOVA) this.client.iommu!.unmap(t.dma[i]);
    t.flags[i] = 0;
  }

  /** The deferred work of lateIovaUnmap, run at the driver's next map or unmap call. */
  private flushDeferred(): void {
    let zapped = 0;
    for (const [t, i] of this.deferred) {
      if (t.flags[i] === 0) continue;
      this.zap(t, i);
      zapped++;
    }
    this.deferred = [];
    this.mm.mem.events.peerUnmap(this.client.id, zapped, true);
  }

  /** The table block and index of page `vpn`'s entry, or null when no block holds it. */
  private slot(vpn: number): { t: Table; j: number } | null {
    const t = this.tables.get(vpn);
    return t ? { t, j: inBlock(vpn) } : null;
  }

  /** Mapped pages (for tests and figures). */
  mappedPages(): number {
    let n = 0;
    this.tables.forEach((t) => {
      for (let j = 0; j < PTRS_PER_PTE; j++) if (t.flags[j] !== 0) n++;
    });
    return n;
  }

  /** Path name and DMA address of page `vpn`'s entry, or null. */
  entry(vpn: number): { path: string; dma: number; iova: boolean; writable: boolean } | null {
    const at = this.slot(vpn);
    if (!at) return null;
    const f = at.t.flags[at.j];
    if (f === 0) return null;
    return { path: PATH_NAMES[f & 7], dma: at.t.dma[at.j], iova: (f & F_IOVA) !== 0, writable: (f & F_WRITE) !== 0 };
  }

  /** peerMap: fault [start, start+npages) with ALLOW_P2P and DMA-map every page. */
  peerMap(start: number, npages: number, opts: PeerMapOptions = {}): PeerMapResult {
    const write = opts.write ?? true;
    this.flushDeferred();
    const res: PeerMapResult = {
      ret: 0, cpages: 0, faults: 0, paths: { BUS_ADDR: 0, THRU_HOST_BRIDGE: 0, SYSTEM: 0 }, local: 0, bounced: 0,
      mapTypes: {}, pagePaths: [], addresses: [],
    };
    const keep = npages <= 1024;
    const end = start + npages;
    const pfns = new Uint32Array(FAULT_CHUNK);
    /** Per page of the chunk: 1 while it may be reached peer-to-peer (cleared by the migrate fallback). */
    const allow = new Uint8Array(FAULT_CHUNK);
    const frames = this.mm.mem.frames;
    let chunk = FAULT_CHUNK;
    for (let addr = start; addr < end; ) {
      const next = Math.min(end, addr + chunk);
      const n = next - addr;
      allow.fill(1, 0, n);
      const range = {
        notifier: this.notifier, notifierSeq: 0, start: addr, end: next, hmmPfns: pfns,
        defaultFlags: HMM_PFN_REQ_FAULT | (write ? HMM_PFN_REQ_WRITE : 0), pfnFlagsMask: HMM_PFN_ALLOW_P2P,
        devPrivateOwner: this.client.owner,
      };
      let tries = 0;
      for (;;) {
        if (++tries > MAX_RETRIES) return { ...res, ret: -EBUSY, page: addr, reason: "hmm_range_fault kept being invalidated (aperture thrashing)" };
        for (let o = 0; o < n; o++) pfns[o] = allow[o] ? HMM_PFN_ALLOW_P2P : 0;
        range.notifierSeq = readBegin(this.notifier);
        const ret = rangeFault(range);
        if (ret === -EBUSY) continue;
        if (ret !== 0) {
          return { ...res, ret, page: addr, reason: write ? "page cannot be faulted in for writing (no VMA or no write access)" : "page cannot be faulted in (no VMA or no read access)" };
        }
        res.faults++;
        if (this.client.policy !== "noSeqRecheck" && readRetry(this.notifier, range.notifierSeq)) {
          // An invalidation raced the walk (an aperture reclaim inside it): retry on a smaller chunk.
          if (chunk > 1) {
            chunk >>= 1;
            break;
          }
          continue;
        }
        // NOT_SUPPORTED P2P pages with the migrate fallback lose ALLOW_P2P and fault again (mlx5 patches).
        let refault = false;
        for (let o = 0; o < n; o++) {
          const ap = apertureOfFrame(frames, pfns[o] & HMM_PFN_FRAME);
          if (ap && this.client.fallback === "migrate" && this.client.mapType(ap.id) === "NOT_SUPPORTED") {
            allow[o] = 0;
            refault = true;
          }
        }
        if (refault) continue;
        this.program(addr, n, pfns, res, keep);
        addr = next;
        break;
      }
    }
    res.cpages = npages;
    this.mm.mem.events.peerMap(this.client.id, npages);
    return res;
  }

  /** DMA-maps and programs the device page table for pages [addr, addr+n) from hmm pfns. */
  private program(addr: number, n: number, pfns: Uint32Array, res: PeerMapResult, keep: boolean): void {
    const safety = this.client.host.safety;
    const frames = this.mm.mem.frames;
    const iommu = this.client.iommu;
    for (let o = 0; o < n; o++) {
      const v = addr + o;
      const e = pfns[o];
      const f = e & HMM_PFN_FRAME;
      const t = this.tables.ensure(v);
      const i = inBlock(v);
      if (t.flags[i] !== 0) this.zap(t, i); // re-mapping replaces the old mapping
      const pool = frames.poolOf(f);
      const ap = pool.kind === POOL_P2PDMA ? apertureOfFrame(frames, f) : undefined;
      let path: number;
      let dma: number;
      let iova = false;
      if (ap !== undefined) {
        const mt = this.client.mapType(ap.id);
        res.mapTypes[ap.id] = mt;
        const off = ap.offsetOf(f);
        const bar = ap.bar!;
        if (mt === "BUS_ADDR") {
          path = PATH_BUS_ADDR;
          dma = bar.bus + off; // pci_p2pdma_bus_addr_map: CPU address + bus offset
          res.paths.BUS_ADDR++;
        } else if (mt === "THRU_HOST_BRIDGE") {
          path = PATH_THRU_HOST_BRIDGE;
          dma = iommu ? iommu.map(bar.cpu + off) : bar.cpu + off;
          iova = iommu !== null;
          res.paths.THRU_HOST_BRIDGE++;
        } else {
          path = PATH_BOUNCE; // the owner copies through a host buffer the client maps normally
          dma = iommu ? iommu.map(f * PAGE_SIZE) : f * PAGE_SIZE;
          iova = iommu !== null;
          res.paths.SYSTEM++;
          res.bounced++;
        }
      } else if (pool.kind === POOL_PRIVATE) {
        path = PATH_LOCAL; // the client's own device memory
        dma = f * PAGE_SIZE;
        res.local++;
      } else {
        path = PATH_SYSTEM; // system RAM (or device-coherent memory) through the host
        dma = iommu ? iommu.map(f * PAGE_SIZE) : f * PAGE_SIZE;
        iova = iommu !== null;
        res.paths.SYSTEM++;
      }
      t.dma[i] = dma;
      t.target[i] = f;
      const b = DmaSafety.backing(this.mm, v).frame;
      t.mapped[i] = b;
      t.gen[i] = safety.generation(b);
      t.flags[i] = path | (e & HMM_PFN_WRITE ? F_WRITE : 0) | (iova ? F_IOVA : 0);
      if (keep) {
        res.pagePaths.push(PATH_NAMES[path]);
        res.addresses.push(hex(dma));
      }
    }
  }

  /** peerUnmap: drop the mappings of [start, start+npages). Returns pages unmapped. */
  peerUnmap(start: number, npages: number): number {
    this.flushDeferred();
    let n = 0;
    this.forEachMapped(start, start + npages, (t, j) => {
      this.zap(t, j);
      n++;
    });
    this.mm.mem.events.peerUnmap(this.client.id, n, false);
    return n;
  }

  /**
   * dma: the device reads or writes [start, start+npages) through its page table without
   * faulting. A page without a (writable, for writes) entry, or an IOVA the IOMMU does not
   * translate, stops the DMA with -EFAULT (an IOMMU/ATS fault), which is not a violation.
   */
  dma(start: number, npages: number, write: boolean, value: (k: number) => number): DmaResult {
    const { safety, fabric } = this.client.host;
    const events = this.mm.mem.events;
    const frames = this.mm.mem.frames;
    const iommu = this.client.iommu;
    const values: number[] = [];
    const id = this.client.id;
    let lastAp: BarAperture | null = null;
    const moved = new Map<string, number>();
    for (let k = 0; k < npages; k++) {
      const v = start + k;
      const at = this.slot(v);
      const t = at?.t;
      const i = at ? at.j : 0;
      const fl = t ? t.flags[i] : 0;
      if (!t || fl === 0) return this.dmaFail(k, v, "the device has no mapping for the page (IOMMU fault)", values, write);
      if (write && !(fl & F_WRITE)) return this.dmaFail(k, v, "the device maps the page read-only", values, write);
      const path = fl & 7;
      let addr = t.dma[i];
      if (fl & F_IOVA) {
        addr = iommu!.translate(addr);
        if (addr < 0) return this.dmaFail(k, v, `IOVA ${hex(t.dma[i])} is not mapped in the IOMMU (IOMMU fault)`, values, write);
      }
      let reached: number;
      let from: string;
      if (path === PATH_BUS_ADDR || path === PATH_THRU_HOST_BRIDGE) {
        let ap: BarAperture | null = lastAp;
        const bar = ap?.bar;
        const inBar = (b: { bus: number; cpu: number; size: number }) => path === PATH_BUS_ADDR ? addr >= b.bus && addr < b.bus + b.size : addr >= b.cpu && addr < b.cpu + b.size;
        if (!bar || !inBar(bar)) {
          // Route the TLP: through the switch (bus address) or up to the root complex (CPU address).
          ap = this.apertureAt(fabric, id, addr);
          if (ap === null) return this.dmaFail(k, v, `${hex(addr)} is claimed by no provider aperture (unsupported request)`, values, write);
          lastAp = ap;
        }
        const off = addr - (path === PATH_BUS_ADDR ? ap!.bar!.bus : ap!.bar!.cpu);
        reached = ap!.access(off);
        from = ap!.id;
      } else if (path === PATH_BOUNCE) {
        const ap = apertureOfFrame(frames, t.target[i])!;
        reached = ap.target(t.target[i]);
        from = ap.id;
      } else {
        reached = path === PATH_LOCAL ? t.target[i] : Math.floor(addr / PAGE_SIZE);
        from = reached >= 0 ? frames.poolOf(reached).label : "ram";
      }
      const code = safety.verdict(this.mm, v, reached, t.mapped[i], t.gen[i], write);
      if (code !== null) events.violation({ code, device: id, address: hex(v * PAGE_SIZE), access: write ? "write" : "read", via: this.via(fl, t.dma[i]) });
      if (reached >= 0) {
        if (write) frames.content[reached] = value(k);
        else values.push(frames.content[reached]);
      } else if (!write) values.push(NaN);
      if (path !== PATH_LOCAL) {
        const key = path === PATH_BOUNCE || path === PATH_SYSTEM && from !== "ram" ? `${from}|ram` : from;
        moved.set(key, (moved.get(key) ?? 0) + 1);
      }
    }
    for (const [key, n] of moved) {
      const [from, hop] = key.split("|");
      const bytes = n * PAGE_SIZE;
      if (hop) {
        // Through a host buffer: two copies, one on each side of RAM.
        events.copy(write ? id : from, "ram", bytes, "access");
        events.copy("ram", write ? from : id, bytes, "access");
      } else if (write) events.copy(id, from, bytes, "access");
      else events.copy(from, id, bytes, "access");
    }
    return { ret: 0, cpages: npages, values: write ? undefined : values };
  }

  /** How a DMA reached its target, for a violation: a stale IOVA is one the driver should have unmapped. */
  private via(flags: number, dma: number): string {
    if (flags & F_IOVA) return `stale IOVA ${hex(dma)}`;
    return `${(flags & 7) === PATH_BUS_ADDR ? "bus address" : "address"} ${hex(dma)}`;
  }

  /** The provider aperture whose BAR a TLP from `issuer` to `addr` lands in, or null (unsupported request). */
  private apertureAt(fabric: Fabric, issuer: string, addr: number): BarAperture | null {
    const r = routeAddress(fabric, issuer, addr);
    if (r.unclaimed) return null;
    const ap = this.client.host.aperture(r.target);
    return ap !== undefined && ap.bar?.index === r.bar ? ap : null;
  }

  private dmaFail(k: number, v: number, reason: string, values: number[], write: boolean): DmaResult {
    return { ret: -EFAULT, cpages: k, values: write ? undefined : values, page: v, reason };
  }
}
