// Models: turning the first issue of a zod check into the kit's InputError: the field path in the
// kit's notation (`nodes[3].bars[0].size`, `steps[2].op`), the value found there, and a reason.
// A discriminated union that matches no member is reported at its discriminator ("unknown op").
// Leaves out: every issue after the first (the user fixes one thing at a time).
import type { z } from "zod";
import { InputError } from "./input-error.js";

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

/** The InputError for the first issue of `error`, raised while checking `input`. */
export function inputErrorFromZod(
  error: z.ZodError,
  input: unknown,
  opts: { root: string; discriminator: string; source?: string },
): InputError {
  const issue = error.issues[0];
  let path: PropertyKey[] = [...issue.path];
  let reason = issue.message;
  if (issue.code === "invalid_key") {
    // A record's key broke its rule: say the rule, and show the key as the value.
    reason = issue.issues[0]?.message ?? reason;
    return new InputError(formatPath(path, opts.root), path.at(-1), reason, opts.source);
  }
  if (issue.code === "unrecognized_keys") {
    path = [...path, issue.keys[0]];
    reason = "unknown field";
  } else if (issue.code === "invalid_union") {
    const value = valueAt(input, path);
    if (path.at(-1) !== opts.discriminator && value !== null && typeof value === "object" && opts.discriminator in value) {
      path = [...path, opts.discriminator];
    }
    if (path.at(-1) === opts.discriminator) reason = `unknown ${opts.discriminator} (${issue.message})`;
  }
  return new InputError(formatPath(path, opts.root), valueAt(input, path), reason, opts.source);
}
