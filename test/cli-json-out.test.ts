// The `run --json` writer (src/cli/json-out.ts) prints exactly JSON.stringify's text, in pieces.
import { describe, expect, it } from "vitest";
import { writeJson } from "../src/cli/json-out.js";

function written(v: unknown): string {
  const parts: string[] = [];
  writeJson(v, (t) => parts.push(t), "\n");
  return parts.join("");
}

describe("writeJson", () => {
  it("writes what JSON.stringify writes, long number arrays included", () => {
    const long = Array.from({ length: 3000 }, (_, i) => (i % 7 === 0 ? -i : i));
    long[5] = 0.5;
    long[6] = NaN;
    long[7] = -0;
    long[8] = 1e21;
    long[9] = Number.MAX_SAFE_INTEGER;
    long[10] = Infinity;
    const v = {
      steps: [{ op: "x", ok: true, result: { values: long, entries: ["READ", "WRITE|PMD"], n: undefined } }, { op: "y", ok: false, error: "EFAULT: page … “quoted” \u2028" }],
      counters: { a: 1, nested: { b: [1, 2, undefined, null], c: "é" } },
      empty: [],
      fn: () => 1,
    };
    expect(written(v)).toBe(`${JSON.stringify(v)}\n`);
  });

  it("hands a large result out in several pieces", () => {
    const parts: string[] = [];
    const values = Array.from({ length: 400_000 }, (_, i) => i * 1000);
    writeJson({ values }, (t) => parts.push(t));
    expect(parts.length).toBeGreaterThan(1);
    expect(parts.join("")).toBe(JSON.stringify({ values }));
  });
});
