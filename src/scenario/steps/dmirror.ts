// Models: the steps that are ioctls of the dmirror test driver (lib/test_hmm.c, DESIGN §4): READ,
// WRITE, MIGRATE_TO_DEV, MIGRATE_TO_SYS, SNAPSHOT, EXCLUSIVE, CHECK_EXCLUSIVE, RELEASE and FLAGS on
// a device's mirror of the step's process, with the counters the selftests read after each ioctl.
// Reads and snapshots walk the CPU page tables, which the cost layer charges per page.
// Leaves out: the driver itself (devices/dmirror.ts).
import type { DmirrorCmd, Dmirror } from "../../devices/dmirror.js";
import { errnoName } from "../../memory/errno.js";
import { hex, PAGE_SIZE } from "../../units/size.js";
import type { FieldPath, PageRange, RunContext } from "../context.js";
import type { RunCosts } from "../costs.js";
import type { DeviceCmdResult, DeviceReadResult } from "../results.js";
import type { StepOf } from "../schema.js";
import { ENTRY_CHARS, toNumbers, VALUE_CHARS } from "../per-page.js";
import { SnapshotTally, snapshotEntries } from "../snapshot-format.js";
import { StepError } from "../step-error.js";
import type { StepHandler } from "./types.js";

type DeviceStep = StepOf<"deviceRead" | "deviceWrite" | "migrateToDevice" | "migrateToSystem" | "snapshot" | "exclusive" | "checkExclusive" | "release">;

/** The mirror of the step's process on the step's device, and the step's page range. */
function open(ctx: RunContext, step: DeviceStep, at: FieldPath): { dm: Dmirror; range: PageRange } {
  const proc = ctx.process(step.process ?? "main", at("process"));
  const range = ctx.range(proc, step, at);
  return { dm: ctx.device(step.device, at("device")).open(proc.mm), range };
}

/** The ioctl's outcome: its counters, or a StepError naming the errno, page and reason. */
function outcome(r: DmirrorCmd, op: string, range: PageRange): DeviceCmdResult {
  if (r.ret !== 0) {
    const page = r.page !== undefined ? ` at page ${r.page - range.start + range.first} (${hex(r.page * PAGE_SIZE)})` : "";
    throw new StepError(`${errnoName(r.ret)}: ${op} failed${page}: ${r.reason ?? "the driver returned an error"}`);
  }
  return { cpages: r.cpages, faults: r.faults };
}

/** An outcome with the data read back. */
function withValues(r: DmirrorCmd, op: string, range: PageRange): DeviceReadResult {
  const out = outcome(r, op, range);
  const values = r.values === undefined ? [] : Array.isArray(r.values) ? r.values : toNumbers(r.values);
  return { cpages: out.cpages, faults: out.faults, values };
}

/** The mirror and range of a step that returns one value per page, with room reserved for them in the run's result. */
function openReading(ctx: RunContext, step: DeviceStep, at: FieldPath): { dm: Dmirror; range: PageRange } {
  const o = open(ctx, step, at);
  ctx.reservePerPage(o.range.count * VALUE_CHARS, o.range.count, "values", at("count"));
  return o;
}

/** dmirror_bounce_init failing: the kernel's vmalloc of the bounce buffer returns NULL. */
function bounceFailed(op: string, range: PageRange): StepError {
  return new StepError(`ENOMEM: ${op} failed: a bounce buffer of ${range.count} pages does not fit in RAM (dmirror_bounce_init)`);
}

/** The cost of a step that walks the CPU page tables over its range (hmm_range_fault). */
const walkCost = (costs: RunCosts, step: { device: string }, _result: unknown, pages: number): void => costs.snapshotWalk(step.device, pages);

export const deviceRead: StepHandler<"deviceRead"> = {
  op: "deviceRead",
  run(ctx, step, at) {
    const { dm, range } = openReading(ctx, step, at);
    return withValues(dm.read(range.start, range.count, { p2p: step.p2p }), step.op, range);
  },
  cost: walkCost,
};

export const deviceWrite: StepHandler<"deviceWrite"> = {
  op: "deviceWrite",
  run(ctx, step, at) {
    const { dm, range } = open(ctx, step, at);
    const data = dm.bounce(range.count);
    if (data === null) throw bounceFailed(step.op, range);
    if (step.value === "index") for (let k = 0; k < range.count; k++) data[k] = range.first + k;
    else data.fill(step.value);
    return outcome(dm.write(range.start, range.count, data, { p2p: step.p2p }), step.op, range);
  },
  cost: walkCost,
};

export const migrateToDevice: StepHandler<"migrateToDevice"> = {
  op: "migrateToDevice",
  run(ctx, step, at) {
    const { dm, range } = openReading(ctx, step, at);
    return withValues(dm.migrateToDevice(range.start, range.count), step.op, range);
  },
};

export const migrateToSystem: StepHandler<"migrateToSystem"> = {
  op: "migrateToSystem",
  run(ctx, step, at) {
    const { dm, range } = open(ctx, step, at);
    return outcome(dm.migrateToSystem(range.start, range.count), step.op, range);
  },
};

export const snapshot: StepHandler<"snapshot"> = {
  op: "snapshot",
  run(ctx, step, at) {
    const { dm, range } = open(ctx, step, at);
    if (step.summarize) {
      // Counted chunk by chunk: no byte per page is kept.
      const tally = new SnapshotTally();
      const out = outcome(dm.snapshot(range.start, range.count, { p2p: step.p2p }, (bytes, offset) => tally.add(bytes, offset)), step.op, range);
      return { ...out, counts: tally.counts() };
    }
    ctx.reservePerPage(range.count * ENTRY_CHARS, range.count, "snapshot entries", at("count"));
    const r = dm.snapshot(range.start, range.count, { p2p: step.p2p });
    return { ...outcome(r, step.op, range), entries: snapshotEntries(r.bytes!) };
  },
  cost: walkCost,
};

export const exclusive: StepHandler<"exclusive"> = {
  op: "exclusive",
  run(ctx, step, at) {
    const { dm, range } = openReading(ctx, step, at);
    return withValues(dm.exclusive(range.start, range.count), step.op, range);
  },
};

export const checkExclusive: StepHandler<"checkExclusive"> = {
  op: "checkExclusive",
  run(ctx, step, at) {
    const { dm, range } = open(ctx, step, at);
    return outcome(dm.checkExclusive(range.start, range.count), step.op, range);
  },
};

export const release: StepHandler<"release"> = {
  op: "release",
  run(ctx, step, at) {
    const { dm, range } = open(ctx, step, at);
    return outcome(dm.release(range.start, range.count), step.op, range);
  },
};

export const flags: StepHandler<"flags"> = {
  op: "flags",
  run(ctx, step, at) {
    const proc = ctx.process(step.process ?? "main", at("process"));
    const r = ctx.device(step.device, at("device")).open(proc.mm).setFlags(step.value);
    return outcome(r, step.op, { start: 0, count: 0, first: 0 });
  },
};
