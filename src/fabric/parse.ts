// Models: the first gate of a topology: the zod shape check, whose issue becomes an InputError
// naming the field path (`nodes[3].bars[0].size`) and the value found there (an unknown field
// first, with "did you mean" from the schema's fields).
// Leaves out: cross-field rules (structure.ts, validate.ts, assign.ts).
import { inputErrorFromZod } from "../units/zod-input-error.js";
import { Topology, type TopologySpec } from "./schema.js";

/** Parses a topology object; bad shape → InputError for an unknown field, else the first issue zod reports. */
export function parseTopology(input: unknown, source?: string): TopologySpec {
  const r = Topology.safeParse(input);
  if (r.success) return r.data;
  throw inputErrorFromZod(r.error, input, { root: "(topology)", discriminator: "kind", source, schema: Topology });
}
