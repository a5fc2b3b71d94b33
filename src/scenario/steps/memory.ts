// Models: the steps that change a process's address space wholesale: mmap (anonymous, shared,
// file, THP-capable or hugetlb), munmap, mprotect (each then flushes the CPU TLB) and fork.
// Leaves out: the operations themselves (memory/address-space.ts, memory/fork.ts).
import { errnoName } from "../../memory/errno.js";
import { forkMm } from "../../memory/fork.js";
import { PMD_ORDER, PROT_NONE, PROT_READ, PROT_WRITE, PUD_ORDER } from "../../memory/vma.js";
import { hex, PAGE_SIZE } from "../../units/size.js";
import { StepError } from "../step-error.js";
import type { StepHandler } from "./types.js";

const PROTS: Record<string, number> = { none: PROT_NONE, r: PROT_READ, rw: PROT_READ | PROT_WRITE };

export const mmap: StepHandler<"mmap"> = {
  op: "mmap",
  run(ctx, step, at) {
    const proc = ctx.process(step.process ?? "main", at("process"));
    const order = step.huge === "pud" ? PUD_ORDER : step.huge === "pmd" ? PMD_ORDER : 0;
    const file = step.file !== undefined && step.file !== false ? ctx.file(step.file) : null;
    const start = proc.mm.mmap(step.pages, PROTS[step.prot], {
      shared: step.shared ?? false, file, hugeOrder: order, hugetlb: step.huge === "pud",
    });
    if (start < 0) throw new StepError(`${errnoName(start)}: mmap of ${step.pages} pages failed`);
    proc.buffers.set(step.buffer, { start, pages: step.pages });
    return { address: hex(start * PAGE_SIZE), pages: step.pages };
  },
};

export const munmap: StepHandler<"munmap"> = {
  op: "munmap",
  run(ctx, step, at) {
    const proc = ctx.process(step.process ?? "main", at("process"));
    const { start, count, first } = ctx.range(proc, step, at);
    const ret = proc.mm.munmap(start, count);
    if (ret < 0) throw new StepError(`${errnoName(ret)}: munmap of pages ${first}..${first + count - 1} failed`);
    return undefined;
  },
  cost: (costs, _step, _result, pages) => costs.tlbFlush(pages),
};

export const mprotect: StepHandler<"mprotect"> = {
  op: "mprotect",
  run(ctx, step, at) {
    const proc = ctx.process(step.process ?? "main", at("process"));
    const { start, count, first } = ctx.range(proc, step, at);
    const ret = proc.mm.mprotect(start, count, PROTS[step.prot]);
    if (ret < 0) throw new StepError(`${errnoName(ret)}: mprotect of page ${first}+: part of the range is not mapped`);
    return undefined;
  },
  cost: (costs, _step, _result, pages) => costs.tlbFlush(pages),
};

export const fork: StepHandler<"fork"> = {
  op: "fork",
  run(ctx, step, at) {
    const proc = ctx.process(step.process ?? "main", at("process"));
    if (ctx.processes.has(step.child)) throw new StepError(`${at("child")}: process ${JSON.stringify(step.child)} already exists`);
    const child = forkMm(proc.mm, step.child);
    ctx.processes.set(step.child, { mm: child, buffers: new Map(proc.buffers) });
    return undefined;
  },
};
