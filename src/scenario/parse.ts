// Models: turning a scenario object into a checked ScenarioSpec; every problem is an InputError
// naming the field path (`steps[3].op`) and the value. Leaves out: reading files (load.ts).
import { inputErrorFromZod } from "../units/zod-input-error.js";
import { Scenario, type ScenarioSpec } from "./schema.js";

/** Validates a parsed scenario object. */
export function parseScenario(input: unknown, source?: string): ScenarioSpec {
  const r = Scenario.safeParse(input);
  if (r.success) return r.data;
  throw inputErrorFromZod(r.error, input, { root: "(root)", discriminator: "op", source, schema: Scenario });
}
