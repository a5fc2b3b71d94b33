// Models: the P2P side of a machine: every device-private provider with a memory BAR registers a
// BAR aperture (its P2PDMA page map) and offers get_dma_pfn_for_device through its private page
// map; every endpoint may act as a P2P client driver with a policy and a NOT_SUPPORTED fallback;
// one safety checker watches every peer DMA. Leaves out: coherent providers (their pages are
// CPU-addressable and reach clients as system memory) and providers without ZONE_DEVICE memory.
import type { Mm } from "../memory/address-space.js";
import type { Memory } from "../memory/memory.js";
import { getFunction } from "../fabric/build.js";
import type { Fabric } from "../fabric/types.js";
import { BarAperture, memoryBarOf } from "./bar-aperture.js";
import { DmaSafety } from "./dma-safety.js";
import type { DmirrorDevice } from "./dmirror.js";
import { P2pClient, P2pFallback, P2pPolicy, P2pSystem } from "./p2p-client.js";

export interface P2pDeviceOptions {
  policy?: P2pPolicy;
  fallback?: P2pFallback;
}

export class P2pMachine implements P2pSystem {
  readonly apertures = new Map<number, BarAperture>();
  readonly safety: DmaSafety;
  readonly counters = { peerMaps: 0, peerUnmaps: 0 };
  readonly clients = new Map<string, P2pClient>();

  constructor(
    readonly fabric: Fabric, readonly mem: Memory, readonly drivers: Map<string, DmirrorDevice>,
    readonly options: Record<string, P2pDeviceOptions> = {},
  ) {
    this.safety = new DmaSafety(mem);
    for (const d of drivers.values()) {
      const ops = d.device.pagemap.ops;
      const free = ops.pageFree;
      const fn = getFunction(fabric, d.id);
      let ap: BarAperture | null = null;
      if (d.device.isPrivate) {
        ap = new BarAperture(d, fn, memoryBarOf(fn));
        this.apertures.set(ap.pool.id, ap);
        const a = ap;
        ops.getDmaPfnForDevice = (frame: number, mm: Mm, vpn: number) => a.aliasFor(frame, mm, vpn);
      }
      const a = ap;
      ops.pageFree = (frame: number) => {
        a?.pageFree(frame);
        this.safety.frameFreed(frame);
        free.call(ops, frame);
      };
    }
  }

  /** The aperture of provider `id`, if it has one. */
  aperture(id: string): BarAperture | undefined {
    for (const a of this.apertures.values()) if (a.id === id) return a;
    return undefined;
  }

  /** The client driver of endpoint `id` (InputError when the topology has no such function). */
  client(id: string): P2pClient {
    let c = this.clients.get(id);
    if (!c) {
      const fn = getFunction(this.fabric, id);
      const o = this.options[id] ?? {};
      c = new P2pClient(this, fn, o.policy ?? "correct", o.fallback ?? "migrate", this.drivers.get(fn.id)?.device ?? null);
      this.clients.set(id, c);
    }
    return c;
  }
}
