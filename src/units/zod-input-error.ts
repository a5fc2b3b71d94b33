// Models: turning a failed zod check into the kit's InputError: the field path in the kit's
// notation (`nodes[3].bars[0].size`, `steps[2].op`), the value found there, and a reason that says
// how to fix it. An unknown field is reported before any other issue (zod may list a type error
// first, which is often the same typo seen from the other side: `page` given, `pages` missing),
// with "did you mean" when a known field is within two edits; the known fields come from the
// schema when the caller passes it, and from the other issues at that object otherwise. A
// discriminated union that matches no member is reported at its discriminator ("unknown op").
// Leaves out: every issue after the one reported (the user fixes one thing at a time).
import type { z } from "zod";
import { InputError } from "./input-error.js";
import { nearNames } from "./near-names.js";

/** `nodes[3].bars[0].size` from a path; `root` names the empty path. */
export function formatPath(path: readonly PropertyKey[], root: string): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out === "" ? String(key) : `.${String(key)}`;
  }
  return out === "" ? root : out;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = input;
  for (const key of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

/** How the InputError is framed: the name of the empty path, the union discriminator, the source,
 *  and optionally the schema that was checked (for "did you mean" over all known fields). */
export interface ZodErrorContext {
  root: string;
  discriminator: string;
  source?: string;
  schema?: z.ZodType;
}

/** The InputError for `error`, raised while checking `input`: an unknown field first, else the first issue. */
export function inputErrorFromZod(error: z.ZodError, input: unknown, opts: ZodErrorContext): InputError {
  const issue = error.issues.find((i) => i.code === "unrecognized_keys") ?? error.issues[0];
  let path: PropertyKey[] = [...issue.path];
  let reason = issue.message;
  if (issue.code === "invalid_key") {
    // A record's key broke its rule: say the rule, and show the key as the value.
    reason = issue.issues[0]?.message ?? reason;
    return new InputError(formatPath(path, opts.root), path.at(-1), reason, opts.source);
  }
  if (issue.code === "unrecognized_keys") {
    const [key, ...others] = issue.keys;
    const known = new Set([...knownFields(opts.schema, input, issue.path), ...fieldsNamedByIssues(error, issue.path)]);
    const near = nearNames(key, known, 2, 1)[0];
    path = [...path, key];
    reason = `unknown field${near ? ` (did you mean \`${near}\`?)` : ""}`;
    if (others.length) reason += `; also unknown here: ${others.join(", ")}`;
  } else if (issue.code === "invalid_union") {
    const value = valueAt(input, path);
    if (path.at(-1) !== opts.discriminator && value !== null && typeof value === "object" && opts.discriminator in value) {
      path = [...path, opts.discriminator];
    }
    if (path.at(-1) === opts.discriminator) reason = `unknown ${opts.discriminator} (${issue.message})`;
  }
  return new InputError(formatPath(path, opts.root), valueAt(input, path), reason, opts.source);
}

/** Fields other issues name one level below `path` (a required field reported missing). */
function fieldsNamedByIssues(error: z.ZodError, path: readonly PropertyKey[]): string[] {
  return error.issues
    .filter((i) => i.path.length === path.length + 1 && path.every((key, k) => i.path[k] === key) && typeof i.path[path.length] === "string")
    .map((i) => i.path[path.length] as string);
}

/** The parts of a zod v4 schema definition this module walks. */
interface SchemaDef {
  type: string;
  shape?: Record<string, SchemaLike>;
  element?: SchemaLike;
  options?: SchemaLike[];
  discriminator?: string;
  innerType?: SchemaLike;
  in?: SchemaLike;
  valueType?: SchemaLike;
  values?: unknown[];
  getter?: () => SchemaLike;
}
type SchemaLike = { _zod: { def: SchemaDef } };

const WRAPPERS = new Set(["optional", "nullable", "default", "prefault", "catch", "readonly", "nonoptional"]);

/** The schema under wrappers (optional, default, pipe input, lazy...). */
function unwrap(schema: SchemaLike): SchemaLike {
  for (let s = schema, depth = 0; depth < 32; depth++) {
    const def = s._zod.def;
    if (WRAPPERS.has(def.type) && def.innerType) s = def.innerType;
    else if (def.type === "pipe" && def.in) s = def.in;
    else if (def.type === "lazy" && def.getter) s = def.getter();
    else return s;
  }
  return schema;
}

/** The members of a union `value` may be: the one its discriminator selects, else all. */
function unionMembers(def: SchemaDef, value: unknown): SchemaLike[] {
  const options = (def.options ?? []).map(unwrap);
  const tag = def.discriminator && value !== null && typeof value === "object" ? (value as Record<string, unknown>)[def.discriminator] : undefined;
  if (tag === undefined) return options;
  const chosen = options.filter((o) => {
    const field = o._zod.def.shape?.[def.discriminator!];
    return field !== undefined && unwrap(field)._zod.def.values?.includes(tag) === true;
  });
  return chosen.length ? chosen : options;
}

/** The schemas that check the value at `path` of `input`. */
function schemasAt(schema: SchemaLike, input: unknown, path: readonly PropertyKey[]): SchemaLike[] {
  let here = [unwrap(schema)];
  for (let k = 0; k <= path.length; k++) {
    const value = valueAt(input, path.slice(0, k));
    here = here.flatMap((s) => (s._zod.def.type === "union" ? unionMembers(s._zod.def, value) : [s]));
    if (k === path.length) break;
    const key = path[k];
    here = here.flatMap((s) => {
      const def = s._zod.def;
      const next = def.type === "object" ? def.shape?.[String(key)] : def.type === "array" ? def.element : def.type === "record" ? def.valueType : undefined;
      return next ? [unwrap(next)] : [];
    });
  }
  return here;
}

/** Field names the schema knows for the object at `path` (none without a schema). */
function knownFields(schema: z.ZodType | undefined, input: unknown, path: readonly PropertyKey[]): string[] {
  if (!schema) return [];
  return schemasAt(schema as unknown as SchemaLike, input, path).flatMap((s) => Object.keys(s._zod.def.shape ?? {}));
}
