// Models: the sweep file as a zod schema: a scenario (inline or a path) in which a string
// "${name}" is replaced by each value of `grid.name`, and `metrics` naming the columns read out of
// each run's result by path. Every field is described for the emitted JSON Schema.
// Leaves out: expanding the grid and checking each point (plan.ts).
import { z } from "zod";

/** The names a grid or metric column cannot take: each row has these fields of its own. */
export const RESERVED_COLUMNS = ["index", "ok", "error"] as const;

const Column = (what: string) =>
  z.string()
    .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, `a ${what} name is letters, digits and "_", not starting with a digit`)
    .refine((n) => !(RESERVED_COLUMNS as readonly string[]).includes(n), `"index", "ok" and "error" are columns of every row`);

export const SweepFile = z.strictObject({
  $schema: z.string().optional().describe("The JSON Schema this file follows (for editors); the sweep ignores it."),
  description: z.string().optional().describe("What the sweep compares, for the reader; the sweep ignores it."),
  scenario: z.union([z.string().min(1), z.record(z.string(), z.unknown())]).describe(
    "The scenario every point runs: an inline scenario object, or a path (relative to this file) to a scenario file. " +
    "A string \"${name}\" anywhere in it is replaced by the point's value of grid `name` (a number stays a number); " +
    "\"${name}\" inside a longer string is replaced by the value's text (\"${size}MiB\")."),
  grid: z.record(Column("grid"), z.array(z.json()).min(1)).describe(
    "The values each name takes; the sweep runs every combination (the product of the lists). Points are numbered " +
    "with the last name varying fastest; the CSV's first columns are the names, in this order."),
  metrics: z.record(Column("metric"), z.string().min(1)).describe(
    "The columns read out of each run's result: a column name and a path into the result, such as " +
    "\"steps.0.result.gbps\", \"counters.faults\", \"simTimeNs\" or \"violations.length\" (steps[0] works too). A path that " +
    "the point's result does not have (its step failed) gives an empty cell."),
}).describe("A p2pdma-lab sweep: one scenario run over the product of a grid of values, one row of metrics per point.");

export type SweepSpec = z.output<typeof SweepFile>;
/** The sweep as written: what `defineSweep` completes in an editor. */
export type SweepInput = z.input<typeof SweepFile>;

/** A sweep object, typed as written for completion in editors and notebooks; returns `spec` unchanged. */
export function defineSweep<T extends SweepInput>(spec: T): T {
  return spec;
}
