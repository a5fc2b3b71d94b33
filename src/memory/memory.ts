// Models: the machine's physical memory as a whole: the frame table, one RAM pool per NUMA node,
// ZONE_DEVICE page maps registered by drivers (memremap_pages), the processes (mms) living on it,
// and the event list every kernel operation publishes to (events.ts), with the machine's own
// counters as its first subscriber. Leaves out: memory hotplug and reclaim (RAM never runs short
// unless a node's size is set small).
import { Counters } from "./counters.js";
import { MachineEvents, type MachineListener } from "./events.js";
import { FrameTable, POOL_RAM, Pool, ZERO_PFN } from "./frames.js";
import type { DevPagemap } from "./pagemap.js";
import type { Mm } from "./address-space.js";
import { GiB, PAGE_SIZE } from "../units/size.js";

export interface MemoryOptions {
  /** NUMA nodes with system RAM (default 1). */
  nodes?: number;
  /** RAM per node in bytes (default 64 GiB; frames are carved only as used). */
  ramPerNode?: number;
  /** Subscribers to the machine's events, called after the counters, in this order. */
  listeners?: readonly MachineListener[];
}

export class Memory {
  readonly counters = new Counters();
  readonly events: MachineEvents;
  readonly frames: FrameTable;
  readonly ram: Pool[] = [];
  readonly mms: Mm[] = [];

  constructor(opts: MemoryOptions = {}) {
    this.events = new MachineEvents([this.counters, ...(opts.listeners ?? [])]);
    this.frames = new FrameTable(this.events);
    const nodes = opts.nodes ?? 1;
    const bytes = opts.ramPerNode ?? 64 * GiB;
    for (let n = 0; n < nodes; n++) {
      this.ram.push(this.frames.addPool(POOL_RAM, "ram", Math.floor(bytes / PAGE_SIZE), n, null));
    }
    const zero = this.frames.alloc(this.ram[0]);
    if (zero !== ZERO_PFN) throw new Error("zero page must be frame 0");
    this.frames.refcount[zero] = 1 << 30; // never freed (put() ignores it too)
  }

  /** memremap_pages: a device's ZONE_DEVICE memory of `bytes`, labelled by the device id. */
  addDevicePool(label: string, bytes: number, numaNode: number, pagemap: DevPagemap): Pool {
    return this.frames.addPool(pagemap.type, label, Math.floor(bytes / PAGE_SIZE), numaNode, pagemap);
  }

  /** alloc_page on `node` (falls back to other nodes when it is full). */
  allocRam(node = 0): number {
    const f = this.frames.alloc(this.ram[node] ?? this.ram[0]);
    if (f >= 0) return f;
    for (const p of this.ram) {
      const g = this.frames.alloc(p);
      if (g >= 0) return g;
    }
    return -1;
  }

  /** A 2^order-page folio in RAM on `node`, or -1. */
  allocRamContig(order: number, node = 0): number {
    return this.frames.allocContig(this.ram[node] ?? this.ram[0], 1 << order);
  }
}
