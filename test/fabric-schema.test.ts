// The topology file's JSON Schema (emitted from src/fabric/schema.ts as data/schema/topology.schema.json)
// describes every field: a walk over the emitted schema fails on any property without a description.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { Topology } from "../src/fabric/schema.js";

type JsonSchema = { [key: string]: unknown };

/** Paths (`nodes[].hostBridge.cpu.vendor`) of every property in `schema` that has no description. */
function undescribed(schema: unknown, path: string, out: string[]): string[] {
  if (schema === null || typeof schema !== "object") return out;
  const s = schema as JsonSchema;
  const props = s.properties as Record<string, JsonSchema> | undefined;
  if (props) {
    const kind = (props.kind as { const?: string } | undefined)?.const;
    const here = kind ? `${path}<${kind}>` : path;
    for (const [name, prop] of Object.entries(props)) {
      const at = here ? `${here}.${name}` : name;
      if (typeof prop.description !== "string" || prop.description.trim() === "") out.push(at);
      undescribed(prop, at, out);
    }
  }
  for (const key of ["items", "additionalProperties"]) if (s[key] && typeof s[key] === "object") undescribed(s[key], `${path}[]`, out);
  for (const key of ["anyOf", "oneOf", "allOf"]) for (const sub of (s[key] as unknown[] | undefined) ?? []) undescribed(sub, path, out);
  for (const sub of Object.values((s.$defs as Record<string, unknown> | undefined) ?? {})) undescribed(sub, `${path}$defs`, out);
  return out;
}

describe("topology JSON Schema", () => {
  const schema = z.toJSONSchema(Topology, { io: "input", unrepresentable: "any" }) as JsonSchema;

  it("describes every property, at every depth", () => {
    expect(undescribed(schema, "", [])).toEqual([]);
  });

  it("so does the file `npm run build` writes for editors (data/schema/topology.schema.json)", () => {
    const file = JSON.parse(readFileSync(join(import.meta.dirname, "..", "data", "schema", "topology.schema.json"), "utf8")) as JsonSchema;
    expect(undescribed(file, "", [])).toEqual([]);
  });

  it("the walk finds undescribed properties (it would fail on a schema without descriptions)", () => {
    const bare = z.toJSONSchema(z.strictObject({ a: z.number(), b: z.strictObject({ c: z.string().describe("c") }).describe("b") }));
    expect(undescribed(bare, "", [])).toEqual(["a"]);
  });

  it("names the fields the cost model and importers share: cpu.model/name, platform, linkSpeed, linkCurrent", () => {
    const text = JSON.stringify(schema);
    for (const field of ['"platform"', '"linkSpeed"', '"linkCurrent"', '"model"']) expect(text).toContain(field);
  });
});
