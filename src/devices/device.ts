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
  /** Device memory in bytes (Infinity: grows in 256 MiB chunks on demand, dmirror_allocate_chunk). */
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

/** Keys of a DmaBatch: (source pool x 65536 + destination pool) x KEY_ORDERS + page order. */
const KEY_ORDERS = 32;

/**
 * Accumulates one operation's DMA engine copies per (source pool, destination pool, page size) and
 * publishes them as copy events when flushed, so hot loops add numbers instead of building records
 * per page.
 */
export class DmaBatch {
  /** Pages per key settled so far, in first-copy order (made once a second key is copied: most batches copy one). */
  private pages: Map<number, number> | null = null;
  /** The key copied last and its base pages not yet in `pages` (a run of copies costs no map lookups). */
  private lastKey = -1;
  private lastPages = 0;
  constructor(private readonly mem: Memory, private readonly cause: CopyCause) {}

  /** One page copied from pool `fromPool` into pool `toPool` (device-local copies move nothing over a link). */
  copy(fromPool: number, toPool: number): void {
    this.copyPages(fromPool, toPool, 1);
  }

  /** `n` 4 KiB pages copied from pool `fromPool` into pool `toPool`, moved in pages of `pageBytes`
   *  (a power-of-two multiple of 4 KiB: 2 MiB for a THP copied whole). */
  copyPages(fromPool: number, toPool: number, n: number, pageBytes = PAGE_SIZE): void {
    if (fromPool === toPool || n <= 0) return;
    const key = (fromPool * 65536 + toPool) * KEY_ORDERS + Math.log2(pageBytes / PAGE_SIZE);
    if (key !== this.lastKey) {
      this.settle();
      this.lastKey = key;
    }
    this.lastPages += n;
  }

  private settle(): void {
    if (this.lastPages > 0) {
      const pages = (this.pages ??= new Map());
      pages.set(this.lastKey, (pages.get(this.lastKey) ?? 0) + this.lastPages);
    }
    this.lastPages = 0;
  }

  flush(): void {
    if (this.pages === null) {
      // One key (or none) copied since the last flush.
      if (this.lastPages > 0) this.publish(this.lastKey, this.lastPages);
      this.lastPages = 0;
      return;
    }
    this.settle();
    for (const [key, n] of this.pages) this.publish(key, n);
    this.pages.clear();
  }

  /** The copy event of `n` base pages of `key` (pool pair and page order). */
  private publish(key: number, n: number): void {
    const pools = this.mem.frames.pools;
    const pair = Math.floor(key / KEY_ORDERS);
    this.mem.events.copy(pools[Math.floor(pair / 65536)].label, pools[pair % 65536].label, n * PAGE_SIZE, this.cause, PAGE_SIZE * 2 ** (key % KEY_ORDERS));
  }
}
