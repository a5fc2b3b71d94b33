// Models: a device as hardware: its local memory handed to the kernel as ZONE_DEVICE pages
// (device-private or device-coherent, memremap_pages, with the driver's page-map ops given here)
// and a DMA engine whose copies are published as copy events, batched per operation. Drivers
// (dmirror.ts) build on it. Leaves out: link timing (the cost layer's).
import type { CopyCause } from "../memory/events.js";
import type { Memory } from "../memory/memory.js";
import type { Pool } from "../memory/frames.js";
import { DevPagemap, DevPagemapOps, MEMORY_DEVICE_COHERENT, MEMORY_DEVICE_PRIVATE } from "../memory/pagemap.js";
import { PAGE_SIZE } from "../units/size.js";

/** What the memory model needs to know of a topology endpoint. */
export interface DeviceSpec {
  id: string;
  zoneDevice: "private" | "coherent";
  /** Device memory in bytes. */
  memory: number;
  numaNode: number;
}

export class Device {
  readonly pool: Pool;
  readonly pagemap: DevPagemap;

  constructor(readonly mem: Memory, readonly spec: DeviceSpec, ops: DevPagemapOps) {
    this.pagemap = {
      type: spec.zoneDevice === "private" ? MEMORY_DEVICE_PRIVATE : MEMORY_DEVICE_COHERENT,
      owner: this,
      ops,
    };
    this.pool = mem.addDevicePool(spec.id, spec.memory, spec.numaNode, this.pagemap);
  }

  get id(): string {
    return this.spec.id;
  }

  get isPrivate(): boolean {
    return this.spec.zoneDevice === "private";
  }
}

/**
 * Accumulates one operation's DMA engine copies per (source pool, destination pool) and publishes
 * them as copy events when flushed, so hot loops add numbers instead of building records per page.
 */
export class DmaBatch {
  private readonly pages = new Map<number, number>();
  constructor(private readonly mem: Memory, private readonly cause: CopyCause) {}

  /** One page copied from frame `from` into frame `to` (device-local copies move nothing over a link). */
  copy(fromPool: number, toPool: number): void {
    if (fromPool === toPool) return;
    const key = fromPool * 65536 + toPool;
    this.pages.set(key, (this.pages.get(key) ?? 0) + 1);
  }

  flush(): void {
    const pools = this.mem.frames.pools;
    for (const [key, n] of this.pages) {
      const from = pools[Math.floor(key / 65536)].label;
      const to = pools[key % 65536].label;
      this.mem.events.copy(from, to, n * PAGE_SIZE, this.cause);
    }
    this.pages.clear();
  }
}
