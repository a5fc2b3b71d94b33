// Models: what each builtin design does to stop using a range: sleep until the device's DMA in
// flight has ended (dma_fence_wait), and drop device-table entries, unmapping their IOVAs.
// Leaves out: the callbacks' non-sleeping wait (dmaFenceWait), which each design calls itself.
import type { Mm } from "../../memory/address-space.js";
import type { DriverDevice, Fence, Kernel, Op } from "../api.js";

/** Sleeps until every fence of `inflight` (fences added meanwhile too) has signalled, then empties it. */
export function* waitForDma(k: Kernel, inflight: Fence[]): Op<void> {
  for (let i = 0; i < inflight.length; i++) if (!inflight[i].signaled) yield* k.dmaFenceWaitOp(inflight[i]);
  inflight.length = 0;
}

/** Drops `dev`'s entries of pages [start, end) of `mm`, unmapping each IOVA; returns how many there were. */
export function dropEntries(k: Kernel, dev: DriverDevice, mm: Mm, start: number, end: number): number {
  return dev.table(mm).clear(start, end, (_vpn, addr, flags) => k.dmaUnmap(dev, addr, flags));
}

/** Adds `fence` to the DMA in flight, first forgetting the fences that have signalled (in place:
 *  a waitForDma sleeping on the list still sees every fence). */
export function track(inflight: Fence[], fence: Fence): void {
  let j = 0;
  for (let i = 0; i < inflight.length; i++) if (!inflight[i].signaled) inflight[j++] = inflight[i];
  inflight.length = j;
  inflight.push(fence);
}
