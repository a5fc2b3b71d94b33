// Models: what a scenario run returns (DESIGN §4 `run --json`), typed: each step's outcome is a
// discriminated union by `op` (and by `ok`), so code reading a result needs no casts; plus the
// run's counters, its violations with the step that caused them, and its simulated time. A step
// with `expect` is marked with whether it met it, and the run's verdict (the CLI's exit status)
// follows the marks.
// Leaves out: the trace (run.ts returns it beside the result).
import type { ViolationCode } from "../memory/events.js";
import type { CostCounters } from "./costs.js";
import type { StepOp } from "./schema.js";

/** What every dmirror ioctl reports (struct hmm_dmirror_cmd): pages touched and fault rounds. */
export interface DeviceCmdResult {
  cpages: number;
  faults: number;
}

/** A command that reads data back: one number per page. */
export interface DeviceReadResult extends DeviceCmdResult {
  values: number[];
}

export type SnapshotResult = DeviceCmdResult & ({ entries: string[] } | { counts: Record<string, number> });

export interface PeerMapStepResult {
  cpages: number;
  faults: number;
  /** Pages per DMA path: by bus address, through the host bridge, or system memory (and bounced pages). */
  paths: { BUS_ADDR: number; THRU_HOST_BRIDGE: number; SYSTEM: number };
  /** P2PDMA map type per provider reached. */
  mapTypes: Record<string, string>;
  /** Pages of the client's own device memory. */
  local?: number;
  /** Pages reached through a host bounce buffer (the NOT_SUPPORTED "bounce" fallback). */
  bounced?: number;
  /** Pages of the range without a mapping when the step ended (an aperture too small, an eviction). */
  unmapped: number;
  /** Per page (ranges up to 1024 pages): path name ("NONE": no mapping) and DMA address. */
  pagePaths?: string[];
  addresses?: string[];
}

export interface DmaStepResult {
  /** Pages the DMA touched (an `async` DMA: the pages it was started on). */
  cpages: number;
  /** A read's values, one per page. */
  values?: number[];
}

/** How an `async` dma ended: when, how far, with what. */
export interface AsyncDmaOutcome {
  step: number;
  device: string;
  endNs: number;
  cpages: number;
  values?: number[];
  /** The fault that ended it early (errno name first). */
  error?: string;
}

export interface TransferStepResult {
  design: string;
  from: string;
  to: string;
  bytes: number;
  /** Time the transfer took, ns, and its rate, GB/s. */
  ns: number;
  gbps: number;
  /** Payload bytes per link id. */
  linkBytes: Record<string, number>;
  /** nvidia-smi class of the path (HOST / HOST-SYS for RAM). */
  class?: string;
  /** P2PDMA map type of the pair (p2p). */
  mapType?: string;
  /** What carried the bytes. */
  interconnect?: "pcie" | "nvlink";
  /** The design's fixed costs within `ns` (launch, mapping, staging, migration software), ns. */
  fixedNs?: number;
}

/** Transfers started together: the last one's end, the aggregate rate, and each one's result. */
export interface ParallelStepResult {
  ns: number;
  gbps: number;
  transfers: TransferStepResult[];
}

/** The result of each kind of step; `undefined` where a step returns none. */
export interface StepResults {
  mmap: { address: string; pages: number };
  munmap: undefined;
  mprotect: undefined;
  fork: undefined;
  cpuRead: { values: number[] };
  cpuWrite: undefined;
  deviceRead: DeviceReadResult;
  deviceWrite: DeviceCmdResult;
  migrateToDevice: DeviceReadResult;
  migrateToSystem: DeviceCmdResult;
  snapshot: SnapshotResult;
  exclusive: DeviceReadResult;
  checkExclusive: DeviceCmdResult;
  release: DeviceCmdResult;
  flags: DeviceCmdResult;
  peerMap: PeerMapStepResult;
  dma: DmaStepResult;
  peerUnmap: { cpages: number };
  resizeBar: { size: number; slots: number };
  transfer: TransferStepResult;
  parallel: ParallelStepResult;
}

/** What one step did to the machine (each a sum the run's counters add up). */
export interface StepCounters {
  /** handle_mm_fault calls, CPU and remote. */
  faults: number;
  /** Interval-notifier invalidate callbacks delivered. */
  invalidations: number;
  /** Pages whose CPU mapping moved to a new page (migrate_vma_finalize). */
  migrations: number;
  /** Peer mappings made: entries a client driver set where its table held none (in `peerMap`, or
   *  a driver's re-mapping inside `dma`); an entry kept as it was is not counted. */
  peerMaps: number;
  /** Peer mappings dropped, of which `peerUnmapsByInvalidation` in notifier callbacks. */
  peerUnmaps: number;
  /** Peer mappings dropped inside interval-notifier invalidate callbacks. */
  peerUnmapsByInvalidation: number;
}

/**
 * What a step with `expect` adds to its outcome: the expectation and whether it was met. `ok` stays
 * what happened; a missed expectation also sets `error` ("expected EFAULT, got ok"), so a step that
 * succeeded against its expectation carries both `result` and `error`.
 */
export interface ExpectationMarks {
  expected?: string;
  met?: boolean;
}

// Every member declares both `result` and `error`, so either reads as "or undefined" without
// narrowing, and narrowing on `op` and `ok` gives the typed result.
type Success<K extends StepOp> = (StepResults[K] extends undefined
  ? { op: K; ok: true; result?: never; error?: string }
  : { op: K; ok: true; result: StepResults[K]; error?: string }) & ExpectationMarks;

/** One step's outcome: success with its typed result, or failure with the reason. */
export type StepOutcome<K extends StepOp> = Success<K> | ({ op: K; ok: false; error: string; result?: never } & ExpectationMarks);

export type StepResult = { [K in StepOp]: StepOutcome<K> }[StepOp];

/** The errno name a failed step's error starts with ("EFAULT: …"), if it has one. */
export function errnoOf(error: string): string | undefined {
  return /^(E[A-Z0-9]+):/.exec(error)?.[1];
}

/**
 * Marks an outcome with its expectation ("ok" or an errno name): met when the step succeeded and
 * "ok" was expected, or failed with that errno. A missed one gets `error` "expected X, got Y".
 */
export function withExpectation(outcome: StepResult, expected: string): StepResult {
  const met = outcome.ok ? expected === "ok" : errnoOf(outcome.error) === expected;
  if (met) return { ...outcome, expected, met };
  return { ...outcome, expected, met, error: `expected ${expected}, got ${outcome.ok ? "ok" : outcome.error}` };
}

/** A step passed: it met its expectation, or (without one) it succeeded. */
export function stepPassed(s: StepResult): boolean {
  return s.met ?? s.ok;
}

/** A run passed (CLI exit 0): every step passed and no DMA violation was found. */
export function runPassed(r: RunResult): boolean {
  return r.violations.length === 0 && r.steps.every(stepPassed);
}

/** Why a run did not pass, in one line (the first step that did not pass, else the first violation); undefined when it passed. */
export function runFailure(r: RunResult): string | undefined {
  const i = r.steps.findIndex((s) => !stepPassed(s));
  if (i >= 0) {
    const error = r.steps[i].error ?? "";
    return error.startsWith(`steps[${i}].`) ? error : `steps[${i}] (${r.steps[i].op}): ${error}`;
  }
  const v = r.violations[0];
  return v && `violation in steps[${v.step}]: ${v.device} at ${v.address}: ${v.reason}`;
}

export interface RunViolation {
  /** Index of the step during which the access happened. */
  step: number;
  code: ViolationCode;
  device: string;
  address: string;
  access: "read" | "write";
  via: string;
  /** The whole verdict as a sentence. */
  reason: string;
}

export interface RunResult {
  steps: StepResult[];
  /** The run's totals, each the sum of `stepCounters`, then the cost layer's. */
  counters: StepCounters & { stepCounters: StepCounters[] } & CostCounters;
  violations: RunViolation[];
  /** The run's simulated time (the cost ledger's clock), ns. */
  simTimeNs: number;
  /** How each `async` dma ended (present when a step started one). */
  dma?: AsyncDmaOutcome[];
}

/** The result of step `i`, which must be an `op` step that succeeded; otherwise an Error saying what it was. */
export function resultOf<K extends StepOp>(run: RunResult, i: number, op: K): StepResults[K] {
  const s = run.steps[i];
  if (s === undefined) throw new Error(`the run has no step ${i} (${run.steps.length} steps)`);
  if (s.op !== op) throw new Error(`step ${i} is ${s.op}, not ${op}`);
  if (!s.ok) throw new Error(`step ${i} (${op}) failed: ${s.error}`);
  return (s as { result?: StepResults[K] }).result as StepResults[K];
}
