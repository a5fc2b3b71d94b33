// Models: the explorer of a P2P client driver: it runs the driver through a workload's cases on a
// machine, first systematically (one event placed just before, at and just after every point where
// the driver's work resumed or its DMA touched a page in a run without events: every place the
// kernel could preempt the driver or an event could land), then at random (fast-check, seeded),
// and checks every run: no violation of the safety checker (no DMA to a page after it was given
// back, no write lost across a migration, no access after an invalidation returned, no pinned page
// moved while mapped), no retry loop without end, no operation that never finishes. A failing
// case is shrunk by fast-check to a minimal one, replayed twice to show it reproduces, and
// returned as scenario JSON naming the driver, with its result and trace. It counts the runs and
// the distinct outcomes they reached.
// Leaves out: several client devices at once, and exhaustive search (the systematic part places
// one event; random cases mix up to `maxEvents`).
import { createHash } from "node:crypto";
import fc from "fast-check";
import type { Fabric } from "../fabric/types.js";
import type { P2pDriver } from "../drivers/api.js";
import type { Calibration } from "../sim/calibration.js";
import type { TraceSpan } from "../sim/trace.js";
import type { RunResult } from "../scenario/results.js";
import { runScenario } from "../scenario/run.js";
import { caseScenario, MAP_START_NS, parseWorkload, workloadDevices, type ExploreCase, type WorkloadDevices, type WorkloadSpec } from "./workload.js";

export interface ExploreOptions {
  topology: Fabric;
  /** How the printed scenario names the machine (a builtin name or a path); default the fabric's name. */
  topologyRef?: string;
  calibration: Calibration;
  workload?: unknown;
  /** The driver's device (default: the workload's client). */
  client?: string;
  /** How the printed scenario names the driver (a builtin name or a module path); default its name. */
  driverRef?: string;
  /** Runs in all, systematic and random (default 10 000). */
  runs?: number;
  seed?: number;
  /** Called every so many runs. */
  onProgress?: (p: { runs: number; total: number }) => void;
}

/** A run that broke a rule, shrunk. */
export interface ExploreFinding {
  /** What went wrong, in one line per problem. */
  message: string;
  case: ExploreCase;
  /** The shrunk case as a scenario `p2pdma-lab run` replays. */
  scenario: Record<string, unknown>;
  result: RunResult;
  trace: TraceSpan[];
  /** Whether two replays of the scenario gave the same result (they must). */
  reproduced: boolean;
  /** Found by the systematic part or at random. */
  foundBy: "systematic" | "random";
}

export interface ExploreReport {
  driver: string;
  client: string;
  runs: number;
  systematic: number;
  random: number;
  /** Distinct outcomes (step results, violations, final contents) the runs reached. */
  distinctStates: number;
  seconds: number;
  finding?: ExploreFinding;
}

/** What is wrong with a run, or null: violations, operations that never finished, a driver that broke the model's rules. */
function problems(result: RunResult): string | null {
  const out: string[] = [];
  for (const v of result.violations) out.push(`step ${v.step}: ${v.device} at ${v.address}: ${v.reason}`);
  result.steps.forEach((s, i) => {
    if (!s.ok && /^EDEADLK\b/.test(s.error)) out.push(`step ${i}: ${s.error}`);
  });
  return out.length > 0 ? out.join("\n") : null;
}

export class Explorer {
  readonly devices: WorkloadDevices;
  readonly workload: WorkloadSpec;
  private readonly states = new Set<string>();
  runs = 0;

  constructor(readonly driver: P2pDriver, readonly opts: ExploreOptions) {
    this.workload = parseWorkload(opts.workload);
    this.devices = workloadDevices(this.workload, opts.topology, opts.client);
  }

  get distinctStates(): number {
    return this.states.size;
  }

  scenarioOf(c: ExploreCase): Record<string, unknown> {
    return caseScenario(c, this.devices, this.opts.driverRef ?? this.driver.name, this.opts.topologyRef ?? this.opts.topology.name);
  }

  /** Runs one case; returns its problems (null: none). */
  check(c: ExploreCase): string | null {
    const { result } = this.run(c);
    this.runs++;
    this.states.add(stateOf(result));
    return problems(result);
  }

  run(c: ExploreCase, recordPreemptions = false): { result: RunResult; trace: TraceSpan[]; preemptions?: number[] } {
    try {
      return runScenario({
        scenario: this.scenarioOf(c), topology: this.opts.topology, calibration: this.opts.calibration,
        drivers: { [this.devices.client]: this.driver }, recordPreemptions,
      });
    } catch (e) {
      // A driver that breaks the kernel model's rules (a lock held across a preemption point) ends its run.
      if (e instanceof Error && e.name === "InternalError") return { result: brokeRules(e.message), trace: [] };
      throw e;
    }
  }

  /**
   * The systematic cases: three bases per owner (no event; the device writing, then reading, the
   * whole buffer just after its mapping is made), and each event kind placed 1 ns before, at and 1 ns
   * after every point where a base run's driver resumed or its DMA touched a page.
   */
  systematicCases(limit: number): ExploreCase[] {
    const w = this.workload;
    const out: ExploreCase[] = [];
    for (const owner of this.devices.owners) {
      const plain: ExploreCase = { owner, pages: w.pages, events: [], seed: 0 };
      const mapped = this.pointsOf(plain);
      const after = (mapped.length > 0 ? mapped[mapped.length - 1] : 0) + 1;
      const bases = [plain, ...(["dmaWrite", "dmaRead"] as const).filter((k) => w.events.includes(k)).map((kind): ExploreCase => (
        { owner, pages: w.pages, events: [{ kind, offsetNs: after, first: 0, count: w.pages }], seed: 0 }
      ))];
      for (const base of bases) {
        const points = base === plain ? mapped : this.pointsOf(base);
        for (const kind of w.events) {
          for (const p of [0, ...points]) {
            for (const d of [-1, 0, 1]) {
              if (p + d < 0) continue;
              out.push({ ...base, events: [...base.events, { kind, offsetNs: p + d, first: 0, count: w.pages }], seed: d === 0 ? 1 : 0 });
            }
          }
        }
      }
    }
    return out.slice(0, limit);
  }

  /** The offsets from the mapping's start at which a run of `c` preempted its driver or touched a page (first 64). */
  private pointsOf(c: ExploreCase): number[] {
    const times = (this.run(c, true).preemptions ?? []).filter((t) => t >= MAP_START_NS).map((t) => t - MAP_START_NS);
    return [...new Set(times)].sort((a, b) => a - b).slice(0, 64);
  }

  /** Random cases (fast-check, shrinking on failure). */
  caseArbitrary(): fc.Arbitrary<ExploreCase> {
    const w = this.workload;
    return fc.record({
      owner: fc.constantFrom(...this.devices.owners),
      pages: fc.integer({ min: 1, max: w.pages }),
      events: fc.array(fc.record({
        kind: fc.constantFrom(...w.events),
        offsetNs: fc.integer({ min: 0, max: w.windowNs }),
        first: fc.nat({ max: w.pages - 1 }),
        count: fc.integer({ min: 1, max: w.pages }),
      }), { minLength: 1, maxLength: w.maxEvents }),
      seed: fc.nat({ max: 1000 }),
    });
  }

  /** A failing case as a finding: replayed twice (the same result both times), with its trace. */
  finding(c: ExploreCase, foundBy: "systematic" | "random"): ExploreFinding {
    const a = this.run(c);
    const b = this.run(c);
    return {
      message: problems(a.result) ?? "(the case no longer fails)", case: c, scenario: this.scenarioOf(c), result: a.result, trace: a.trace,
      reproduced: JSON.stringify(a.result) === JSON.stringify(b.result), foundBy,
    };
  }
}

/** Explores `driver` in this thread: systematic cases first, then random ones until `runs`. */
export function explore(driver: P2pDriver, opts: ExploreOptions): ExploreReport {
  const started = performance.now();
  const ex = new Explorer(driver, opts);
  const total = opts.runs ?? 10_000;
  const report = (finding?: ExploreFinding, systematic = 0, random = 0): ExploreReport => ({
    driver: opts.driverRef ?? driver.name, client: ex.devices.client, runs: ex.runs, systematic, random,
    distinctStates: ex.distinctStates, seconds: (performance.now() - started) / 1000, ...(finding ? { finding } : {}),
  });
  const systematic = ex.systematicCases(Math.ceil(total / 2));
  for (const [k, c] of systematic.entries()) {
    if (ex.check(c) !== null) return report(ex.finding(shrink(ex, c, opts.seed), "systematic"), k + 1, 0);
    if (k % 500 === 499) opts.onProgress?.({ runs: ex.runs, total });
  }
  const randomRuns = Math.max(0, total - systematic.length);
  if (randomRuns === 0) return report(undefined, systematic.length, 0);
  const done = ex.runs;
  const res = fc.check(fc.property(ex.caseArbitrary(), (c) => {
    const ok = ex.check(c) === null;
    if (ex.runs % 500 === 0) opts.onProgress?.({ runs: ex.runs, total });
    return ok;
  }), { numRuns: randomRuns, seed: opts.seed ?? 1, endOnFailure: false });
  const random = Math.min(randomRuns, ex.runs - done);
  if (!res.failed) return report(undefined, systematic.length, random);
  return report(ex.finding(res.counterexample![0], "random"), systematic.length, random);
}

/** A systematic case is one event on a full buffer: fast-check shrinks it further (fewer pages, earlier, narrower). */
function shrink(ex: Explorer, c: ExploreCase, seed = 1): ExploreCase {
  const arb = fc.record({
    owner: fc.constant(c.owner),
    pages: fc.integer({ min: 1, max: c.pages }),
    events: fc.constant(c.events),
    seed: fc.constant(c.seed),
  });
  const res = fc.check(fc.property(arb, (x) => ex.check(x) === null), { numRuns: 50, seed, examples: [[c]] });
  return res.failed ? res.counterexample![0] : c;
}

/** The outcome of a run, as a short hash: steps' results or errnos, violation codes, final contents. */
function stateOf(r: RunResult): string {
  const parts = r.steps.map((s) => (s.ok ? (s.op === "cpuRead" || s.op === "dma" ? JSON.stringify(s.result) : "ok") : s.error.split(":")[0]));
  for (const v of r.violations) parts.push(v.code);
  return createHash("sha1").update(parts.join("|")).digest("base64");
}

/** The run of a driver that broke the kernel model's rules, as a failed result. */
function brokeRules(message: string): RunResult {
  return {
    steps: [{ op: "peerMap", ok: false, error: `EDEADLK: the driver broke the model's rules: ${message}` }],
    violations: [], simTimeNs: 0,
    counters: {
      faults: 0, invalidations: 0, migrations: 0, peerMaps: 0, peerUnmaps: 0, peerUnmapsByInvalidation: 0, stepCounters: [],
      bytesMoved: {}, links: {}, opLatency: {}, stepTimesNs: [], calibration: "",
    },
  };
}
