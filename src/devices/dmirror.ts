// Models: the dmirror test driver of lib/test_hmm.c (the THP device-migration tree, linux-mm
// 05ab5121) over one Device: a mirror page table per process (each open() of /dev/hmm_dmirrorN,
// sparse like the CPU's), kept coherent by an interval notifier that skips the device's own
// migrations; the ioctls READ, WRITE, MIGRATE_TO_DEV, MIGRATE_TO_SYS, SNAPSHOT, EXCLUSIVE,
// CHECK_EXCLUSIVE, RELEASE and FLAGS after the generic checks of dmirror_fops_unlocked_ioctl, with
// their cpages/faults counting (hmm-tests-cases.md §2, §6); device THPs (one compound migrate
// entry per 2 MiB folio); and migrate_to_ram for its device-private pages. With `p2p` a
// READ/WRITE/SNAPSHOT asks for HMM_PFN_ALLOW_P2P: another device's private page comes back as
// that owner's P2PDMA page, which the copy reaches through the owner's BAR aperture. A device
// with a BAR aperture offers get_dma_pfn_for_device in the page-map ops it registers.
// Leaves out: the bounce buffer and copy_to_user (-EFAULT on a bad user pointer), the 1 s
// retry timeout (a retry cap stands for it), and eviction on close.
import { Mm } from "../memory/address-space.js";
import { EBUSY, EFAULT, EINVAL, ENOENT, ENOMEM, EPERM } from "../memory/errno.js";
import { makeDeviceExclusive } from "../memory/exclusive.js";
import { CHUNK_SHIFT, FRAME_BITS, type FrameTable, POOL_COHERENT, POOL_P2PDMA, POOL_PRIVATE, POOL_RAM, ZERO_PFN } from "../memory/frames.js";
import type { Memory } from "../memory/memory.js";
import { MMU_NOTIFY_MIGRATE, NotifierRange } from "../memory/mmu-notifier.js";
import { VM_FAULT_SIGBUS } from "../memory/pagemap.js";
import { KIND_DEVICE_PRIVATE, KIND_PRESENT, PTE_KIND_SHIFT, PTE_PFN_MASK } from "../memory/pte.js";
import { BlockDirectory, inBlock, nextBlockStart, PTRS_PER_PTE, uint32Tables } from "../memory/page-table.js";
import { PROT_READ } from "../memory/vma.js";
import {
  HMM_PFN_ALLOW_P2P, HMM_PFN_ERROR, HMM_PFN_LEVEL_MASK, HMM_PFN_LEVEL_SHIFT, HMM_PFN_REQ_FAULT, HMM_PFN_REQ_WRITE, HMM_PFN_VALID,
  HMM_PFN_WRITE,
} from "../hmm/hmm-pfn.js";
import {
  IntervalNotifier, intervalNotifierInsert, intervalNotifierRemove, readBegin, readRetry, setSeq,
} from "../hmm/interval-notifier.js";
import {
  HPAGE_PMD_NR, MIGRATE_PFN_COMPOUND, MIGRATE_PFN_MIGRATE, MIGRATE_PFN_SHIFT, MIGRATE_PFN_VALID, MIGRATE_PFN_WRITE,
  MIGRATE_VMA_SELECT_COMPOUND, MIGRATE_VMA_SELECT_DEVICE_COHERENT, MIGRATE_VMA_SELECT_DEVICE_PRIVATE,
  MIGRATE_VMA_SELECT_SYSTEM, MigrateVma, migratedEntries, migratePfn, migrateVmaFinalize, migrateVmaPages, migrateVmaRange,
  migrateVmaSetup, newMigrateVma,
} from "../hmm/migrate.js";
import { rangeFault } from "../hmm/range-fault.js";
import { PMD_ORDER } from "../memory/vma.js";
import type { CopyCause } from "../memory/events.js";
import type { BarAperture } from "./bar-aperture.js";
import { Device, DeviceSpec, DmaBatch } from "./device.js";
import { hex, PAGE_SIZE } from "../units/size.js";

/** HMM_DMIRROR_PROT_* snapshot bytes (lib/test_hmm_uapi.h). */
export const PROT_ERROR = 0xff;
export const PROT_NONE = 0x00;
export const PROT_READ_BYTE = 0x01;
export const PROT_WRITE_BYTE = 0x02;
export const PROT_PMD = 0x04;
export const PROT_PUD = 0x08;
export const PROT_ZERO = 0x10;
export const PROT_DEV_PRIVATE_LOCAL = 0x20;
export const PROT_DEV_PRIVATE_REMOTE = 0x30;
export const PROT_DEV_COHERENT_LOCAL = 0x40;
export const PROT_DEV_COHERENT_REMOTE = 0x50;
/** The kit's own qualifier (not in test_hmm_uapi.h): a peer's P2PDMA page inside its BAR. */
export const PROT_P2P = 0x60;
/** HMM_DMIRROR_FLAG_FAIL_ALLOC. */
export const FLAG_FAIL_ALLOC = 1;

// Module-local copies for the per-page loops: V8 reloads an imported or exported binding from its
// cell at each use in optimized code, but folds a module-local const.
const M_VALID = MIGRATE_PFN_VALID;
const M_MIGRATE = MIGRATE_PFN_MIGRATE;
const M_WRITE = MIGRATE_PFN_WRITE;
const M_COMPOUND = MIGRATE_PFN_COMPOUND;
const M_SHIFT = MIGRATE_PFN_SHIFT;
const CHUNK = CHUNK_SHIFT;
const RAM_POOL = POOL_RAM;
const P2PDMA_POOL = POOL_P2PDMA;
const ZERO = ZERO_PFN;
const PFN_MASK = PTE_PFN_MASK;
const LEVEL_SHIFT = HMM_PFN_LEVEL_SHIFT;
const PMD_NR = HPAGE_PMD_NR;
const BYTE_ERROR = PROT_ERROR;
const BYTE_NONE = PROT_NONE;
const BYTE_ZERO = PROT_ZERO;

/** Pages per hmm_range_fault call in dmirror_fault / dmirror_snapshot. */
const FAULT_CHUNK = 32;
/** Pages per walk of a snapshot that cannot be invalidated while it runs (no P2P). */
const SNAPSHOT_CHUNK = 4096;
/** Pages per migrate_vma call (PTRS_PER_PTE). */
const MIGRATE_CHUNK = 512;
/** Stands for HMM_RANGE_DEFAULT_TIMEOUT: retries before -EBUSY. */
const MAX_RETRIES = 1000;

/** Mirror entries: frame plus xarray tags (DPT_XA_TAG_WRITE / DPT_XA_TAG_ATOMIC). */
const PT_PRESENT = 1 << 31;
const PT_WRITE = 1 << 30;
const PT_ATOMIC = 1 << 29;

/** The ioctl's struct hmm_dmirror_cmd outputs, plus the data a read returns and where it failed. */
export interface DmirrorCmd {
  /** 0 or a negative errno. */
  ret: number;
  cpages: number;
  faults: number;
  values?: Float64Array | number[];
  bytes?: Uint8Array;
  /** On failure: the page (virtual page number) and why. */
  page?: number;
  reason?: string;
}

/** Options of a READ, WRITE or SNAPSHOT. */
export interface AccessOptions {
  /** Ask for HMM_PFN_ALLOW_P2P: another device's private page is reached through its BAR. */
  p2p?: boolean;
}

const BOUNCE_REASON = "the bounce buffer does not fit in RAM (dmirror_bounce_init)";

function fail(ret: number, page: number, reason: string): DmirrorCmd {
  return { ret, cpages: 0, faults: 0, page, reason };
}

/** The driver for one dmirror device: its pagemap ops and one Dmirror per process. */
export class DmirrorDevice {
  readonly device: Device;
  readonly mirrors = new Map<Mm, Dmirror>();

  /** `aperture`: the BAR window through which peers reach this device's private pages, if any. */
  constructor(readonly mem: Memory, spec: DeviceSpec, readonly aperture: BarAperture | null = null) {
    const privateMemory = spec.zoneDevice === "private";
    this.device = new Device(mem, spec, {
      pageFree: () => {},
      migrateToRam: privateMemory ? (mm, vpn, frame) => this.devmemFault(mm, vpn, frame) : undefined,
      getDmaPfnForDevice: privateMemory && aperture ? (frame, mm, vpn) => aperture.aliasFor(frame, mm, vpn) : undefined,
    });
  }

  get id(): string {
    return this.device.id;
  }

  /** open("/dev/hmm_dmirrorN") by `mm`: the mirror is created on first use and kept. */
  open(mm: Mm): Dmirror {
    let d = this.mirrors.get(mm);
    if (!d) {
      d = new Dmirror(this, mm);
      this.mirrors.set(mm, d);
    }
    return d;
  }

  /** dmirror_devmem_fault: migrate the faulting page (or its whole PMD-mapped device THP) back to RAM. */
  private devmemFault(mm: Mm, vpn: number, frame: number): number {
    const vma = mm.find(vpn);
    if (!vma) return VM_FAULT_SIGBUS;
    const region = vma.region;
    const idx = Mm.index(vma, vpn);
    let start = vpn;
    let end = vpn + 1;
    let flags = MIGRATE_VMA_SELECT_DEVICE_PRIVATE;
    if (region.isHuge(idx)) {
      start = vpn - (idx % (1 << region.order));
      end = start + (1 << region.order);
      flags |= MIGRATE_VMA_SELECT_COMPOUND;
    }
    const args = newMigrateVma(mm, start, end, flags, this.device, frame);
    if (migrateVmaSetup(args) !== 0) return VM_FAULT_SIGBUS;
    const ret = this.allocToRam(args, this.mirrors.get(mm) ?? null, "fault");
    migrateVmaPages(args);
    migrateVmaFinalize(args);
    return ret === 0 ? 0 : VM_FAULT_SIGBUS;
  }

  /**
   * dmirror_devmem_fault_alloc_and_copy: a RAM page (or a huge folio, for a compound entry) per
   * collected device page, contents copied by the DMA engine, mirror entries erased. FAIL_ALLOC
   * makes a huge folio fall back to base pages, and fails a base page with -ENOMEM.
   */
  allocToRam(args: MigrateVma, mirror: Dmirror | null, cause: CopyCause): number {
    if (!(mirror && mirror.flags & FLAG_FAIL_ALLOC) && this.allocToRamBase(args, mirror, cause)) return 0;
    const { src, dst, npages } = args;
    const mem = this.mem;
    /** Base pages copied one by one, and pages of huge folios copied whole. */
    let copied = 0;
    let copiedHuge = 0;
    // Mirror entries are erased per run of collected pages (xa_erase per page in the driver).
    let eraseFrom = -1;
    let ret = 0;
    let o = 0;
    while (o < npages) {
      const s = src[o];
      if (!(s & MIGRATE_PFN_MIGRATE) || !(s & MIGRATE_PFN_VALID)) {
        if (eraseFrom >= 0) mirror?.eraseRange(args.start + eraseFrom, args.start + o);
        eraseFrom = -1;
        o++;
        continue;
      }
      const n = s & MIGRATE_PFN_COMPOUND ? HPAGE_PMD_NR : 1;
      let base = -1;
      if (mirror && mirror.flags & FLAG_FAIL_ALLOC) mirror.flags &= ~FLAG_FAIL_ALLOC;
      else base = n > 1 ? mem.allocRamContig(PMD_ORDER) : mem.allocRam();
      if (base < 0 && n === 1) {
        ret = -ENOMEM;
        break;
      }
      dst[o] = base >= 0 ? migratePfn(base) | (n > 1 ? MIGRATE_PFN_COMPOUND : 0) | (s & MIGRATE_PFN_WRITE) : 0;
      const sf = s >>> MIGRATE_PFN_SHIFT;
      let k = 0;
      for (; k < n; k++) {
        let f = base + k;
        if (base < 0) {
          // Try with smaller pages if the large allocation failed.
          f = mem.allocRam();
          if (f < 0) break;
          dst[o + k] = migratePfn(f);
        }
        const content = mem.frames.content; // after the allocation: it may have grown the frame table
        content[f] = content[sf + k];
        if (base >= 0 && n > 1) copiedHuge++;
        else copied++;
      }
      if (k < n) {
        for (let i = 0; i < k; i++) mem.frames.put(dst[o + i] >>> MIGRATE_PFN_SHIFT);
        dst.fill(0, o, o + n);
        ret = -ENOMEM;
        break;
      }
      if (eraseFrom < 0) eraseFrom = o;
      o += n;
    }
    if (eraseFrom >= 0) mirror?.eraseRange(args.start + eraseFrom, args.start + o);
    const dma = new DmaBatch(mem, cause);
    dma.copyPages(this.device.pool.id, mem.ram[0].id, copied);
    dma.copyPages(this.device.pool.id, mem.ram[0].id, copiedHuge, HPAGE_PMD_NR * PAGE_SIZE);
    dma.flush();
    return ret;
  }


  /**
   * allocToRam when every collected entry is a base page and no allocation is to fail: the RAM
   * pages come from one allocMany call on node 0 (in entry order, as one alloc_page per entry);
   * returns false (nothing done) for any other case, or when RAM runs short.
   */
  private allocToRamBase(args: MigrateVma, mirror: Dmirror | null, cause: CopyCause): boolean {
    const { src, dst, npages } = args;
    const frames = this.mem.frames;
    let need = 0;
    for (let o = 0; o < npages; o++) {
      const s = src[o];
      if (!(s & M_MIGRATE) || !(s & M_VALID)) continue;
      if (s & M_COMPOUND) return false;
      need++;
    }
    if (this.scratch.length < need) this.scratch = new Int32Array(need);
    const ram = this.mem.ram[0];
    const got = frames.allocMany(ram, need, this.scratch);
    if (got < need) {
      for (let k = got - 1; k >= 0; k--) frames.put(this.scratch[k]); // back as they came: the general path retries
      return false;
    }
    const content = frames.content;
    let eraseFrom = -1;
    for (let o = 0, k = 0; o <= npages; o++) {
      const s = o < npages ? src[o] : 0;
      if (!(s & M_MIGRATE) || !(s & M_VALID)) {
        if (eraseFrom >= 0) mirror?.eraseRange(args.start + eraseFrom, args.start + o);
        eraseFrom = -1;
        continue;
      }
      const f = this.scratch[k++];
      dst[o] = migratePfn(f) | (s & M_WRITE);
      content[f] = content[s >>> M_SHIFT];
      if (eraseFrom < 0) eraseFrom = o;
    }
    const dma = new DmaBatch(this.mem, cause);
    dma.copyPages(this.device.pool.id, ram.id, need);
    dma.flush();
    return true;
  }

  /** Frames handed out by one allocMany call (grown as needed). */
  private scratch = new Int32Array(0);

  /** Evicts every page of this device from every process back to RAM (migrate_device_range), reading only page tables that exist. */
  evictAll(): void {
    const frames = this.mem.frames;
    const poolId = this.device.pool.id;
    const wantKind = this.device.isPrivate ? KIND_DEVICE_PRIVATE : KIND_PRESENT;
    for (const mm of this.mem.mms.slice()) {
      for (const vma of mm.vmas.slice()) {
        const region = vma.region;
        const i1 = Mm.index(vma, vma.end);
        let runStart = -1;
        const flush = (v: number) => {
          if (runStart >= 0) this.migrateOut(mm, runStart, v, this.mirrors.get(mm) ?? null);
          runStart = -1;
        };
        for (let i = region.next(vma.regionOff, i1); i < i1; ) {
          const stop = Math.min(i1, nextBlockStart(i));
          const b = region.block(i)!;
          for (let j = inBlock(i); i < stop; i++, j++) {
            const p = b[j];
            const f = p & PTE_PFN_MASK;
            const mine = p >>> PTE_KIND_SHIFT === wantKind && f !== ZERO_PFN && frames.chunkPool[f >>> CHUNK_SHIFT] === poolId;
            const v = vma.start + (i - vma.regionOff);
            if (!mine || v - runStart >= MIGRATE_CHUNK) flush(v);
            if (mine && runStart < 0) runStart = v;
          }
          const next = region.next(stop, i1);
          if (next !== stop) flush(vma.start + (stop - vma.regionOff));
          i = next;
        }
        flush(vma.end);
      }
    }
  }

  /** One migrate_vma of this device's pages in [start, end) to RAM; returns the entries moved (a THP counts once) or -errno. */
  migrateOut(mm: Mm, start: number, end: number, mirror: Dmirror | null, reuse?: MigrateVma): number {
    const select = this.device.isPrivate ? MIGRATE_VMA_SELECT_DEVICE_PRIVATE : MIGRATE_VMA_SELECT_DEVICE_COHERENT;
    const args = reuse ? migrateVmaRange(reuse, start, end) : newMigrateVma(mm, start, end, select | MIGRATE_VMA_SELECT_COMPOUND, this.device);
    const ret = migrateVmaSetup(args);
    if (ret !== 0) return ret;
    const err = this.allocToRam(args, mirror, "migrate");
    migrateVmaPages(args);
    const moved = migratedEntries(args); // dmirror_successful_migrated_pages: one per compound entry
    migrateVmaFinalize(args);
    return err !== 0 ? err : moved;
  }
}

/** One open file of the device: the mirror of one process. */
export class Dmirror {
  /** dmirror->pt: one entry per virtual page (0 = none), in blocks made on first store, as the xarray keyed by pfn. */
  private readonly pt = new BlockDirectory<Uint32Array>(uint32Tables());
  readonly notifier: IntervalNotifier;
  /** dmirror->flags (HMM_DMIRROR_FLAGS). */
  flags = 0;
  /** Frames handed out by one allocMany call (grown as needed). */
  private scratch = new Int32Array(0);

  constructor(readonly driver: DmirrorDevice, readonly mm: Mm) {
    const sub = intervalNotifierInsert(mm, 0, 2 ** 36, { invalidate: (s, range, cur) => this.invalidate(s, range, cur) });
    if (typeof sub === "number") throw new Error(`dmirror open on an exited process ${mm.name}`);
    this.notifier = sub;
  }

  /** Bytes of mirror page-table state held (for the state-per-page figure). */
  mirrorBytes(): number {
    return this.pt.count * PTRS_PER_PTE * Uint32Array.BYTES_PER_ELEMENT;
  }

  private get mem(): Memory {
    return this.driver.mem;
  }

  /** dmirror_interval_invalidate: skip own migrations, else erase the range and bump the sequence. */
  private invalidate(sub: IntervalNotifier, range: NotifierRange, cur: number): boolean {
    if (range.event === MMU_NOTIFY_MIGRATE && range.owner === this.driver.device) return true;
    setSeq(sub, cur);
    this.eraseRange(range.start, range.end);
    return true;
  }

  /** dmirror_do_update / xa_erase over pages [start, end): only blocks that exist are touched. */
  eraseRange(start: number, end: number): void {
    const t = this.pt;
    for (let v = t.next(start, end); v < end; ) {
      const stop = Math.min(end, nextBlockStart(v));
      t.get(v)!.fill(0, inBlock(v), inBlock(v) + (stop - v));
      v = t.next(stop, end);
    }
  }

  /** Mirror entry of page `vpn` (0 when none). */
  entry(vpn: number): number {
    const b = this.pt.get(vpn);
    return b ? b[inBlock(vpn)] : 0;
  }

  /** Stores mirror entries for pages [vpn, vpn + n): `entry` plus k for the k-th page when `step` is 1. */
  private store(vpn: number, n: number, entry: number, step: number): void {
    for (let v = vpn; v < vpn + n; ) {
      const b = this.pt.ensure(v);
      const stop = Math.min(vpn + n, nextBlockStart(v));
      for (let j = inBlock(v); v < stop; v++, j++) b[j] = entry + step * (v - vpn);
    }
  }

  /**
   * dmirror_do_read / dmirror_do_write from `from`: copies pages present in the mirror (for a
   * write: with the WRITE tag) until one is missing. Returns the number of pages copied.
   */
  private copy(start: number, from: number, end: number, data: Float64Array | number[], write: boolean): number {
    const run: CopyRun = { start, data, write, dma: new DmaBatch(this.mem, "access"), devPool: this.driver.device.pool.id, pool: -1, pages: 0 };
    let v = from;
    while (v < end) {
      const b = this.pt.get(v);
      if (b === undefined) break;
      const blockEnd = Math.min(end, nextBlockStart(v));
      const reached = this.copyBlock(run, b, inBlock(v), v, blockEnd);
      v = reached;
      if (reached < blockEnd) break;
    }
    countCopies(run);
    run.dma.flush();
    return v - from;
  }

  /**
   * copy() over pages [v, stop) of mirror block `b` from entry `j`: returns the page it stopped at
   * (`stop` when all were present). Called per block so that it is compiled whole.
   */
  private copyBlock(run: CopyRun, b: Uint32Array, j: number, v: number, stop: number): number {
    const { start, data, write } = run;
    const frames = this.mem.frames;
    const { chunkKind, chunkPool, refcount, content } = frames;
    for (; v < stop; v++, j++) {
      const e = b[j];
      if (!(e & PT_PRESENT) || (write && !(e & PT_WRITE))) return v;
      let f = e & PFN_MASK;
      if (chunkKind[f >>> CHUNK] === P2PDMA_POOL) {
        // A peer's BAR page: the access lands on the device page its aperture slot exposes now.
        f = frames.pools[chunkPool[f >>> CHUNK]].pagemap!.ops.barTarget!(f);
        if (f < 0) {
          this.violation(v, "empty-bar-slot", write);
          return v;
        }
      }
      if (f !== ZERO && refcount[f] <= 0) this.violation(v, "freed-page", write);
      const pool = chunkPool[f >>> CHUNK];
      if (pool !== run.pool) {
        countCopies(run);
        run.pool = pool;
      }
      run.pages++;
      if (write) content[f] = data[v - start];
      else {
        // An integral value goes in as a small integer: a plain array keeps its small-integer elements.
        const x = content[f];
        const i = x | 0;
        data[v - start] = i === x && (i !== 0 || 1 / x > 0) ? i : x;
      }
    }
    return v;
  }


  private violation(vpn: number, code: "empty-bar-slot" | "freed-page", write: boolean): void {
    this.mem.events.violation({ code, device: this.driver.id, address: hex(vpn * PAGE_SIZE), access: write ? "write" : "read", via: "mirror entry" });
  }

  /** dmirror_fault: hmm_range_fault in 32-page chunks with REQ_FAULT (| REQ_WRITE), then mirror the result. */
  private fault(start: number, end: number, write: boolean, p2p: boolean): { ret: number; page: number; reason?: string } {
    const pfns = new Uint32Array(FAULT_CHUNK);
    for (let addr = start; addr < end; ) {
      const next = Math.min(end, addr + FAULT_CHUNK);
      const range = {
        notifier: this.notifier, notifierSeq: 0, start: addr, end: next, hmmPfns: pfns,
        defaultFlags: HMM_PFN_REQ_FAULT | (write ? HMM_PFN_REQ_WRITE : 0) | (p2p ? HMM_PFN_ALLOW_P2P : 0), pfnFlagsMask: 0,
        devPrivateOwner: this.driver.device as unknown,
      };
      let tries = 0;
      for (;;) {
        if (++tries > MAX_RETRIES) return { ret: -EBUSY, page: addr };
        range.notifierSeq = readBegin(this.notifier);
        const ret = rangeFault(range);
        if (ret === -EBUSY) continue;
        if (ret !== 0) return { ret, page: addr };
        if (readRetry(this.notifier, range.notifierSeq)) continue;
        break;
      }
      // dmirror_do_fault: store each page, tagged WRITE when hmm reported it writable; a write that
      // got a read-only page (its own read-only device-private page, which hmm reports without
      // faulting) fails with -EFAULT.
      for (let v = addr; v < next; v++) {
        const e = pfns[v - addr];
        if (write && !(e & HMM_PFN_WRITE)) {
          return { ret: -EFAULT, page: v, reason: "the page is read-only (hmm_range_fault reported it without HMM_PFN_WRITE: dmirror_do_fault)" };
        }
        this.store(v, 1, (PT_PRESENT | (e & HMM_PFN_WRITE ? PT_WRITE : 0) | (e & PTE_PFN_MASK)) >>> 0, 0);
      }
      addr = next;
    }
    return { ret: 0, page: start };
  }

  private readOrWrite(start: number, npages: number, write: boolean, data: Float64Array, p2p: boolean): DmirrorCmd {
    if (!(npages > 0)) return fail(-EINVAL, start, "npages is 0");
    const end = start + npages;
    let cpages = 0;
    let faults = 0;
    for (;;) {
      cpages += this.copy(start, start + cpages, end, data, write);
      if (cpages === npages) break;
      const r = this.fault(start + cpages, end, write, p2p);
      if (r.ret !== 0) return fail(r.ret, r.page, r.reason ?? reasonFor(r.ret, write));
      faults++;
      if (faults > MAX_RETRIES) return fail(-EBUSY, start + cpages, "mirror kept being invalidated");
    }
    return { ret: 0, cpages, faults, values: write ? undefined : data };
  }

  /**
   * dmirror_bounce_init: the bounce buffer of an ioctl moving data, one value per page, or null
   * when vmalloc could not find that much memory (more pages than the machine has RAM).
   */
  bounce(npages: number): Float64Array | null {
    return this.bounceFits(npages) ? new Float64Array(Math.max(0, npages)) : null;
  }

  /** Whether vmalloc finds a bounce buffer of `npages` pages (no more than the machine has RAM). */
  private bounceFits(npages: number): boolean {
    let ram = 0;
    for (const p of this.mem.ram) ram += p.capacityPages;
    return npages <= ram;
  }

  /** HMM_DMIRROR_READ. */
  read(start: number, npages: number, opts: AccessOptions = {}): DmirrorCmd {
    if (!(npages > 0)) return fail(-EINVAL, start, "npages is 0");
    const data = this.bounce(npages);
    if (data === null) return fail(-ENOMEM, start, BOUNCE_REASON);
    return this.readOrWrite(start, npages, false, data, opts.p2p ?? false);
  }

  /** HMM_DMIRROR_WRITE: `data` holds one value per page. */
  write(start: number, npages: number, data: Float64Array, opts: AccessOptions = {}): DmirrorCmd {
    return this.readOrWrite(start, npages, true, data, opts.p2p ?? false);
  }

  /**
   * The read-back after a migrate or exclusive: pages mirrored from `start` until the first hole
   * (-ENOENT), their values straight into a plain array (what the caller hands out).
   */
  private readBack(start: number, npages: number): DmirrorCmd {
    if (!this.bounceFits(npages)) return fail(-ENOMEM, start, BOUNCE_REASON);
    const data = new Array<number>(npages).fill(0);
    const cpages = this.copy(start, start, start + npages, data, false);
    if (cpages < npages) return fail(-ENOENT, start + cpages, "page is not mirrored by this device after the operation");
    return { ret: 0, cpages, faults: 0, values: data };
  }

  /** The VMA walk of dmirror_migrate_to_device/system: -EINVAL without a readable VMA. */
  private chunks(start: number, end: number, migrateChunk: (addr: number, next: number) => number): { ret: number; page: number } {
    for (let addr = start; addr < end; ) {
      const vma = this.mm.find(addr);
      if (!vma || !(vma.prot & PROT_READ)) return { ret: -EINVAL, page: addr };
      const next = Math.min(end, addr + MIGRATE_CHUNK, vma.end);
      const ret = migrateChunk(addr, next);
      if (ret < 0) return { ret, page: addr };
      addr = next;
    }
    return { ret: 0, page: start };
  }

  /** HMM_DMIRROR_MIGRATE_TO_DEV. */
  migrateToDevice(start: number, npages: number): DmirrorCmd {
    if (!(npages > 0)) return fail(-EINVAL, start, "npages is 0");
    // src/dst arrays of PTRS_PER_PTE entries, allocated once per ioctl as the driver does.
    const flags = MIGRATE_VMA_SELECT_SYSTEM | MIGRATE_VMA_SELECT_COMPOUND;
    const reuse = newMigrateVma(this.mm, start, start + Math.min(npages, MIGRATE_CHUNK), flags, this.driver.device);
    const r = this.chunks(start, start + npages, (addr, next) => {
      const args = migrateVmaRange(reuse, addr, next);
      const ret = migrateVmaSetup(args);
      if (ret !== 0) return ret;
      this.allocAndCopy(args);
      migrateVmaPages(args);
      this.finalizeAndMap(args);
      migrateVmaFinalize(args);
      return 0;
    });
    if (r.ret !== 0) return fail(r.ret, r.page, "no readable VMA covers the page");
    return this.readBack(start, npages);
  }

  /**
   * dmirror_migrate_alloc_and_copy: a device page per collected entry, or a device THP for a
   * compound one (device memory grows in 256 MiB chunks as dmirror_allocate_chunk does, up to
   * what the topology gives the device), filled by the DMA engine (zeroed for holes), writable
   * exactly when the source entry was (MIGRATE_PFN_WRITE). A source already in device memory is
   * left (the driver's WARN). FAIL_ALLOC fails the next allocation once: a THP falls back to 512
   * base pages, a base page stays behind.
   */
  private allocAndCopy(args: MigrateVma): void {
    if (!(this.flags & FLAG_FAIL_ALLOC) && this.allocAndCopyBase(args)) return;
    const { src, dst, npages } = args;
    const frames = this.mem.frames;
    const pool = this.driver.device.pool;
    const dma = new DmaBatch(this.mem, "migrate");
    for (let o = 0; o < npages; ) {
      const s = src[o];
      if (!(s & MIGRATE_PFN_MIGRATE)) {
        o++;
        continue;
      }
      const large = (s & MIGRATE_PFN_COMPOUND) !== 0;
      const n = large ? HPAGE_PMD_NR : 1;
      const write = s & MIGRATE_PFN_WRITE;
      const sf = s & MIGRATE_PFN_VALID ? s >>> MIGRATE_PFN_SHIFT : -1;
      if (sf >= 0 && frames.chunkKind[sf >>> CHUNK_SHIFT] !== POOL_RAM) {
        o += n;
        continue;
      }
      let base = -1;
      if (this.flags & FLAG_FAIL_ALLOC) this.flags &= ~FLAG_FAIL_ALLOC;
      else base = large ? frames.allocContig(pool, n) : frames.alloc(pool);
      if (base < 0 && large) {
        for (let k = 0; k < n; k++) {
          const f = frames.alloc(pool);
          if (f < 0) continue;
          dst[o + k] = migratePfn(f) | write;
          if (sf >= 0) this.fill(dma, f, sf + k);
        }
      } else if (base >= 0) {
        dst[o] = migratePfn(base) | write | (large ? MIGRATE_PFN_COMPOUND : 0);
        if (sf >= 0 && large) {
          // folio_copy of the whole THP: one huge page for the copy's per-page costs.
          frames.content.copyWithin(base, sf, sf + n);
          dma.copyPages(frames.chunkPool[sf >>> CHUNK_SHIFT], pool.id, n, n * PAGE_SIZE);
        } else if (sf >= 0) this.fill(dma, base, sf);
      }
      o += n;
    }
    dma.flush();
  }

  /**
   * allocAndCopy when every collected entry is a base page of RAM or a hole and no allocation is
   * to fail: the device pages come from one allocMany call, given out in entry order as one
   * allocation per entry would. Returns false (nothing done) for any other case.
   */
  private allocAndCopyBase(args: MigrateVma): boolean {
    const { src, dst, npages } = args;
    const frames = this.mem.frames;
    const { chunkKind, chunkPool } = frames;
    let need = 0;
    for (let o = 0; o < npages; o++) {
      const s = src[o];
      if (!(s & M_MIGRATE)) continue;
      if (s & M_COMPOUND || (s & M_VALID && chunkKind[s >>> M_SHIFT >>> CHUNK] !== RAM_POOL)) return false;
      need++;
    }
    const pool = this.driver.device.pool;
    if (this.scratch.length < need) this.scratch = new Int32Array(need);
    const got = frames.allocMany(pool, need, this.scratch);
    const content = frames.content; // after allocMany: it may have grown the frame table
    const dma = new DmaBatch(this.mem, "migrate");
    let runPool = -1;
    let runPages = 0;
    for (let o = 0, k = 0; o < npages && k < got; o++) {
      const s = src[o];
      if (!(s & M_MIGRATE)) continue;
      const f = this.scratch[k++];
      dst[o] = ((f << M_SHIFT) | M_VALID | (s & M_WRITE)) >>> 0;
      if (!(s & M_VALID)) continue;
      const sf = s >>> M_SHIFT;
      content[f] = content[sf];
      const from = chunkPool[sf >>> CHUNK];
      if (from !== runPool) {
        dma.copyPages(runPool, pool.id, runPages);
        runPool = from;
        runPages = 0;
      }
      runPages++;
    }
    dma.copyPages(runPool, pool.id, runPages);
    dma.flush();
    return true;
  }

  /** copy_highpage of RAM frame `from` into device frame `to` by the DMA engine. */
  private fill(dma: DmaBatch, to: number, from: number): void {
    const frames = this.mem.frames;
    frames.content[to] = frames.content[from];
    dma.copy(frames.chunkPool[from >>> CHUNK_SHIFT], this.driver.device.pool.id);
  }

  /** dmirror_migrate_finalize_and_map: mirror every page that migrate_vma_pages kept (all 512 of a THP), tagged WRITE when dst is. */
  private finalizeAndMap(args: MigrateVma): void {
    const { src, dst } = args;
    // Runs of entries whose pages follow each other in device memory are stored together.
    let runStart = -1;
    let runEntry = 0;
    let runLen = 0;
    for (let o = 0; o <= args.npages; o++) {
      let entry = 0;
      let n = 0;
      if (o < args.npages && src[o] & M_MIGRATE && dst[o] & M_VALID) {
        const d = dst[o];
        n = d & M_COMPOUND ? PMD_NR : 1;
        entry = PT_PRESENT | (d & M_WRITE ? PT_WRITE : 0) | (d >>> M_SHIFT); // int32: the table stores its bits
      }
      if (n > 0 && runLen > 0 && o === runStart + runLen && entry === runEntry + runLen) {
        runLen += n;
        continue;
      }
      if (runLen > 0) this.store(args.start + runStart, runLen, runEntry, 1);
      runStart = o;
      runEntry = entry;
      runLen = n;
    }
  }

  /** HMM_DMIRROR_MIGRATE_TO_SYS: cpages counts this device's pages that moved. */
  migrateToSystem(start: number, npages: number): DmirrorCmd {
    if (!(npages > 0)) return fail(-EINVAL, start, "npages is 0");
    let cpages = 0;
    const select = this.driver.device.isPrivate ? MIGRATE_VMA_SELECT_DEVICE_PRIVATE : MIGRATE_VMA_SELECT_DEVICE_COHERENT;
    const reuse = newMigrateVma(this.mm, start, start + Math.min(npages, MIGRATE_CHUNK), select | MIGRATE_VMA_SELECT_COMPOUND, this.driver.device);
    const r = this.chunks(start, start + npages, (addr, next) => {
      const moved = this.driver.migrateOut(this.mm, addr, next, this, reuse);
      if (moved > 0) cpages += moved;
      return moved < 0 ? moved : 0;
    });
    if (r.ret !== 0) {
      return fail(r.ret, r.page, r.ret === -ENOMEM ? "system page allocation failed" : "no readable VMA covers the page");
    }
    return { ret: 0, cpages, faults: 0 };
  }

  /**
   * HMM_DMIRROR_SNAPSHOT: one byte per page from hmm_range_fault without faulting, each chunk
   * under a temporary interval notifier (dmirror_range_snapshot). With `sink`, each chunk's bytes
   * go to it (at their offset in the range; the buffer is reused) and none are kept; else they
   * come back as `bytes`. Without P2P nothing can invalidate a walk that never faults, so chunks
   * are larger than the driver's 32 pages (the same bytes, fewer notifier inserts).
   */
  snapshot(start: number, npages: number, opts: AccessOptions = {}, sink?: (bytes: Uint8Array, at: number) => void): DmirrorCmd {
    const p2p = opts.p2p ?? false;
    if (!(npages > 0)) return fail(-EINVAL, start, "npages is 0");
    const all = sink === undefined ? new Uint8Array(npages) : null;
    const chunk = p2p ? FAULT_CHUNK : SNAPSHOT_CHUNK;
    const pfns = new Uint32Array(chunk);
    const perm = new Uint8Array(chunk);
    const ops = { invalidate: (s: IntervalNotifier, _r: NotifierRange, cur: number) => (setSeq(s, cur), true) };
    const entries = new SnapshotEntries(this.mem.frames, this.driver.device);
    for (let addr = start; addr < start + npages; ) {
      const next = Math.min(start + npages, addr + chunk);
      const sub = intervalNotifierInsert(this.mm, addr, next - addr, ops);
      if (typeof sub === "number") return fail(-EINVAL, addr, "process has exited");
      const range = {
        notifier: sub, notifierSeq: 0, start: addr, end: next, hmmPfns: pfns,
        defaultFlags: p2p ? HMM_PFN_ALLOW_P2P : 0, pfnFlagsMask: 0, devPrivateOwner: this.driver.device as unknown,
      };
      let ret = 0;
      for (let tries = 0; ; tries++) {
        if (tries > MAX_RETRIES) {
          ret = -EBUSY;
          break;
        }
        range.notifierSeq = readBegin(sub);
        ret = rangeFault(range);
        if (ret === -EBUSY) continue;
        if (ret !== 0 || !readRetry(sub, range.notifierSeq)) break;
      }
      intervalNotifierRemove(sub);
      if (ret !== 0) return fail(ret, addr, "hmm_range_fault failed");
      const n = next - addr;
      if (all !== null) entries.fill(pfns, n, all, addr - start);
      else {
        entries.fill(pfns, n, perm, 0);
        sink!(perm.subarray(0, n), addr - start);
      }
      addr = next;
    }
    return { ret: 0, cpages: npages, faults: 0, bytes: all ?? undefined };
  }

  /** HMM_DMIRROR_EXCLUSIVE: make_device_exclusive per page, ATOMIC mirror entries, read-back. */
  exclusive(start: number, npages: number): DmirrorCmd {
    if (!(npages > 0)) return fail(-EINVAL, start, "npages is 0");
    let ret = 0;
    let v = start;
    const got: number[] = [];
    for (; v < start + npages; v++) {
      const f = makeDeviceExclusive(this.mm, v, this.driver.device);
      if (f < 0) {
        ret = f;
        break;
      }
      got.push(f);
    }
    // dmirror_atomic_map for the pages made exclusive.
    for (let k = 0; k < got.length; k++) this.store(start + k, 1, (PT_PRESENT | PT_ATOMIC | got[k]) >>> 0, 0);
    if (ret !== 0) return fail(ret, v, "make_device_exclusive failed (not an anonymous writable page)");
    return this.readBack(start, npages);
  }

  /** HMM_DMIRROR_CHECK_EXCLUSIVE: -EPERM while any page still has an ATOMIC entry. */
  checkExclusive(start: number, npages: number): DmirrorCmd {
    if (!(npages > 0)) return fail(-EINVAL, start, "npages is 0");
    for (let v = start; v < start + npages; v++) {
      if (this.entry(v) & PT_ATOMIC) return fail(-EPERM, v, "page is still mapped for device atomic access");
    }
    return { ret: 0, cpages: 0, faults: 0 };
  }

  /** HMM_DMIRROR_RELEASE: evicts every page of the device (the range is only checked, not used). */
  release(start: number, npages: number): DmirrorCmd {
    if (!(npages > 0)) return fail(-EINVAL, start, "npages is 0");
    this.driver.evictAll();
    return { ret: 0, cpages: 0, faults: 0 };
  }

  /**
   * HMM_DMIRROR_FLAGS: the flag word travels in cmd.npages, so the ioctl's generic checks apply to
   * it (dmirror_fops_unlocked_ioctl: addr >= addr + (npages << PAGE_SHIFT) is -EINVAL): 0 fails.
   */
  setFlags(flags: number): DmirrorCmd {
    if (!(flags > 0)) return { ret: -EINVAL, cpages: 0, faults: 0, reason: "the flag word travels in npages, and npages 0 fails the ioctl's generic checks" };
    this.flags = flags;
    return { ret: 0, cpages: 0, faults: 0 };
  }
}

/** One copy() call: the data, and the pages copied from (or to) one pool not yet counted. */
interface CopyRun {
  start: number;
  data: Float64Array | number[];
  write: boolean;
  dma: DmaBatch;
  devPool: number;
  pool: number;
  pages: number;
}

/** Counts the run's pages of one pool as DMA copies (device to memory for a write, back for a read). */
function countCopies(run: CopyRun): void {
  if (run.pages > 0) run.dma.copyPages(run.write ? run.devPool : run.pool, run.write ? run.pool : run.devPool, run.pages);
  run.pages = 0;
}

/**
 * The access and map-level bits of a snapshot byte by the top five bits of an hmm_pfns entry
 * (VALID, WRITE, ERROR, map level): -1 for ERROR, -2 for an entry that is not VALID.
 */
const HIGH_BYTE = new Int8Array(32);
for (let top = 0; top < 32; top++) {
  const e = top << HMM_PFN_LEVEL_SHIFT;
  const level = (e & HMM_PFN_LEVEL_MASK) >>> HMM_PFN_LEVEL_SHIFT;
  if (e & HMM_PFN_ERROR) HIGH_BYTE[top] = -1;
  else if (!(e & HMM_PFN_VALID)) HIGH_BYTE[top] = -2;
  else HIGH_BYTE[top] = (e & HMM_PFN_WRITE ? PROT_WRITE_BYTE : PROT_READ_BYTE) | (level === 1 ? PROT_PMD : level === 2 ? PROT_PUD : 0);
}

/**
 * dmirror_mkentry over a run of hmm_pfns: the byte of each entry, with the memory kind of each
 * 256 MiB frame chunk looked up once per snapshot.
 */
class SnapshotEntries {
  /** Byte qualifier (PROT_DEV_*, PROT_P2P, or PROT_NONE for RAM) per frame chunk, -1 until looked up. */
  private readonly kindOfChunk = new Int16Array(1 << (FRAME_BITS - CHUNK_SHIFT)).fill(-1);
  constructor(private readonly frames: FrameTable, private readonly device: unknown) {}

  fill(pfns: Uint32Array, n: number, out: Uint8Array, at: number): void {
    const kinds = this.kindOfChunk;
    for (let i = 0; i < n; i++) {
      const e = pfns[i];
      const high = HIGH_BYTE[e >>> LEVEL_SHIFT];
      if (high < 0) {
        out[at + i] = high === -1 ? BYTE_ERROR : BYTE_NONE;
        continue;
      }
      const f = e & PFN_MASK;
      let k = kinds[f >>> CHUNK];
      if (k < 0) k = kinds[f >>> CHUNK] = this.kindOf(f);
      out[at + i] = (f === ZERO ? BYTE_ZERO : k) | high;
    }
  }

  /** Is the page migrated to this device or some other (dmirror_mkentry)? */
  private kindOf(f: number): number {
    const pool = this.frames.poolOf(f);
    const local = pool.pagemap?.owner === this.device;
    if (pool.kind === POOL_PRIVATE) return local ? PROT_DEV_PRIVATE_LOCAL : PROT_DEV_PRIVATE_REMOTE;
    if (pool.kind === POOL_COHERENT) return local ? PROT_DEV_COHERENT_LOCAL : PROT_DEV_COHERENT_REMOTE;
    if (pool.kind === POOL_P2PDMA) return PROT_P2P;
    return PROT_NONE;
  }
}

function reasonFor(ret: number, write: boolean): string {
  if (ret === -EPERM) return "write fault on a VMA without write permission";
  if (ret === -EBUSY) return "hmm_range_fault kept returning -EBUSY";
  return write ? "page cannot be faulted in for writing (no VMA or no access)" : "page cannot be faulted in (no VMA or no read access)";
}


