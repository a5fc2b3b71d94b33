// Models: a provider's P2PDMA page map over the BAR that exposes its device memory (p2pdma.md §1,
// pci_p2pdma_add_resource; nouveau's BAR1 window in the P2P series, hmm-semantics.md §6): the BAR
// is cut into page slots, each a MEMORY_DEVICE_PCI_P2PDMA page; get_dma_pfn_for_device binds a
// slot to a device-private page and returns its P2PDMA page; when every slot is bound the least
// recently used one is reclaimed, after its users' notifiers have run (MMU_NOTIFY_CLEAR on each
// address that received the alias, so every mirror invalidates through its one mechanism), or, with
// the "fail" policy, the alias fails with -ENOSPC; a slot a peer pinned (peer-memory get_pages) is
// never reclaimed (the LRU order costs O(1) per use and per reclaim: slot-lru.ts). The aperture
// subscribes to the machine's page frees: a device page given back unbinds its slot. A Resizable
// BAR changes the window within the sizes the BAR allows, up to the address space assigned to it,
// while no slot is bound (pci_resize_resource: the BAR is released).
// Leaves out: reassigning bridge windows to grow a BAR beyond its assigned space (-ENOSPC, as the
// kernel fails when they do not fit) and huge slots; a slot maps exactly one 4 KiB page. The P2PDMA
// pages' struct pages are created on first use, not at probe time.
import type { Mm } from "../memory/address-space.js";
import { EBUSY, EINVAL, ENOMEM, ENOSPC } from "../memory/errno.js";
import type { MachineListener } from "../memory/events.js";
import { CHUNK_PAGES, CHUNK_SHIFT, POOL_P2PDMA, type FrameTable, type Pool } from "../memory/frames.js";
import type { Memory } from "../memory/memory.js";
import { MMU_NOTIFY_CLEAR } from "../memory/mmu-notifier.js";
import { DevPagemap, MEMORY_DEVICE_PCI_P2PDMA, MEMORY_DEVICE_PRIVATE } from "../memory/pagemap.js";
import type { FabricBar, PciFunction } from "../fabric/types.js";
import { InputError } from "../units/input-error.js";
import { PAGE_SIZE } from "../units/size.js";
import type { DeviceSpec } from "./device.js";
import { SlotLru } from "./slot-lru.js";

/** The BAR exposing `fn`'s memory: `memoryBar`, else the largest prefetchable BAR, else none. */
export function memoryBarOf(fn: PciFunction): FabricBar | null {
  if (fn.memoryBar !== undefined) {
    const b = fn.bars.find((x) => x.index === fn.memoryBar);
    if (!b) throw new InputError(`nodes[${fn.index}].memoryBar`, fn.memoryBar, `device "${fn.id}" has no BAR with this index`);
    return b;
  }
  let best: FabricBar | null = null;
  for (const b of fn.bars) if (b.prefetchable && (best === null || b.size > best.size)) best = b;
  return best;
}

/** The aperture a P2PDMA frame belongs to, or undefined for any other frame. */
export function apertureOfFrame(frames: FrameTable, frame: number): BarAperture | undefined {
  const pool = frames.pools[frames.chunkPool[frame >>> CHUNK_SHIFT]];
  return pool.kind === POOL_P2PDMA ? (pool.pagemap!.owner as BarAperture) : undefined;
}

/** What an aperture does when every slot is bound: reclaim the least recently used, or fail. */
export type AperturePolicy = "lru" | "fail";

export class BarAperture implements MachineListener {
  /** Slots of the current window. */
  slots: number;
  /** The window's size now (the BAR's, or what resizeBar set), bytes. */
  size: number;
  policy: AperturePolicy = "lru";
  readonly pagemap: DevPagemap;
  /** The P2PDMA pages, created with the first alias. */
  private pool: Pool | null = null;
  private mem: Memory | null = null;
  /** Device-private frame bound to each slot (-1: free). */
  private slotFrame = new Int32Array(0);
  /** P2PDMA frame of each slot (allocated when the slot is first used). */
  private slotP2p = new Int32Array(0);
  /** Bound slots by last use (aliasFor, access). */
  private readonly lru = new SlotLru();
  /** Pins on each slot (a pinned slot is never reclaimed). */
  private slotPins = new Int32Array(0);
  /** Addresses that received each slot's alias: [mm, vpn] pairs (few per slot). */
  private users: Array<Array<[Mm, number]>> = [];
  private readonly frameSlot = new Map<number, number>();
  private freeSlots: number[] = [];
  private high = 0;
  /** Slots reclaimed under pressure. */
  reclaims = 0;

  constructor(readonly fn: PciFunction, readonly bar: FabricBar | null, readonly device: DeviceSpec) {
    this.size = bar === null ? 0 : bar.size;
    this.slots = this.slotsFor(this.size);
    this.pagemap = { type: MEMORY_DEVICE_PCI_P2PDMA, owner: this, ops: { pageFree: () => {}, barTarget: (f) => this.target(f) } };
  }

  get id(): string {
    return this.fn.id;
  }

  /** Slots bound now. */
  get bound(): number {
    return this.frameSlot.size;
  }

  private slotsFor(size: number): number {
    return Math.floor(Math.min(size, this.device.memory) / PAGE_SIZE);
  }

  /**
   * pci_resize_resource for the memory BAR: `size` must be one the BAR allows and fit the space
   * assigned to it; the BAR must be released (no slot bound). 0 or -errno.
   */
  resize(size: number): number {
    if (this.bar === null) return -EINVAL;
    if (!this.bar.resizable.includes(size) && size !== this.bar.size) return -EINVAL;
    if (size > this.bar.size) return -ENOSPC;
    if (this.frameSlot.size > 0) return -EBUSY;
    const before = this.slots;
    this.size = size;
    this.slots = this.slotsFor(size);
    // A slot keeps the P2PDMA page made for it (pages are carved in slot order, slotOfFrame): a
    // smaller window parks the slots beyond it, a larger one gets back those already made.
    this.freeSlots = this.freeSlots.filter((s) => s < this.slots);
    for (let s = before; s < Math.min(this.high, this.slots); s++) this.freeSlots.push(s);
    return 0;
  }

  /** get_dma_pfn_for_device: the P2PDMA frame aliasing device-private `frame`, or -ENOMEM (no
   *  window), -ENOSPC (every slot bound under the "fail" policy, or pinned). */
  aliasFor(frame: number, mm: Mm, vpn: number): number {
    if (this.slots === 0) return -ENOMEM; // no P2P window: the series' callback fails, stock behaviour follows
    let s = this.frameSlot.get(frame);
    if (s === undefined) {
      s = this.takeSlot(mm.mem);
      if (s < 0) return s === -2 ? -ENOSPC : -ENOMEM;
      this.slotFrame[s] = frame;
      this.frameSlot.set(frame, s);
    }
    const u = this.users[s];
    if (!u.some(([m, v]) => m === mm && v === vpn)) u.push([mm, vpn]);
    this.lru.touch(s);
    return this.slotP2p[s];
  }

  /** A page of this device's memory went back to its driver: its slot (if any) is unbound and free again. */
  pageFree(frame: number, pool: Pool): void {
    if (this.frameSlot.size === 0 || pool.label !== this.device.id || pool.kind !== MEMORY_DEVICE_PRIVATE) return;
    const s = this.frameSlot.get(frame);
    if (s === undefined) return;
    this.unbind(s);
    this.freeSlots.push(s);
  }

  /** A peer pins (or unpins) the slot aliasing device-private `frame`: a pinned slot is never reclaimed. */
  pinAlias(frame: number, pin: boolean): void {
    const s = this.frameSlot.get(frame);
    if (s === undefined) return;
    this.slotPins[s] += pin ? 1 : -1;
    if (this.slotPins[s] === 0) this.lru.unpinned(s);
  }

  /** Slot of a P2PDMA frame of this aperture (frames are carved in slot order). */
  slotOfFrame(p2pFrame: number): number {
    return this.mem!.frames.chunkOffset[p2pFrame >>> CHUNK_SHIFT] + (p2pFrame & (CHUNK_PAGES - 1));
  }

  /** The device frame a P2PDMA frame exposes now, or -1. */
  target(p2pFrame: number): number {
    const s = this.slotOfFrame(p2pFrame);
    return s < this.high ? this.slotFrame[s] : -1;
  }

  /** The device frame behind BAR offset `offset`, or -1; the access counts as a use for LRU. */
  access(offset: number): number {
    const s = Math.floor(offset / PAGE_SIZE);
    if (s >= this.high || s >= this.slots) return -1;
    if (this.slotFrame[s] >= 0) this.lru.touch(s);
    return this.slotFrame[s];
  }

  /** The device frame behind BAR offset `offset`, or -1, without counting a use. */
  peek(offset: number): number {
    const s = Math.floor(offset / PAGE_SIZE);
    return s >= this.high || s >= this.slots ? -1 : this.slotFrame[s];
  }

  /** BAR offset of a P2PDMA frame's slot. */
  offsetOf(p2pFrame: number): number {
    return this.slotOfFrame(p2pFrame) * PAGE_SIZE;
  }

  /** pci_p2pdma_add_resource on first use: the P2PDMA pages of the whole window. */
  private poolIn(mem: Memory): Pool {
    if (this.pool === null) {
      this.mem = mem;
      this.pool = mem.addDevicePool(`${this.id}:bar${this.bar!.index}`, this.slotsFor(this.bar!.size) * PAGE_SIZE, this.device.numaNode, this.pagemap);
    }
    return this.pool;
  }

  /** A free slot, or -1 (no P2PDMA page could be made), -2 (every slot bound: "fail" policy, or all pinned). */
  private takeSlot(mem: Memory): number {
    const f = this.freeSlots.pop();
    if (f !== undefined) return f;
    if (this.high < this.slots) {
      const s = this.high++;
      if (s >= this.slotFrame.length) this.grow(Math.min(this.slots, Math.max(16, this.slotFrame.length * 2)));
      const p = mem.frames.alloc(this.poolIn(mem));
      if (p < 0) return -1;
      this.slotP2p[s] = p;
      this.users[s] = [];
      return s;
    }
    if (this.policy === "fail") return -2;
    // Pressure: reclaim the least recently used slot that no peer pinned, invalidating its users first.
    const victim = this.lru.victim(this.slotPins);
    if (victim < 0) return -2;
    this.reclaims++;
    const users = this.users[victim].slice();
    for (const [mm, vpn] of users) if (mm.live) mm.invalidate(vpn, vpn + 1, MMU_NOTIFY_CLEAR);
    this.unbind(victim);
    return victim;
  }

  private unbind(s: number): void {
    this.frameSlot.delete(this.slotFrame[s]);
    this.slotFrame[s] = -1;
    this.users[s] = [];
    this.lru.drop(s);
    this.slotPins[s] = 0;
  }

  private grow(n: number): void {
    const f = new Int32Array(n).fill(-1);
    f.set(this.slotFrame);
    const p = new Int32Array(n);
    p.set(this.slotP2p);
    const pins = new Int32Array(n);
    pins.set(this.slotPins);
    this.slotFrame = f;
    this.slotP2p = p;
    this.slotPins = pins;
    this.lru.grow(n);
  }
}
