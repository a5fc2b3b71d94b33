// Models: a PCI function acting as a P2P client, as hardware and the kernel see it (a NIC, a GPU):
// its IOMMU domain when its host bridge translates DMA, its page table per process (DeviceTable),
// the pages its driver pinned and the dma-buf ranges it imported, and its DMA engine's access of
// one page: translate the entry's address (through the IOMMU for an IOVA), route the TLP through
// the fabric into a provider's BAR aperture (bus address through a switch, CPU address up through
// the root complex), onto system memory, or onto its own device memory; every access is checked
// by the safety checker before it reads or writes the page. Its driver (src/drivers) decides what
// goes in the table. Leaves out: ATS and the device's TLB (translations are taken from the table
// when a DMA starts), and the PCI bus offset of non-x86 hosts for RAM.
import type { Mm } from "../memory/address-space.js";
import type { ViolationCode } from "../memory/events.js";
import type { Memory } from "../memory/memory.js";
import { hostBridgeOf } from "../fabric/build.js";
import { routeAddress } from "../fabric/route.js";
import type { Fabric, PciFunction } from "../fabric/types.js";
import { hex, PAGE_SIZE } from "../units/size.js";
import { apertureOfFrame, type BarAperture } from "./bar-aperture.js";
import { DeviceTable, HELD_BUFFER, HELD_MIRROR, HELD_PINNED } from "./device-table.js";
import { DmaSafety } from "./dma-safety.js";
import { IommuDomain } from "./iommu-domain.js";

/** DPTE_* flags of a device page-table entry (src/drivers/api.ts documents them for drivers). */
export const DPTE_WRITE = 1;
export const DPTE_IOVA = 2;
export const DPTE_BUS = 4;
export const DPTE_LOCAL = 8;
export const DPTE_BOUNCE = 16;
/** A peer's BAR reached by its CPU address through the host bridge (PCI_P2PDMA_MAP_THRU_HOST_BRIDGE). */
export const DPTE_HOST_BRIDGE = 32;

/** What a client shares with the rest of the machine. */
export interface ClientHost {
  mem: Memory;
  fabric: Fabric;
  safety: DmaSafety;
  /** The BAR aperture of provider `id`, if it has one. */
  aperture(id: string): BarAperture | undefined;
}

/** One page's entry as a DMA engine took it when the DMA started. */
export interface EntrySnapshot {
  dma: number;
  flags: number;
  mapped: number;
  gen: number;
  held: number;
  setEpoch: number;
}

/** What one page access did: the frame reached (-1: an empty BAR slot), the memory it belongs to, and the verdict. */
export interface PageAccess {
  reached: number;
  memory: string;
  /** For a bounce or host-buffer path: the data also crossed RAM. */
  viaRam: boolean;
  violation: ViolationCode | null;
}

export class ClientDevice {
  readonly iommu: IommuDomain | null;
  private readonly tables = new Map<Mm, DeviceTable>();
  /** Pins this device's driver holds, per frame. */
  private readonly pins = new Map<number, number>();
  /** dma-buf ranges this device imported. */
  readonly buffers: Array<{ mm: Mm; start: number; end: number }> = [];
  /** Set while this device's invalidation or move_notify callback runs: drops then count as by invalidation. */
  inCallback = false;
  private lastAperture: BarAperture | null = null;

  constructor(readonly host: ClientHost, readonly fn: PciFunction, readonly owner: unknown) {
    this.iommu = hostBridgeOf(host.fabric, fn).iommu === "dma" ? new IommuDomain() : null;
  }

  get id(): string {
    return this.fn.id;
  }

  /** The device's page table for `mm`. */
  table(mm: Mm): DeviceTable {
    let t = this.tables.get(mm);
    if (!t) {
      const safety = this.host.safety;
      const events = mm.mem.events;
      t = new DeviceTable({
        backing: (vpn, dma, flags) => {
          // A pinned page stays the driver's even if the process unmapped it meanwhile (its pin holds it).
          const reached = this.pins.size > 0 ? this.frameAt(mm, dma, flags) : -1;
          return reached >= 0 && this.pins.has(reached) ? reached : DmaSafety.backing(mm, vpn).frame;
        },
        generation: (frame) => safety.generation(frame),
        held: (vpn, frame) => (this.pins.has(frame) ? HELD_PINNED : this.buffers.some((b) => b.mm === mm && vpn >= b.start && vpn < b.end) ? HELD_BUFFER : HELD_MIRROR),
        dropped: (n) => events.peerUnmap(this.id, n, this.inCallback),
      });
      this.tables.set(mm, t);
    }
    return t;
  }

  /** Peer mappings made in any of this device's tables since the last call (the count is taken). */
  takeMade(): number {
    let n = 0;
    for (const t of this.tables.values()) {
      n += t.made;
      t.made = 0;
    }
    return n;
  }

  pin(frame: number): void {
    this.pins.set(frame, (this.pins.get(frame) ?? 0) + 1);
  }

  unpin(frame: number): void {
    const n = (this.pins.get(frame) ?? 0) - 1;
    if (n > 0) this.pins.set(frame, n);
    else this.pins.delete(frame);
  }

  /** The entry of `vpn` in `mm`'s table as a DMA starting now takes it, or null when there is none. */
  snapshot(mm: Mm, vpn: number): EntrySnapshot | null {
    const b = this.tables.get(mm)?.slot(vpn);
    const j = vpn & 511;
    if (!b || b.flags[j] === 0) return null;
    return { dma: b.dma[j], flags: b.flags[j], mapped: b.mapped[j], gen: b.gen[j], held: b.held[j], setEpoch: b.setEpoch[j] };
  }

  /**
   * One page of DMA for (mm, vpn) through entry `e`: translates and routes it, checks it, and reads
   * or writes the page's content. Returns null with `fail` set when the access never reaches memory
   * (an IOVA the IOMMU does not translate, an address no aperture claims): an IOMMU fault or an
   * unsupported request, which is not a violation.
   */
  access(mm: Mm, vpn: number, e: EntrySnapshot, write: boolean, value: number, out: { value: number; fail: string }): PageAccess | null {
    const frames = mm.mem.frames;
    let addr = e.dma;
    if (e.flags & DPTE_IOVA) {
      addr = this.iommu!.translate(addr);
      if (addr < 0) {
        out.fail = `IOVA ${hex(e.dma)} is not mapped in the IOMMU (IOMMU fault)`;
        return null;
      }
    }
    let reached: number;
    let memory: string;
    let viaRam = false;
    if (e.flags & (DPTE_BUS | DPTE_HOST_BRIDGE)) {
      const bus = (e.flags & DPTE_BUS) !== 0;
      const ap = this.apertureAt(addr, bus);
      if (ap === null) {
        out.fail = `${hex(addr)} is claimed by no provider aperture (unsupported request)`;
        return null;
      }
      reached = ap.access(addr - (bus ? ap.bar!.bus : ap.bar!.cpu));
      memory = ap.id;
    } else if (e.flags & DPTE_BOUNCE) {
      // The owner stages the page through a host buffer: the address is that of its BAR page.
      const p2pFrame = Math.floor(addr / PAGE_SIZE);
      const ap = apertureOfFrame(frames, p2pFrame)!;
      reached = ap.target(p2pFrame);
      memory = ap.id;
      viaRam = true;
    } else {
      reached = Math.floor(addr / PAGE_SIZE);
      memory = frames.poolOf(reached).label;
      viaRam = !(e.flags & DPTE_LOCAL) && memory !== "ram";
    }
    const table = this.tables.get(mm);
    let violation = this.verdict(mm, vpn, reached, e, write);
    if (violation === null && e.held === HELD_MIRROR && table) {
      const b = table.slot(vpn);
      if (b && b.invEpoch[vpn & 511] > e.setEpoch) violation = "after-invalidation";
    }
    if (reached >= 0) {
      if (write) frames.content[reached] = value;
      else out.value = frames.content[reached];
    } else out.value = NaN;
    return { reached, memory, viaRam, violation };
  }

  /** The memory an entry reaches now ("ram", a device id), without touching anything: for a DMA's modelled time. */
  memoryOf(mm: Mm, e: EntrySnapshot): string {
    if (e.flags & DPTE_LOCAL) return this.id;
    let addr = e.dma;
    if (e.flags & DPTE_IOVA) addr = this.iommu!.translate(addr);
    if (addr < 0) return "ram";
    if (e.flags & (DPTE_BUS | DPTE_HOST_BRIDGE)) return this.apertureAt(addr, (e.flags & DPTE_BUS) !== 0)?.id ?? "ram";
    const frame = Math.floor(addr / PAGE_SIZE);
    return e.flags & DPTE_BOUNCE ? (apertureOfFrame(mm.mem.frames, frame)?.id ?? "ram") : mm.mem.frames.poolOf(frame).label;
  }

  /** The frame an entry to `dma` with `flags` reaches now (-1: none), without touching anything. */
  private frameAt(mm: Mm, dma: number, flags: number): number {
    const frames = mm.mem.frames;
    const addr = flags & DPTE_IOVA ? this.iommu!.translate(dma) : dma;
    if (addr < 0) return -1;
    if (flags & (DPTE_BUS | DPTE_HOST_BRIDGE)) {
      const bus = (flags & DPTE_BUS) !== 0;
      const ap = this.apertureAt(addr, bus);
      return ap === null ? -1 : ap.peek(addr - (bus ? ap.bar!.bus : ap.bar!.cpu));
    }
    const frame = Math.floor(addr / PAGE_SIZE);
    if (flags & DPTE_BOUNCE) return apertureOfFrame(frames, frame)?.target(frame) ?? -1;
    return frame;
  }

  /** How an access got to its page, for a violation: a stale IOVA is one the driver should have unmapped. */
  via(e: EntrySnapshot): string {
    if (e.flags & DPTE_IOVA) return `stale IOVA ${hex(e.dma)}`;
    return `${e.flags & DPTE_BUS ? "bus address" : "address"} ${hex(e.dma)}`;
  }

  /** The checker's verdict for the hold the entry was made under (a pinned or dma-buf page is not the process's to move). */
  private verdict(mm: Mm, vpn: number, reached: number, e: EntrySnapshot, write: boolean): ViolationCode | null {
    const safety = this.host.safety;
    if (e.held === HELD_MIRROR) {
      const v = safety.verdict(mm, vpn, reached, e.mapped, e.gen, write);
      return write && (v === "moved" || v === "unmapped") ? "lost-write" : v;
    }
    const gone = reached < 0 ? "empty-bar-slot" : safety.frames.isFree(reached) ? "freed-page"
      : e.mapped !== reached || safety.generation(reached) !== e.gen ? "reused" : null;
    // A page whose pin the driver dropped could move: once it has, the mapping it outlived is the fault.
    return gone !== null && e.held === HELD_PINNED && !this.pins.has(e.mapped) ? "unpinned" : gone;
  }

  /** The provider aperture whose BAR a TLP from this device to `addr` lands in (a bus address or a CPU address), or null. */
  private apertureAt(addr: number, bus: boolean): BarAperture | null {
    const last = this.lastAperture;
    const b = last?.bar;
    if (b && (bus ? addr >= b.bus && addr < b.bus + b.size : addr >= b.cpu && addr < b.cpu + b.size)) return last;
    // Route the TLP: through the switch (bus address) or up to the root complex (CPU address).
    const r = routeAddress(this.host.fabric, this.id, addr);
    if (r.unclaimed) return null;
    const ap = this.host.aperture(r.target);
    if (ap === undefined || ap.bar?.index !== r.bar) return null;
    this.lastAperture = ap;
    return ap;
  }
}
