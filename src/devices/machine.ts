// Models: a machine as the memory model runs it: physical memory, one dmirror-style driver per
// endpoint that hands memory to the kernel as ZONE_DEVICE pages (with the BAR aperture through
// which peers reach its private pages), and each endpoint as a P2P client device (its page tables,
// IOMMU domain and DMA engine; src/drivers runs its driver), all publishing to the subscribers given
// here; the DMA safety checker starts with the first peer mapping. Leaves out: coherent providers' apertures (their pages are CPU-addressable and reach
// clients as system memory) and providers without ZONE_DEVICE memory.
import { getFunction } from "../fabric/build.js";
import type { Fabric } from "../fabric/types.js";
import type { MachineListener } from "../memory/events.js";
import { Memory } from "../memory/memory.js";
import { BarAperture, memoryBarOf } from "./bar-aperture.js";
import type { DeviceSpec } from "./device.js";
import { DmaSafety } from "./dma-safety.js";
import { DmirrorDevice } from "./dmirror.js";
import { ClientDevice, type ClientHost } from "./client-device.js";

/**
 * Device memory of a ZONE_DEVICE endpoint whose topology gives no size: unbounded, carved in
 * 256 MiB chunks on demand as lib/test_hmm.c dmirror_allocate_chunk adds DEVMEM_CHUNK_SIZE chunks
 * (up to the frames the kit models). A topology's `memory` caps it.
 */
const UNBOUNDED_DEVICE_MEMORY = Infinity;

/** The endpoints that hand memory to the kernel as ZONE_DEVICE pages. */
export function deviceSpecs(fabric: Fabric): DeviceSpec[] {
  const out: DeviceSpec[] = [];
  for (const f of fabric.functions) {
    if (f.kind !== "endpoint" || !f.zoneDevice) continue;
    out.push({ id: f.id, zoneDevice: f.zoneDevice, memory: f.memory ?? UNBOUNDED_DEVICE_MEMORY, numaNode: f.numaNode });
  }
  return out;
}

export interface MachineOptions {
  /** Subscribers to the machine's events (after its counters and apertures), in order. */
  listeners?: readonly MachineListener[];
}

export class Machine implements ClientHost {
  readonly mem: Memory;
  /** The ZONE_DEVICE drivers by endpoint id. */
  readonly devices = new Map<string, DmirrorDevice>();
  private readonly apertures = new Map<string, BarAperture>();
  private readonly clients = new Map<string, ClientDevice>();
  private checker: DmaSafety | null = null;

  constructor(readonly fabric: Fabric, opts: MachineOptions = {}) {
    const specs = deviceSpecs(fabric);
    for (const spec of specs) {
      if (spec.zoneDevice !== "private") continue;
      const fn = getFunction(fabric, spec.id);
      this.apertures.set(spec.id, new BarAperture(fn, memoryBarOf(fn), spec));
    }
    this.mem = new Memory({ listeners: [...this.apertures.values(), ...(opts.listeners ?? [])] });
    for (const spec of specs) this.devices.set(spec.id, new DmirrorDevice(this.mem, spec, this.apertures.get(spec.id) ?? null));
  }

  /** The safety checker, started by the first peer mapping (frame generations count from then). */
  get safety(): DmaSafety {
    return (this.checker ??= new DmaSafety(this.mem.frames));
  }

  /** The BAR aperture of provider `id`, if it has one. */
  aperture(id: string): BarAperture | undefined {
    return this.apertures.get(id);
  }

  /** Every provider's BAR aperture. */
  apertureList(): BarAperture[] {
    return [...this.apertures.values()];
  }

  /** Endpoint `id` as a P2P client (InputError when the topology has no such function). */
  client(id: string): ClientDevice {
    const fn = getFunction(this.fabric, id);
    let c = this.clients.get(fn.id);
    if (!c) {
      c = new ClientDevice(this, fn, this.devices.get(fn.id)?.device ?? null);
      this.clients.set(fn.id, c);
    }
    return c;
  }
}
