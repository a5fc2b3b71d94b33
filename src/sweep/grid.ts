// Models: a sweep's grid as numbered points (the product of the value lists, last name fastest,
// so point i is the same point whatever runs it) and the substitution of a point's values into the
// scenario: a string that is exactly "${name}" becomes the value itself (a number stays a number,
// an object stays an object), "${name}" inside a longer string becomes the value's text.
// Leaves out: checking the substituted scenario (plan.ts).
import { InputError } from "../units/input-error.js";

export type GridValues = Record<string, unknown>;

/** The grid's names, in file order, and how many points it has. */
export interface Grid {
  names: string[];
  lists: unknown[][];
  points: number;
}

export function gridOf(grid: Record<string, unknown[]>): Grid {
  const names = Object.keys(grid);
  const lists = names.map((n) => grid[n]);
  return { names, lists, points: lists.reduce((p, l) => p * l.length, 1) };
}

/** The values of point `index` (0 ≤ index < points): mixed-radix digits, the last name the lowest. */
export function pointValues(g: Grid, index: number): GridValues {
  const digits = new Array<number>(g.names.length);
  let rest = index;
  for (let k = g.names.length - 1; k >= 0; k--) {
    digits[k] = rest % g.lists[k].length;
    rest = Math.floor(rest / g.lists[k].length);
  }
  const values: GridValues = {};
  g.names.forEach((n, k) => (values[n] = g.lists[k][digits[k]]));
  return values;
}

const WHOLE = /^\$\{([^}]*)\}$/;
const PART = /\$\{([^}]*)\}/g;

/** The names `${…}` placeholders use anywhere in `template`, each with the path of its first use. */
export function placeholders(template: unknown, path = "scenario", found = new Map<string, string>()): Map<string, string> {
  if (typeof template === "string") {
    for (const m of template.matchAll(PART)) if (!found.has(m[1])) found.set(m[1], path);
  } else if (Array.isArray(template)) template.forEach((v, i) => placeholders(v, `${path}[${i}]`, found));
  else if (template !== null && typeof template === "object") {
    for (const [k, v] of Object.entries(template)) placeholders(v, `${path}.${k}`, found);
  }
  return found;
}

/** Checks that every placeholder names a grid entry and every grid entry is used. */
export function checkPlaceholders(template: unknown, names: readonly string[], source: string): void {
  const used = placeholders(template);
  for (const [name, path] of used) {
    if (!names.includes(name)) {
      throw new InputError(path, `\${${name}}`, `no grid entry named ${JSON.stringify(name)} (grid: ${names.join(", ") || "empty"})`, source);
    }
  }
  for (const name of names) {
    if (!used.has(name)) throw new InputError(`grid.${name}`, name, `the scenario uses no "\${${name}}": every point would run the same scenario`, source);
  }
}

function text(v: unknown): string {
  return typeof v === "string" ? v : JSON.stringify(v);
}

/** `template` with the point's values put in place of its placeholders (a new object; the template is untouched). */
export function substitute(template: unknown, values: GridValues): unknown {
  if (typeof template === "string") {
    const whole = WHOLE.exec(template);
    if (whole) return values[whole[1]];
    return template.includes("${") ? template.replace(PART, (_m, name: string) => text(values[name])) : template;
  }
  if (Array.isArray(template)) return template.map((v) => substitute(v, values));
  if (template !== null && typeof template === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(template)) out[k] = substitute(v, values);
    return out;
  }
  return template;
}
