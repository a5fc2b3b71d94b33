// Models: the scenario's P2P steps (DESIGN §4), each a call into the client device's driver (src/
// drivers: the scenario's `drivers`, else ODP) run on the run's timeline, where the kernel may
// preempt it: peerMap (mapRange; the result counts, when the step ends, the range's pages mapped
// per path and those `unmapped`), dma (the driver starts DMA through the device's table; the step
// waits for its fence unless `async`), peerUnmap (unmapRange), and resizeBar (pci_resize_resource
// of the provider's memory BAR). peerMap pays the map-type lookup, a device page-table entry per
// page and the IOMMU mapping; peerUnmap the unmapping. The run's `peerMaps` counts entries a driver
// made where there was none, published when its operation ends. Leaves out: the drivers themselves.
import { errnoName } from "../../memory/errno.js";
import { hex, PAGE_SIZE, parseQuantity } from "../../units/size.js";
import type { Mm } from "../../memory/address-space.js";
import { DPTE_BOUNCE, DPTE_BUS, DPTE_HOST_BRIDGE, DPTE_LOCAL, type ClientDevice } from "../../devices/client-device.js";
import type { DeviceTable } from "../../devices/device-table.js";
import type { Fence, HookError, Op } from "../../drivers/api.js";
import { BUILTIN_DRIVERS, POLICY_DRIVERS } from "../../drivers/builtin/index.js";
import type { PageRange } from "../context.js";
import { VALUE_CHARS } from "../per-page.js";
import type { DmaStepResult, PeerMapStepResult } from "../results.js";
import { StepError } from "../step-error.js";
import { Deferred, type StepHandler } from "./types.js";

/** Ranges up to this many pages list each page's path and address in a peerMap result. */
const LIST_PAGES = 1024;

/** " at page 3 (0x10003000)" for a failure at page `vpn` of the range, or "". */
function where(vpn: number | undefined, range: PageRange): string {
  return vpn === undefined ? "" : ` at page ${vpn - range.start + range.first} (${hex(vpn * PAGE_SIZE)})`;
}

function hookError(op: string, e: HookError, range: PageRange): StepError {
  return new StepError(`${errnoName(e.ret)}: ${op} failed${where(e.page, range)}: ${e.reason}`);
}

/** The path of a device page-table entry, by its flags, as peerMap results name it. */
function pathOf(flags: number): "BUS_ADDR" | "THRU_HOST_BRIDGE" | "LOCAL" | "BOUNCE" | "SYSTEM" {
  if (flags & DPTE_BUS) return "BUS_ADDR";
  if (flags & DPTE_HOST_BRIDGE) return "THRU_HOST_BRIDGE";
  if (flags & DPTE_LOCAL) return "LOCAL";
  if (flags & DPTE_BOUNCE) return "BOUNCE";
  return "SYSTEM";
}

/** What the device's table holds for the range when the step ends: pages per path, what is unmapped. */
function mapped(table: DeviceTable, range: PageRange, faults: number, mapTypes: Record<string, string>): PeerMapStepResult {
  const result: PeerMapStepResult = { cpages: 0, faults, paths: { BUS_ADDR: 0, THRU_HOST_BRIDGE: 0, SYSTEM: 0 }, mapTypes, unmapped: 0 };
  const list = range.count <= LIST_PAGES;
  const pagePaths: string[] = [];
  const addresses: string[] = [];
  let local = 0;
  let bounced = 0;
  for (let k = 0; k < range.count; k++) {
    const flags = table.flags(range.start + k);
    if (flags === 0) {
      result.unmapped++;
      if (list) {
        pagePaths.push("NONE");
        addresses.push("");
      }
      continue;
    }
    result.cpages++;
    const path = pathOf(flags);
    if (path === "LOCAL") local++;
    else if (path === "BOUNCE") {
      bounced++;
      result.paths.SYSTEM++;
    } else result.paths[path]++;
    if (list) {
      pagePaths.push(path);
      addresses.push(hex(table.address(range.start + k)));
    }
  }
  if (local > 0) result.local = local;
  if (bounced > 0) result.bounced = bounced;
  if (list) {
    result.pagePaths = pagePaths;
    result.addresses = addresses;
  }
  return result;
}

export const peerMap: StepHandler<"peerMap"> = {
  op: "peerMap",
  run(ctx, step, at) {
    const proc = ctx.process(step.process ?? "main", at("process"));
    const range = ctx.range(proc, step, at);
    const id = ctx.clientId(step.device, at("device"));
    const running = step.policy !== undefined ? ctx.drivers.select(id, BUILTIN_DRIVERS.get(POLICY_DRIVERS[step.policy])!) : ctx.drivers.of(id);
    const { kernel, instance } = running;
    return new Deferred((function* (): Op<PeerMapStepResult> {
      kernel.stats = { rangeFaults: 0, mapTypes: {} };
      const restore = ctx.aperturePolicy(step.aperture ?? "lru");
      let err: HookError | void;
      try {
        err = yield* instance.mapRange({ mm: proc.mm, start: range.start, npages: range.count, write: (step.access ?? "rw") === "rw", fallback: step.fallback ?? "migrate" });
      } finally {
        restore();
      }
      const result = mapped(kernel.device.client.table(proc.mm), range, kernel.stats.rangeFaults, kernel.stats.mapTypes);
      publishMade(kernel.device.client, proc.mm);
      if (err) throw hookError("peerMap", err, range);
      return result;
    })());
  },
  cost: (costs, step, result) => costs.peerMapping(step.device, result),
};

export const dma: StepHandler<"dma"> = {
  op: "dma",
  run(ctx, step, at) {
    const proc = ctx.process(step.process ?? "main", at("process"));
    const range = ctx.range(proc, step, at);
    const { kernel, instance } = ctx.drivers.of(ctx.clientId(step.device, at("device")));
    const write = step.value !== undefined;
    if (!write && !step.async) ctx.reservePerPage(range.count * VALUE_CHARS, range.count, "values", at("count"));
    const v = step.value;
    const req = { mm: proc.mm, start: range.start, npages: range.count, write: write ? (k: number) => (v === "index" ? range.first + k : (v as number)) : undefined };
    return new Deferred((function* (): Op<DmaStepResult> {
      const fence: Fence = instance.dma ? yield* instance.dma(req) : kernel.dmaIssue(kernel.device, req);
      publishMade(kernel.device.client, proc.mm); // a design may map before its DMA (dma-buf maps a moved buffer again)
      if (step.async) {
        ctx.watchAsyncDma(fence, kernel.device.id, range);
        return { cpages: range.count };
      }
      yield* kernel.dmaFenceWaitOp(fence);
      if (fence.error) {
        throw new StepError(`${errnoName(fence.error.ret)}: dma ${write ? "write" : "read"} failed${where(fence.error.page, range)} after ${fence.cpages} pages: ${fence.error.reason}`);
      }
      return write ? { cpages: fence.cpages } : { cpages: fence.cpages, values: fence.values };
    })());
  },
};

export const peerUnmap: StepHandler<"peerUnmap"> = {
  op: "peerUnmap",
  run(ctx, step, at) {
    const proc = ctx.process(step.process ?? "main", at("process"));
    const range = ctx.range(proc, step, at);
    const { kernel, instance } = ctx.drivers.of(ctx.clientId(step.device, at("device")));
    const table = kernel.device.client.table(proc.mm);
    return new Deferred((function* (): Op<{ cpages: number }> {
      const before = table.count(range.start, range.start + range.count);
      yield* instance.unmapRange({ mm: proc.mm, start: range.start, npages: range.count });
      return { cpages: before - table.count(range.start, range.start + range.count) };
    })());
  },
  cost: (costs, step, _result, pages) => costs.peerUnmapping(step.device, pages),
};

export const resizeBar: StepHandler<"resizeBar"> = {
  op: "resizeBar",
  run(ctx, step, at) {
    const id = ctx.clientId(step.device, at("device"));
    const ap = ctx.machine.aperture(id);
    if (!ap || ap.bar === null) throw new StepError(`${at("device")}: ${JSON.stringify(step.device)} has no memory BAR exposing device-private memory to peers`);
    const size = parseQuantity(step.size);
    if (size === undefined) throw new StepError(`${at("size")}: ${JSON.stringify(step.size)} is not a size`);
    const ret = ap.resize(size);
    if (ret < 0) {
      const why = errnoName(ret) === "EBUSY" ? "peer mappings still use the BAR (release them first)"
        : errnoName(ret) === "ENOSPC" ? `it is larger than the ${hex(ap.bar.size)}-byte space assigned to the BAR (the bridge windows would have to grow)`
          : `the BAR allows ${[ap.bar.size, ...ap.bar.resizable].map((b) => hex(b)).join(", ")}`;
      throw new StepError(`${errnoName(ret)}: resizeBar of BAR ${ap.bar.index} to ${hex(size)} failed: ${why}`);
    }
    return { size, slots: ap.slots };
  },
};

/** Publishes the peer mappings a driver made since the last count (entries set where there was none):
 *  counted when its operation ends, so an entry kept and reported again is not a new mapping. */
function publishMade(client: ClientDevice, mm: Mm): void {
  const n = client.takeMade();
  if (n > 0) mm.mem.events.peerMap(client.id, n);
}
