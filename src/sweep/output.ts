// Models: a sweep's outputs and the merge of shard outputs. CSV (RFC 4180): the columns in a fixed
// order (grid names in file order, metrics, ok, error), one row per point in index order, numbers
// printed as JavaScript prints them (the shortest text that reads back as the same double), so the
// bytes are the same whatever ran the points. JSON: the sweep's hash, its point count, the shard
// it holds (when a shard), the columns and the rows with their indices; `mergeSweeps` checks
// shard outputs belong to one sweep and cover every point once, and gives the whole sweep's result.
// Leaves out: writing files (the CLI does).
import { z } from "zod";
import { InputError } from "../units/input-error.js";
import { inputErrorFromZod } from "../units/zod-input-error.js";
import type { SweepResult, SweepRow, SweepRowBase } from "./run.js";

function cell(v: unknown): string {
  const text = v === null || v === undefined ? "" : typeof v === "object" ? JSON.stringify(v) : String(v);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** The rows as CSV: a header line, then one line per row. */
export function sweepCsv(r: SweepResult<SweepRowBase>): string {
  const lines = [r.columns.map(cell).join(",")];
  for (const row of r.rows as SweepRow[]) lines.push(r.columns.map((c) => cell(row[c])).join(","));
  return `${lines.join("\n")}\n`;
}

/** The result as JSON text, one row per line. */
export function sweepJson(r: SweepResult<SweepRowBase>): string {
  const head = { sweep: r.sweep, points: r.points, ...(r.shard ? { shard: r.shard } : {}), columns: r.columns };
  const rows = r.rows.map((row) => JSON.stringify(row));
  return `${JSON.stringify(head).slice(0, -1)},"rows":[${rows.length ? `\n${rows.join(",\n")}\n` : ""}]}\n`;
}

const SweepOutput = z.object({
  sweep: z.string().regex(/^[0-9a-f]{64}$/),
  points: z.number().int().min(1),
  shard: z.string().optional(),
  columns: z.array(z.string()),
  rows: z.array(z.looseObject({ index: z.number().int().min(0), ok: z.boolean(), error: z.string().nullable() })),
});

/**
 * Merges shard outputs (parsed JSON, each named by `sources[i]`) into the whole sweep's result:
 * they must share the sweep's hash, point count and columns, and hold every point exactly once.
 */
export function mergeSweeps(outputs: unknown[], sources: string[]): SweepResult {
  if (outputs.length === 0) throw new InputError("shards", "none", "name the JSON outputs of the shards to merge");
  const parsed = outputs.map((o, i) => {
    const r = SweepOutput.safeParse(o);
    if (!r.success) throw inputErrorFromZod(r.error, o, { root: "(root)", discriminator: "op", source: `${sources[i]} (a sweep's --json output)` });
    return r.data;
  });
  const first = parsed[0];
  const owner = new Array<number>(first.points).fill(-1);
  const rows = new Array<SweepRow>(first.points);
  parsed.forEach((p, i) => {
    if (p.sweep !== first.sweep) throw new InputError("sweep", p.sweep, `${sources[i]} is from another sweep than ${sources[0]} (${first.sweep}): the sweep file, its scenario, machines or the kit differ`, sources[i]);
    if (p.points !== first.points || p.columns.join("\n") !== first.columns.join("\n")) {
      throw new InputError("columns", p.columns.join(","), `${sources[i]} does not match ${sources[0]}`, sources[i]);
    }
    p.rows.forEach((row, j) => {
      if (row.index >= first.points) throw new InputError(`rows[${j}].index`, row.index, `the sweep has points 0 to ${first.points - 1}`, sources[i]);
      if (owner[row.index] >= 0) throw new InputError(`rows[${j}].index`, row.index, `point ${row.index} is also in ${sources[owner[row.index]]}: each shard once`, sources[i]);
      owner[row.index] = i;
      rows[row.index] = (outputs[i] as { rows: SweepRow[] }).rows[j]; // as written: zod's copy puts its own keys first
    });
  });
  const missing = owner.flatMap((o, index) => (o < 0 ? [index] : []));
  if (missing.length > 0) {
    const shown = missing.slice(0, 10).join(", ") + (missing.length > 10 ? `, … (${missing.length} in all)` : "");
    throw new InputError("rows", `${first.points - missing.length} of ${first.points} points`, `points ${shown} are in none of the outputs: a shard is missing`, sources.join(", "));
  }
  return { sweep: first.sweep, points: first.points, columns: first.columns, rows };
}
