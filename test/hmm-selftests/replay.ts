// Models: how a test reads a `p2pdma-lab run --json` result (DESIGN §4) the way the hmm selftests read
// the dmirror ioctl struct and mirror buffer: run a scenario in-process, expand page-indexed
// expectations, compare snapshot flag strings. Leaves out: the expectations themselves (the JSON files).
import { main } from "../../src/cli/main.js";
import { bufferIo } from "../../src/cli/io.js";

export type Scalar = number | string;
/** A page-indexed expectation: exact list, one value for all, or segments by buffer page index. */
export type Descriptor =
  | Scalar[]
  | { list: Scalar[] }
  | { all: Scalar }
  | { segments: { first: number; count: number; value: Scalar }[] };

export interface StepExpect {
  step: number;
  op: string;
  ok: boolean;
  errno?: string;
  cpages?: number;
  faults?: number;
  values?: Descriptor;
  entries?: Descriptor;
  assert: string;
  topic: string;
}

export interface CaseExpect {
  case: string;
  test: string;
  source: string;
  exit: number;
  notes?: string[];
  omitted?: string[];
  steps: StepExpect[];
}

export interface ScenarioStep {
  op: string;
  first?: number;
  count?: number;
  buffer?: string;
  [k: string]: unknown;
}

export interface RunStep {
  op: string;
  ok: boolean;
  result?: unknown;
  error?: string;
}

export interface RunOutput {
  steps: RunStep[];
  counters: Record<string, unknown>;
  violations: unknown[];
  simTimeNs: number;
}

/** Runs a scenario through the CLI exactly as `p2pdma-lab run FILE --json` would. */
export async function runScenario(file: string): Promise<{ code: number; out: RunOutput | null; stdout: string; stderr: string }> {
  const io = bufferIo();
  const code = await main(["run", file, "--json"], io);
  let out: RunOutput | null = null;
  try {
    out = JSON.parse(io.stdout()) as RunOutput;
  } catch {
    out = null;
  }
  return { code, out, stdout: io.stdout(), stderr: io.stderr() };
}

/**
 * Expands a descriptor for a step covering `count` pages from buffer page `first`; the string
 * "index" stands for the buffer page index (DESIGN §4 `"value": "index"`).
 */
export function expand(d: Descriptor, first: number, count: number): Scalar[] {
  const at = (v: Scalar, page: number): Scalar => (v === "index" ? page : v);
  if (Array.isArray(d)) return d;
  if ("list" in d) return d.list;
  if ("all" in d) return Array.from({ length: count }, (_, k) => at(d.all, first + k));
  const out: Scalar[] = [];
  for (const s of d.segments) for (let k = 0; k < s.count; k++) out.push(at(s.value, s.first + k));
  return out;
}

/** The page range a step covers: `first` (default 0), `count` (default: rest of the buffer). */
export function stepRange(step: ScenarioStep, bufferPages: Map<string, number>): { first: number; count: number } {
  const first = step.first ?? 0;
  const count = step.count ?? (bufferPages.get(step.buffer ?? "") ?? 0) - first;
  return { first, count };
}

/** Snapshot flags compare as sets: `WRITE|DEV_PRIVATE_LOCAL` equals `DEV_PRIVATE_LOCAL|WRITE`. */
export function normFlags(s: Scalar): string {
  return String(s).split("|").map((x) => x.trim()).sort().join("|");
}

/** First index where two lists differ, or -1; a length difference counts as a mismatch. */
export function firstMismatch(actual: readonly unknown[], wanted: readonly unknown[], norm: (x: Scalar) => unknown = (x) => x): number {
  const n = Math.max(actual.length, wanted.length);
  for (let i = 0; i < n; i++) {
    if (i >= actual.length || i >= wanted.length) return i;
    if (norm(actual[i] as Scalar) !== norm(wanted[i] as Scalar)) return i;
  }
  return -1;
}

/**
 * The per-page strings of a snapshot result. DESIGN §4 says a snapshot result is "one string per
 * page" next to cpages/faults but does not name the key, so the result itself or its first
 * string-array member among `entries`, `values`, `snapshot`, `pages` is taken.
 */
export function snapshotStrings(result: unknown): unknown[] | null {
  if (Array.isArray(result)) return result;
  if (result && typeof result === "object") {
    const r = result as Record<string, unknown>;
    for (const k of ["entries", "values", "snapshot", "pages"]) {
      const v = r[k];
      if (Array.isArray(v) && (v.length === 0 || typeof v[0] === "string")) return v;
    }
  }
  return null;
}

export function field(result: unknown, key: string): unknown {
  return result && typeof result === "object" ? (result as Record<string, unknown>)[key] : undefined;
}

