// Models: what the machine publishes where it happens, to subscribers given when it is built, in
// the order they were given (as QEMU's MemoryListener list): page faults, notifier invalidations,
// migrations, copies by DMA engines and device accesses, page frees, peer mappings and their
// teardown, and safety violations. Counters, the cost layer and the P2P side all subscribe here
// instead of patching each other or diffing counters. Leaves out: unsubscribing (a machine keeps
// its subscribers for life) and events inside hot per-page loops (publishers batch: one event
// per fault, per notifier round, per migrate_vma call, per copy run; a run of first-touch faults
// on consecutive pages is one call to listeners that take runs).
import type { Mm } from "./address-space.js";
import type { Pool } from "./frames.js";
import type { NotifierRange } from "./mmu-notifier.js";
import { PAGE_SIZE } from "../units/size.js";

/** Why bytes moved: a migration asked for (migrate_vma by a driver), one a fault caused
 *  (migrate_to_ram), or a device reading or writing memory it maps (no page changes owner). */
export type CopyCause = "migrate" | "fault" | "access";

/** What a DMA that reached a page after it was given back did wrong (the checker's verdicts). */
export type ViolationCode =
  /** The BAR slot the DMA hit exposes no page any more. */
  | "empty-bar-slot"
  /** The page reached is free. */
  | "freed-page"
  /** The process no longer maps the address (unmapped, or mid-migration). */
  | "unmapped"
  /** Another page backs the address now (migrated away, BAR slot or IOVA reused). */
  | "moved"
  /** The page was freed and reused since the mapping was made. */
  | "reused"
  /** A write to a page the CPU maps read-only now (COW-shared after fork, or mprotected). */
  | "read-only"
  /** A write that landed on a page that no longer backs the address: the data is lost. */
  | "lost-write"
  /** An access through a mapping made before an invalidation of its page had returned to the core
   *  (after the callback the driver must no longer use it: mmu_notifier.h, hmm-semantics.md §2.2). */
  | "after-invalidation"
  /** An access through a mapping of a pinned page whose pin the driver dropped, after the page moved or went. */
  | "unpinned"
  /** A driver's retry loop did not end (hmm_range_fault kept returning -EBUSY to one operation). */
  | "livelock";

/** A device access that reached a page after it was given back. */
export interface Violation {
  code: ViolationCode;
  device: string;
  /** Virtual address of the page the device used, hex. */
  address: string;
  access: "read" | "write";
  /** How the access got there: "bus address 0x…", "IOVA 0x…", "stale IOVA 0x…", "mirror entry". */
  via: string;
}

/** Every hook is optional ("need not be provided"); each is called once per event, never per page
 *  inside a publisher's loop. */
export interface MachineListener {
  /** handle_mm_fault ran for page `vpn` of `mm`; `remote` when a device asked (hmm_range_fault,
   *  GUP for make_device_exclusive: FAULT_FLAG_REMOTE), else a CPU access faulted. */
  fault?(mm: Mm, vpn: number, remote: boolean): void;
  /** `n` faults as `fault` reports them, on pages vpn .. vpn+n-1 in order, in one call (a listener
   *  that has `fault` but not this gets `n` fault calls). */
  faultRun?(mm: Mm, vpn: number, n: number, remote: boolean): void;
  /** mmu_notifier_invalidate_range_start of `range` called `callbacks` interval-notifier callbacks. */
  invalidate?(mm: Mm, range: NotifierRange, callbacks: number): void;
  /** migrate_vma_finalize pointed `pages` PTEs of `mm` at new pages. */
  migrated?(mm: Mm, pages: number): void;
  /** `bytes` moved from memory `from` to `to` ("ram" or a device id), in pages of `pageBytes` (4 KiB,
   *  or 2 MiB where a THP moved whole). */
  copy?(from: string, to: string, bytes: number, cause: CopyCause, pageBytes: number): void;
  /** A ZONE_DEVICE page's last reference went and its driver took it back (page_free). */
  pageFree?(frame: number, pool: Pool): void;
  /** `device` mapped `pages` pages of a process for DMA in its own page table. */
  peerMap?(device: string, pages: number): void;
  /** `device` dropped `pages` DMA mappings: on request, or in its invalidation callback. */
  peerUnmap?(device: string, pages: number, byInvalidation: boolean): void;
  /** The safety checker found a violation. */
  violation?(v: Violation): void;
  /** `device`'s driver waited `ns` inside a callback (an invalidation, move_notify) for its DMA in
   *  flight (dma_fence_wait): time the invalidating thread spent before the pages could move. */
  fenceWait?(device: string, ns: number): void;
}

type Hook = keyof MachineListener;

/** The subscriber lists, one per hook, fixed at construction. */
export class MachineEvents {
  private readonly faultHooks: MachineListener[];
  private readonly invalidateHooks: MachineListener[];
  private readonly migratedHooks: MachineListener[];
  private readonly copyHooks: MachineListener[];
  private readonly pageFreeHooks: MachineListener[];
  private readonly peerMapHooks: MachineListener[];
  private readonly peerUnmapHooks: MachineListener[];
  private readonly violationHooks: MachineListener[];
  private readonly fenceWaitHooks: MachineListener[];

  constructor(listeners: readonly MachineListener[]) {
    const having = (hook: Hook) => listeners.filter((l) => l[hook] !== undefined);
    this.faultHooks = having("fault");
    this.invalidateHooks = having("invalidate");
    this.migratedHooks = having("migrated");
    this.copyHooks = having("copy");
    this.pageFreeHooks = having("pageFree");
    this.peerMapHooks = having("peerMap");
    this.peerUnmapHooks = having("peerUnmap");
    this.violationHooks = having("violation");
    this.fenceWaitHooks = having("fenceWait");
  }

  // Indexed loops (not for-of): publishers are inlined into hot loops, and an iterator's
  // exception edges make their optimized code larger and slower to compile.
  fault(mm: Mm, vpn: number, remote: boolean): void {
    const hooks = this.faultHooks;
    for (let i = 0; i < hooks.length; i++) hooks[i].fault!(mm, vpn, remote);
  }

  /** `n` faults on consecutive pages from `vpn`: each fault listener gets them as one run, or page by page. */
  faultRun(mm: Mm, vpn: number, n: number, remote: boolean): void {
    const hooks = this.faultHooks;
    for (let i = 0; i < hooks.length; i++) {
      const h = hooks[i];
      if (h.faultRun !== undefined) h.faultRun(mm, vpn, n, remote);
      else for (let k = 0; k < n; k++) h.fault!(mm, vpn + k, remote);
    }
  }

  invalidate(mm: Mm, range: NotifierRange, callbacks: number): void {
    const hooks = this.invalidateHooks;
    for (let i = 0; i < hooks.length; i++) hooks[i].invalidate!(mm, range, callbacks);
  }

  migrated(mm: Mm, pages: number): void {
    if (!(pages > 0)) return;
    const hooks = this.migratedHooks;
    for (let i = 0; i < hooks.length; i++) hooks[i].migrated!(mm, pages);
  }

  copy(from: string, to: string, bytes: number, cause: CopyCause, pageBytes = PAGE_SIZE): void {
    if (!(bytes > 0)) return;
    const hooks = this.copyHooks;
    for (let i = 0; i < hooks.length; i++) hooks[i].copy!(from, to, bytes, cause, pageBytes);
  }

  pageFree(frame: number, pool: Pool): void {
    const hooks = this.pageFreeHooks;
    for (let i = 0; i < hooks.length; i++) hooks[i].pageFree!(frame, pool);
  }

  peerMap(device: string, pages: number): void {
    const hooks = this.peerMapHooks;
    for (let i = 0; i < hooks.length; i++) hooks[i].peerMap!(device, pages);
  }

  peerUnmap(device: string, pages: number, byInvalidation: boolean): void {
    if (!(pages > 0)) return;
    const hooks = this.peerUnmapHooks;
    for (let i = 0; i < hooks.length; i++) hooks[i].peerUnmap!(device, pages, byInvalidation);
  }

  violation(v: Violation): void {
    const hooks = this.violationHooks;
    for (let i = 0; i < hooks.length; i++) hooks[i].violation!(v);
  }

  fenceWait(device: string, ns: number): void {
    if (!(ns > 0)) return;
    const hooks = this.fenceWaitHooks;
    for (let i = 0; i < hooks.length; i++) hooks[i].fenceWait!(device, ns);
  }
}

/** A violation as one sentence: "DMA write by bus address 0x…: reached a page that was freed". */
export function violationMessage(v: Violation): string {
  return `DMA ${v.access} by ${v.via}: ${VIOLATION_TEXT[v.code]}`;
}

const VIOLATION_TEXT: Record<ViolationCode, string> = {
  "empty-bar-slot": "reached a BAR slot that no longer exposes any page (the page behind it was given back)",
  "freed-page": "reached a page that was freed",
  unmapped: "reached a page the process no longer maps (unmapped or being migrated)",
  moved: "reached a page that no longer backs this address (migrated away, or its BAR slot or IOVA reused)",
  reused: "reached a page freed and reused since it was mapped",
  "read-only": "wrote a page the CPU maps read-only now (COW-shared after fork, or mprotected)",
  "lost-write": "wrote a page that no longer backs this address (migrated away or unmapped): the data is lost",
  "after-invalidation": "used a mapping after the invalidation of its page had returned (the callback did not stop the device)",
  unpinned: "went through a pinned mapping whose pin was dropped, to a page that moved or was given back meanwhile (a pinned page migrated while mapped)",
  livelock: "the driver's retry loop did not end (hmm_range_fault kept returning -EBUSY, or mmu_interval_read_retry kept saying retry)",
};
