// Models: the first gate of a topology: the zod shape check, whose first issue becomes an
// InputError naming the field path (`nodes[3].bars[0].size`) and the value found there.
// Leaves out: cross-field rules (structure.ts, validate.ts, assign.ts).
import { inputErrorFromZod } from "../units/zod-input-error.js";
import { Topology, type TopologySpec } from "./schema.js";

/** Parses a topology object; bad shape → InputError for the first issue zod reports. */
export function parseTopology(input: unknown, source?: string): TopologySpec {
  const r = Topology.safeParse(input);
  if (r.success) return r.data;
  throw inputErrorFromZod(r.error, input, { root: "(topology)", discriminator: "kind", source });
}
