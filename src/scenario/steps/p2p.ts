// Models: the scenario's P2P steps (DESIGN §4): peerMap, dma and peerUnmap run by the client driver
// of the named endpoint in the step's process, with their results (pages per path, map types, DMA
// addresses, values); peerMap pays the map-type lookup and the IOMMU mapping, peerUnmap the
// unmapping. Leaves out: the drivers (devices/p2p-client.ts).
import { errnoName } from "../../memory/errno.js";
import { hex, PAGE_SIZE } from "../../units/size.js";
import type { PageRange } from "../context.js";
import { VALUE_CHARS } from "../per-page.js";
import type { PeerMapStepResult } from "../results.js";
import { StepError } from "../step-error.js";
import type { StepHandler } from "./types.js";

/** " at page 3 (0x10003000)" for a failure at page `vpn` of the range, or "". */
function where(vpn: number | undefined, range: PageRange): string {
  return vpn === undefined ? "" : ` at page ${vpn - range.start + range.first} (${hex(vpn * PAGE_SIZE)})`;
}

export const peerMap: StepHandler<"peerMap"> = {
  op: "peerMap",
  run(ctx, step, at) {
    const proc = ctx.process(step.process ?? "main", at("process"));
    const range = ctx.range(proc, step, at);
    const client = ctx.client(step.device, at("device"));
    if (step.policy !== undefined) client.policy = step.policy;
    if (step.fallback !== undefined) client.fallback = step.fallback;
    const r = client.open(proc.mm).peerMap(range.start, range.count, { write: (step.access ?? "rw") === "rw" });
    if (r.ret !== 0) throw new StepError(`${errnoName(r.ret)}: peerMap failed${where(r.page, range)}: ${r.reason}`);
    const result: PeerMapStepResult = { cpages: r.cpages, faults: r.faults, paths: r.paths, mapTypes: r.mapTypes };
    if (r.local > 0) result.local = r.local;
    if (r.bounced > 0) result.bounced = r.bounced;
    if (r.pagePaths.length > 0) {
      result.pagePaths = r.pagePaths;
      result.addresses = r.addresses;
    }
    return result;
  },
  cost: (costs, step, result) => costs.peerMapping(step.device, result),
};

export const dma: StepHandler<"dma"> = {
  op: "dma",
  run(ctx, step, at) {
    const proc = ctx.process(step.process ?? "main", at("process"));
    const range = ctx.range(proc, step, at);
    const mirror = ctx.client(step.device, at("device")).open(proc.mm);
    const write = step.value !== undefined;
    if (!write) ctx.reservePerPage(range.count * VALUE_CHARS, range.count, "values", at("count"));
    const v = step.value;
    const r = mirror.dma(range.start, range.count, write, (k) => (v === "index" ? range.first + k : (v as number)));
    if (r.ret !== 0) throw new StepError(`${errnoName(r.ret)}: dma ${write ? "write" : "read"} failed${where(r.page, range)} after ${r.cpages} pages: ${r.reason}`);
    return write ? { cpages: r.cpages } : { cpages: r.cpages, values: r.values };
  },
};

export const peerUnmap: StepHandler<"peerUnmap"> = {
  op: "peerUnmap",
  run(ctx, step, at) {
    const proc = ctx.process(step.process ?? "main", at("process"));
    const range = ctx.range(proc, step, at);
    return { cpages: ctx.client(step.device, at("device")).open(proc.mm).peerUnmap(range.start, range.count) };
  },
  cost: (costs, step, _result, pages) => costs.peerUnmapping(step.device, pages),
};
