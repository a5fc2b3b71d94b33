// Models: turning a scenario object into a checked ScenarioSpec; every problem is an InputError
// naming the field path (`steps[3].op`) and the value. Leaves out: reading files (load.ts).
import { inputErrorFromZod } from "../units/zod-input-error.js";
import { Scenario, type ScenarioSpec } from "./schema.js";

/** Scenario objects the kit built itself, valid by construction (the explorer's cases). */
const built = new WeakSet<object>();

/** Marks a scenario the kit built as valid (every default written out): runs take it unchecked. */
export function builtScenario<T extends ScenarioSpec>(spec: T): T {
  built.add(spec);
  return spec;
}

/** Validates a parsed scenario object. */
export function parseScenario(input: unknown, source?: string): ScenarioSpec {
  if (typeof input === "object" && input !== null && built.has(input)) return input as ScenarioSpec;
  const r = Scenario.safeParse(input);
  if (r.success) return r.data;
  throw inputErrorFromZod(r.error, input, { root: "(root)", discriminator: "op", source, schema: Scenario });
}
