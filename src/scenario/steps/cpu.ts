// Models: the CPU touching a buffer page by page: a load or store that faults where the PTE does not
// allow it (memory/cpu-access.ts), so a device-private page comes back through migrate_to_ram.
// Leaves out: access size (a page holds one number, DESIGN §4).
import { cpuAccessRange } from "../../memory/cpu-access.js";
import { Mm } from "../../memory/address-space.js";
import { errnoName } from "../../memory/errno.js";
import { KIND_DEVICE_PRIVATE, PTE_KIND_SHIFT } from "../../memory/pte.js";
import { hex, PAGE_SIZE } from "../../units/size.js";
import type { PageRange } from "../context.js";
import { StepError } from "../step-error.js";
import { toNumbers, VALUE_CHARS } from "../per-page.js";
import type { StepHandler } from "./types.js";

function failed(mm: Mm, err: number, range: PageRange, done: number, what: string): StepError {
  const page = range.first + done;
  const vpn = range.start + done;
  const vma = mm.find(vpn);
  // A device-private page still there after the fault: migrate_to_ram could not move it (a peer
  // pinned it); the kernel would retry the fault until it can, the model fails the access instead.
  const why = vma && Mm.pte(vma, vpn) >>> PTE_KIND_SHIFT === KIND_DEVICE_PRIVATE
    ? "the page stays in device memory: migrate_to_ram could not move it (a peer pinned it, or its driver failed the fault: SIGBUS or a fault retried until it can)"
    : `no ${what === "read" ? "readable" : "writable"} mapping (SIGSEGV)`;
  return new StepError(`${errnoName(err)}: CPU ${what} of page ${page} (${hex(vpn * PAGE_SIZE)}) faults: ${why}`);
}

export const cpuRead: StepHandler<"cpuRead"> = {
  op: "cpuRead",
  run(ctx, step, at) {
    const proc = ctx.process(step.process ?? "main", at("process"));
    const range = ctx.range(proc, step, at);
    ctx.reservePerPage(range.count * VALUE_CHARS, range.count, "values", at("count"));
    const data = new Float64Array(range.count);
    const r = cpuAccessRange(proc.mm, range.start, range.count, false, data);
    if (r.err !== 0) throw failed(proc.mm, r.err, range, r.done, "read");
    return { values: toNumbers(data) };
  },
};

export const cpuWrite: StepHandler<"cpuWrite"> = {
  op: "cpuWrite",
  run(ctx, step, at) {
    const proc = ctx.process(step.process ?? "main", at("process"));
    const range = ctx.range(proc, step, at);
    const index = step.value === "index";
    const r = cpuAccessRange(proc.mm, range.start, range.count, true, null, index ? range.first : (step.value as number), index ? 1 : 0);
    if (r.err !== 0) throw failed(proc.mm, r.err, range, r.done, "write");
    return undefined;
  },
};
