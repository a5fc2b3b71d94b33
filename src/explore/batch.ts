// Models: one batch of an exploration, the unit a worker thread runs: a slice of the systematic
// cases, or a number of random cases drawn by fast-check from the batch's own seed. The first
// failing case of a batch is shrunk (fast-check) and returned as a finding; the batch also returns
// the distinct states its runs reached. The same batch gives the same outcome in any thread.
// Leaves out: which batches run and where (explore.ts).
import fc from "fast-check";
import type { Explorer, ExploreFinding } from "./explorer.js";
import type { ExploreCase } from "./workload.js";

export interface BatchTask {
  /** Position in the exploration: the lowest failing batch is the one reported. */
  index: number;
  /** Systematic cases [from, to), or random runs drawn from `seed`. */
  systematic?: { from: number; to: number };
  random?: { seed: number; runs: number };
}

export interface BatchOutcome {
  index: number;
  runs: number;
  /** State hashes the runs reached (each once). */
  states: string[];
  finding?: ExploreFinding;
}

/** Runs `task` with `ex`; `systematic` is ex.systematicCases() (made once per thread). */
export function runBatch(ex: Explorer, systematic: ExploreCase[], task: BatchTask): BatchOutcome {
  const states = new Set<string>();
  let runs = 0;
  const check = (c: ExploreCase): boolean => {
    runs++;
    const r = ex.check(c);
    states.add(r.state);
    return r.problems === null;
  };
  const out = (finding?: ExploreFinding): BatchOutcome => ({ index: task.index, runs, states: [...states], ...(finding ? { finding } : {}) });
  if (task.systematic) {
    for (let i = task.systematic.from; i < task.systematic.to; i++) {
      if (!check(systematic[i])) return out(ex.finding(ex.shrinkSystematic(systematic[i], task.index + 1), "systematic"));
    }
    return out();
  }
  const r = task.random!;
  let failed = false;
  // Runs made while shrinking are not counted as explored interleavings.
  const res = fc.check(fc.property(ex.caseArbitrary(), (c) => {
    if (failed) return ex.check(c).problems === null;
    const ok = check(c);
    failed = !ok;
    return ok;
  }), { numRuns: r.runs, seed: r.seed });
  return res.failed ? out(ex.finding(res.counterexample![0], "random")) : out();
}
