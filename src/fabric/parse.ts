// Models: the first gate of a topology: the zod shape check, whose first issue becomes an
// InputError naming the field path (`nodes[3].bars[0].size`) and the value found there.
// Leaves out: cross-field rules (validate.ts, numbering.ts, assign.ts).
import type { z } from "zod";
import { InputError } from "../units/input-error.js";
import { Topology, type TopologySpec } from "./schema.js";

/** `nodes[3].bars[0].size` from a zod issue path. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out === "" ? String(key) : `.${String(key)}`;
  }
  return out === "" ? "(topology)" : out;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = input;
  for (const key of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

function describeIssue(issue: z.core.$ZodIssue, input: unknown): InputErrorArgs {
  if (issue.code === "unrecognized_keys") {
    const path = [...issue.path, issue.keys[0]];
    return { field: formatPath(path), value: valueAt(input, path), reason: "unknown field" };
  }
  const value = valueAt(input, issue.path);
  if (issue.code === "invalid_union" && issue.path.at(-1) !== "kind" && value !== null && typeof value === "object" && "kind" in value) {
    const path = [...issue.path, "kind"];
    return { field: formatPath(path), value: valueAt(input, path), reason: issue.message };
  }
  return { field: formatPath(issue.path), value, reason: issue.message };
}

interface InputErrorArgs {
  field: string;
  value: unknown;
  reason: string;
}

/** Parses a topology object; bad shape → InputError for the first issue zod reports. */
export function parseTopology(input: unknown, source?: string): TopologySpec {
  const r = Topology.safeParse(input);
  if (r.success) return r.data;
  const { field, value, reason } = describeIssue(r.error.issues[0], input);
  throw new InputError(field, value, reason, source);
}
