// Models: the model's validation data (data/validation/): each entry is one published measurement
// (a reproduction target of costs.md §6.4, or a held-out figure from another machine) with its
// source and machine-readable source id, the published value and unit, and how the model predicts
// it: a scenario run through `run --json` (the value read from one step's result), or a probe of a
// figure no scenario step exposes (a device's DMA read latency, a fault batch, a shootdown ratio).
// Also the error and the summary (median and worst |error|) a validation table reports.
// Leaves out: running scenarios (the caller runs them through the CLI) and reading files.
import { z } from "zod";
import { InputError } from "../units/input-error.js";
import { param, SourceId, withParams, type Calibration } from "./calibration.js";
import { costTransfer } from "./designs.js";
import { dmaReadLatencyNs, randomReadGBps } from "./device-read.js";
import { deviceFaultNs, migrateNs, otherCpus } from "./hmm-costs.js";
import type { LinkGraph } from "./link-graph.js";
import { migrationPath } from "./migration.js";

export const Unit = z.enum(["GB/s", "Gb/s", "ns", "us", "ratio"]);

/** A figure of the model that no scenario step exposes. */
export const Probe = z.discriminatedUnion("name", [
  z.strictObject({ name: z.literal("dmaReadLatency"), device: z.string(), bytes: z.number().int().min(1), iommuWindowBytes: z.number().int().min(1).optional() }),
  z.strictObject({ name: z.literal("iotlbMissLatency"), device: z.string(), bytes: z.number().int().min(1), fromWindowBytes: z.number().int().min(1), toWindowBytes: z.number().int().min(1) }),
  z.strictObject({ name: z.literal("randomReads"), device: z.string(), bytes: z.number().int().min(1), iommuWindowBytes: z.number().int().min(1).optional(), iommuPageBytes: z.number().int().min(4096).optional() }),
  z.strictObject({ name: z.literal("uvmCopy"), device: z.string(), bytes: z.number().int().min(1) }),
  z.strictObject({ name: z.literal("faultBatch"), faults: z.number().int().min(1) }),
  z.strictObject({ name: z.literal("shootdownSpeedup"), pages: z.number().int().min(1) }),
  z.strictObject({ name: z.literal("ipiReduction"), pages: z.number().int().min(1) }),
]);

export const ValidationEntry = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9_.-]+$/),
  kind: z.enum(["target", "held-out"]),
  title: z.string().min(1),
  /** Where the published value comes from, in words (with the URL). */
  source: z.string().min(1),
  sourceId: SourceId,
  published: z.number().positive(),
  /** The spread the source reports, when it gives one. */
  range: z.tuple([z.number(), z.number()]).optional(),
  unit: Unit,
  /** Targets: the tolerance costs.md §6.4 gives (a fraction of the published value). */
  tolerance: z.number().positive().optional(),
  /** What the source does not say about the machine and how the topology fills it in. */
  assumptions: z.string().optional(),
  /** A scenario (topology path relative to data/validation/, no calibration: the machine decides). */
  scenario: z.record(z.string(), z.unknown()).optional(),
  /** Which figure of the run: step `step`'s `field` (of its `transfers[transfer]` for a parallel step). */
  measure: z.strictObject({ step: z.number().int().min(0), field: z.enum(["gbps", "ns"]), transfer: z.number().int().min(0).optional() }).optional(),
  /** Or a probe of the model on `topology` (a path relative to data/validation/). */
  probe: Probe.optional(),
  topology: z.string().optional(),
});

export type ValidationEntrySpec = z.output<typeof ValidationEntry>;
export type ProbeSpec = z.output<typeof Probe>;

/** Checks one validation file: its shape, and that it says how to predict the value (one way). */
export function parseValidationEntry(raw: unknown, source: string): ValidationEntrySpec {
  const parsed = ValidationEntry.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InputError(issue.path.map(String).join(".") || "(root)", undefined, issue.message, source);
  }
  const e = parsed.data;
  const byScenario = e.scenario !== undefined && e.measure !== undefined;
  const byProbe = e.probe !== undefined && e.topology !== undefined;
  if (byScenario === byProbe) throw new InputError("scenario", e.id, "an entry has either `scenario` with `measure`, or `probe` with `topology`", source);
  if (e.kind === "target" && e.tolerance === undefined) throw new InputError("tolerance", e.id, "a target states its tolerance", source);
  return e;
}

/** The value an entry measures from a run's JSON result, in the entry's unit. */
export function measuredValue(e: ValidationEntrySpec, run: { steps: { ok: boolean; error?: string; result?: unknown }[] }): number {
  const m = e.measure!;
  const step = run.steps[m.step];
  if (!step?.ok) throw new InputError(`steps[${m.step}]`, e.id, `the scenario's step failed: ${step?.error ?? "missing"}`);
  let r = step.result as Record<string, number> & { transfers?: Record<string, number>[] };
  if (m.transfer !== undefined) r = r.transfers![m.transfer] as typeof r;
  return inUnit(e.unit, m.field === "gbps" ? r.gbps : r.ns, m.field);
}

function inUnit(unit: string, value: number, field: "gbps" | "ns"): number {
  if (field === "gbps") return unit === "Gb/s" ? value * 8 : value;
  return unit === "us" ? value / 1000 : value;
}

/** The value of a probe on a machine, in the entry's unit. */
export function probeValue(e: ValidationEntrySpec, g: LinkGraph): number {
  const p = e.probe!;
  const cal = g.calibration;
  switch (p.name) {
    case "dmaReadLatency":
      return inUnit(e.unit, dmaReadLatencyNs(g, p.device, p.bytes, p.iommuWindowBytes), "ns");
    case "iotlbMissLatency":
      return inUnit(e.unit, dmaReadLatencyNs(g, p.device, p.bytes, p.toWindowBytes) - dmaReadLatencyNs(g, p.device, p.bytes, p.fromWindowBytes), "ns");
    case "randomReads": {
      const graph = p.iommuPageBytes === undefined ? g : { ...g, calibration: withParams(cal, { iommuPageBytes: p.iommuPageBytes }) };
      return inUnit(e.unit, randomReadGBps(graph, p.device, p.bytes, p.iommuWindowBytes), "gbps");
    }
    case "uvmCopy":
      // A copy the UVM driver pushes to the device's copy engine: no API launch, the path and the bytes.
      return inUnit(e.unit, costTransfer(g, migrationPath(g, p.device, "toDevice"), p.bytes).ns, "ns");
    case "faultBatch":
      return inUnit(e.unit, deviceFaultNs(cal, p.faults).ns, "ns");
    case "shootdownSpeedup":
    case "ipiReduction": {
      // migrate_pages between the sockets of a multi-threaded process: the CPU copies each page
      // across the socket link; one shootdown per page, or one per batch of <= migrateBatchMax.
      const opts = { copyGBps: param(cal, "socketGBps"), remote: otherCpus(cal) };
      const perPage = migrateNs(cal, p.pages, { ...opts, batchedFlush: false });
      const batched = migrateNs(cal, p.pages, { ...opts, batchedFlush: true });
      return p.name === "shootdownSpeedup" ? perPage.ns / batched.ns : 1 - batched.ipis / perPage.ipis;
    }
  }
}

/** Signed relative error of the model against the published value. */
export function relativeError(model: number, published: number): number {
  return (model - published) / published;
}

/** Median and worst |error| of a list of errors. */
export function errorSummary(errors: readonly number[]): { count: number; median: number; worst: number; within15: number } {
  const abs = errors.map(Math.abs).sort((a, b) => a - b);
  const n = abs.length;
  const median = n === 0 ? 0 : n % 2 ? abs[(n - 1) >> 1] : (abs[n / 2 - 1] + abs[n / 2]) / 2;
  return { count: n, median, worst: n === 0 ? 0 : abs[n - 1], within15: abs.filter((a) => a <= 0.15).length };
}

/** The parameters a calibration lent to the model, by status (for "predicted or sourced"). */
export function paramStatuses(cal: Calibration, names: Iterable<string>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const n of names) {
    const s = cal.params[n as keyof typeof cal.params];
    if (!s) continue;
    (out[s.status] ??= []).push(n);
  }
  return out;
}
