// Writes the JSON Schemas of the kit's input files (from the zod schemas in src/fabric/schema.ts,
// src/scenario/schema.ts, src/sweep/spec.ts and src/explore/workload.ts) to data/schema/, so editors complete and check
// topology, scenario, sweep and workload files that name them in "$schema" (an inline topology in a scenario refers to the
// topology schema). Run by `npm run build`.
import { writeFileSync, mkdirSync } from "node:fs";
import { z } from "zod";
import { Topology } from "../dist/fabric/schema.js";
import { Scenario } from "../dist/scenario/schema.js";
import { SweepFile } from "../dist/sweep/spec.js";
import { Workload } from "../dist/explore/workload.js";

const schemas = [
  ["topology", Topology, "p2pdma-lab topology"],
  ["scenario", Scenario, "p2pdma-lab scenario"],
  ["sweep", SweepFile, "p2pdma-lab sweep"],
  ["workload", Workload, "p2pdma-lab explorer workload"],
];
mkdirSync(new URL("../data/schema/", import.meta.url), { recursive: true });
for (const [name, zodSchema, title] of schemas) {
  const schema = z.toJSONSchema(zodSchema, { io: "input", unrepresentable: "any" });
  schema.title = title;
  // A scenario's inline topology is checked against the topology schema beside it.
  if (name === "scenario") schema.properties.topology.anyOf[1] = { $ref: "topology.schema.json" };
  writeFileSync(new URL(`../data/schema/${name}.schema.json`, import.meta.url), JSON.stringify(schema, null, 2) + "\n");
}
