// The `run --json` writer (src/cli/json-out.ts) prints exactly JSON.stringify's text, in pieces:
// as strings, or as the UTF-8 bytes of one reused buffer (writeJsonBytes, what the binary writes
// to standard output).
import { describe, expect, it } from "vitest";
import { writeJson, writeJsonBytes } from "../src/cli/json-out.js";

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

  it("writes the UTF-8 bytes of JSON.stringify's text from one reused buffer", () => {
    const long = Array.from({ length: 300_000 }, (_, i) => (i % 5 === 0 ? -i * 7919 : i * 1000));
    long[3] = 0.25;
    const v = { steps: [{ error: "EFAULT: “quoted” é \u2028", values: long }], big: "ü".repeat(1_100_000), tail: [1, "x"] };
    const pieces: Uint8Array[] = [];
    const copies: Buffer[] = [];
    writeJsonBytes(v, (b) => {
      pieces.push(b);
      copies.push(Buffer.from(b)); // a piece is valid only during the call
    }, "\n");
    expect(Buffer.concat(copies).toString("utf8")).toBe(`${JSON.stringify(v)}\n`);
    // The values go out in pieces that are views of the same buffer; the long non-ASCII string goes out on its own.
    const shared = pieces.filter((p) => p.buffer === pieces[0].buffer);
    expect(shared.length).toBeGreaterThan(1);
    expect(pieces.length).toBeGreaterThan(shared.length);
  });
});
