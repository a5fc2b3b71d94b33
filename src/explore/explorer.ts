// Models: one driver under one workload on one machine: a case (owner, buffer size, events, seed)
// becomes a scenario and is run through the one run entry; its outcome is checked (no violation of
// the safety checker: no DMA to a page after it was given back, no write lost across a migration,
// no access after an invalidation returned, no pinned page moved while mapped; no retry loop
// without end; no operation that never finishes) and hashed as a state. It also makes the cases:
// systematic ones (one event placed just before, at and just after every point where a base run's
// driver resumed or its DMA touched a page: every place the kernel could preempt the driver or an
// event could land) and random ones (a fast-check arbitrary, which shrinks a failing case).
// Leaves out: the order cases run in and who runs them (explore.ts, parallel.ts).
import fc from "fast-check";
import type { Fabric } from "../fabric/types.js";
import type { P2pDriver } from "../drivers/api.js";
import type { Calibration } from "../sim/calibration.js";
import type { TraceSpan } from "../sim/trace.js";
import type { RunResult } from "../scenario/results.js";
import type { ScenarioSpec } from "../scenario/schema.js";
import { runScenario } from "../scenario/run.js";
import { caseScenario, MAP_START_NS, parseWorkload, workloadDevices, type ExploreCase, type WorkloadDevices, type WorkloadSpec } from "./workload.js";

/** What the explorer needs to run cases, resolved: the machine, the costs, how printed scenarios name them. */
export interface ExplorerSetup {
  fabric: Fabric;
  /** How a printed scenario names the machine (a builtin name or a file path), and the overlay it applies. */
  topologyRef: string;
  topologyOverlay?: unknown;
  calibration: Calibration;
  /** How a printed scenario names the driver (a builtin name or a module path). */
  driverRef: string;
  workload?: unknown;
  client?: string;
}

/** A run that broke a rule, shrunk. */
export interface ExploreFinding {
  /** What went wrong, one line per problem. */
  message: string;
  case: ExploreCase;
  /** The shrunk case as a scenario `p2pdma-lab run` replays. */
  scenario: ScenarioSpec;
  result: RunResult;
  /** The run's timeline (Chrome/Perfetto trace spans). */
  trace: TraceSpan[];
  /** Whether two replays of the scenario gave the same result (they must). */
  reproduced: boolean;
  /** Found among the systematic cases or the random ones. */
  foundBy: "systematic" | "random";
}

export class Explorer {
  readonly devices: WorkloadDevices;
  readonly workload: WorkloadSpec;

  constructor(readonly driver: P2pDriver, readonly setup: ExplorerSetup) {
    this.workload = parseWorkload(setup.workload);
    this.devices = workloadDevices(this.workload, setup.fabric, setup.client);
  }

  scenarioOf(c: ExploreCase): ScenarioSpec {
    return caseScenario(c, this.devices, this.setup.driverRef, this.setup.topologyRef, this.setup.topologyOverlay);
  }

  /** Runs one case: its problems (null: none) and its state hash. */
  check(c: ExploreCase): { problems: string | null; state: string } {
    const { result } = this.run(c);
    return { problems: problemsOf(result), state: stateOf(result) };
  }

  run(c: ExploreCase, recordPreemptions = false): { result: RunResult; trace: TraceSpan[]; preemptions?: number[] } {
    return runScenario({
      scenario: this.scenarioOf(c), topology: this.setup.fabric, calibration: this.setup.calibration,
      drivers: { [this.devices.client]: this.driver }, recordPreemptions,
    });
  }

  /**
   * The systematic cases: three bases per owner (no event; the device writing, then reading, the
   * whole buffer just after its mapping is made), and each event kind placed 1 ns before, at and 1 ns
   * after every point where a base run's driver resumed or its DMA touched a page.
   */
  systematicCases(): ExploreCase[] {
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
    return out;
  }

  /** The offsets from the mapping's start at which a run of `c` preempted its driver or touched a page (first 64). */
  private pointsOf(c: ExploreCase): number[] {
    const times = (this.run(c, true).preemptions ?? []).filter((t) => t >= MAP_START_NS).map((t) => t - MAP_START_NS);
    return [...new Set(times)].sort((a, b) => a - b).slice(0, 64);
  }

  /** Random cases (fast-check: shrinking a failing one makes fewer, earlier, narrower events on fewer pages). */
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

  /** A systematic case shrunk by fast-check: fewer pages (its events are already one or two). */
  shrinkSystematic(c: ExploreCase, seed: number): ExploreCase {
    const arb = fc.record({
      owner: fc.constant(c.owner),
      pages: fc.integer({ min: 1, max: c.pages }),
      events: fc.constant(c.events),
      seed: fc.constant(c.seed),
    });
    const res = fc.check(fc.property(arb, (x) => this.check(x).problems === null), { numRuns: 50, seed, examples: [[c]] });
    return res.failed ? res.counterexample![0] : c;
  }

  /** A failing case as a finding: replayed twice (the same result both times), with its trace. */
  finding(c: ExploreCase, foundBy: "systematic" | "random"): ExploreFinding {
    const a = this.run(c);
    const b = this.run(c);
    return {
      message: problemsOf(a.result) ?? "(the case no longer fails)", case: c, scenario: this.scenarioOf(c), result: a.result, trace: a.trace,
      reproduced: JSON.stringify(a.result) === JSON.stringify(b.result), foundBy,
    };
  }
}

/** What is wrong with a run, or null: violations, and operations that never finished or broke the locking rules (EDEADLK). */
export function problemsOf(result: RunResult): string | null {
  const out: string[] = [];
  for (const v of result.violations) out.push(`step ${v.step}: ${v.device} at ${v.address}: ${v.reason}`);
  result.steps.forEach((s, i) => {
    if (!s.ok && /^EDEADLK\b/.test(s.error)) out.push(`step ${i}: ${s.error}`);
  });
  return out.length > 0 ? out.join("\n") : null;
}

/** The outcome of a run as a key: steps' results (values read) or errnos, violation codes. */
function stateOf(r: RunResult): string {
  let key = "";
  for (const s of r.steps) {
    if (!s.ok) {
      const colon = s.error.indexOf(":");
      key += `${colon < 0 ? s.error : s.error.slice(0, colon)}|`;
    }
    else if (s.op === "cpuRead" || s.op === "dma") key += `${(s.result as { values?: number[] } | undefined)?.values?.join(",") ?? ""}|`;
    else key += "ok|";
  }
  for (const v of r.violations) key += `${v.code}|`;
  return key;
}
