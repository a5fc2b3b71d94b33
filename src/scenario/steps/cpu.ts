// Models: the CPU touching a buffer page by page: a load or store that faults where the PTE does not
// allow it (memory/cpu-access.ts), so a device-private page comes back through migrate_to_ram.
// Leaves out: access size (a page holds one number, DESIGN §4).
import { cpuAccess } from "../../memory/cpu-access.js";
import { errnoName } from "../../memory/errno.js";
import { hex, PAGE_SIZE } from "../../units/size.js";
import { StepError } from "../step-error.js";
import type { StepHandler } from "./types.js";

export const cpuRead: StepHandler<"cpuRead"> = {
  op: "cpuRead",
  run(ctx, step, at) {
    const proc = ctx.process(step.process ?? "main", at("process"));
    const { start, count, first } = ctx.range(proc, step, at);
    const frames = ctx.machine.mem.frames; // frames.content is read after each access: a fault may grow it
    const values: number[] = [];
    for (let k = 0; k < count; k++) {
      const f = cpuAccess(proc.mm, start + k, false);
      if (f < 0) throw new StepError(`${errnoName(f)}: CPU read of page ${first + k} (${hex((start + k) * PAGE_SIZE)}) faults: no readable mapping (SIGSEGV)`);
      values.push(frames.content[f]);
    }
    return { values };
  },
};

export const cpuWrite: StepHandler<"cpuWrite"> = {
  op: "cpuWrite",
  run(ctx, step, at) {
    const proc = ctx.process(step.process ?? "main", at("process"));
    const { start, count, first } = ctx.range(proc, step, at);
    const frames = ctx.machine.mem.frames;
    for (let k = 0; k < count; k++) {
      const f = cpuAccess(proc.mm, start + k, true);
      if (f < 0) throw new StepError(`${errnoName(f)}: CPU write of page ${first + k} (${hex((start + k) * PAGE_SIZE)}) faults: no writable mapping (SIGSEGV)`);
      frames.content[f] = step.value === "index" ? first + k : step.value;
    }
    return undefined;
  },
};
