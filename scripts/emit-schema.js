// Writes the topology file's JSON Schema (from the zod schema in src/fabric/schema.ts) to
// data/schema/ so editors can check topology files. Run by `npm run build`.
import { writeFileSync, mkdirSync } from "node:fs";
import { z } from "zod";
import { Topology } from "../dist/fabric/schema.js";

const schema = z.toJSONSchema(Topology, { io: "input", unrepresentable: "any" });
schema.title = "p2pdma-lab topology";
mkdirSync(new URL("../data/schema/", import.meta.url), { recursive: true });
writeFileSync(new URL("../data/schema/topology.schema.json", import.meta.url), JSON.stringify(schema, null, 2) + "\n");
