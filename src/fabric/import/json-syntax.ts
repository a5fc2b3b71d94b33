// Models: a JSON syntax check that finds where a document first goes wrong (line and column) and
// how deeply it nests, without recursion, so a bad or hostile file gets a precise InputError.
// Leaves out: building values (JSON.parse does that once the text is known to be well formed).

/** What is wrong with a JSON text and where; undefined when it is well formed. */
export interface JsonSyntaxProblem {
  line: number;
  column: number;
  problem: string;
}

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);

/** Position of `offset` as 1-based line and column. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 0x0a) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

/**
 * Scans `text` as RFC 8259 JSON with an explicit stack. Returns the first problem, or a problem
 * when nesting exceeds `maxDepth` (no real topology nests deeper than a few levels).
 */
export function checkJsonSyntax(text: string, maxDepth: number): JsonSyntaxProblem | undefined {
  const n = text.length;
  let i = 0;
  const stack: number[] = []; // 0x7b '{' or 0x5b '['
  // state: what the scanner expects next
  // "value" | "valueOrClose" (after '[') | "keyOrClose" (after '{') | "key" | "colon" | "commaOrClose" | "end"
  let expect = "value";
  const fail = (at: number, problem: string): JsonSyntaxProblem => ({ ...lineColumn(text, at), problem });
  const describe = (at: number): string =>
    at >= n ? "end of input" : `character ${JSON.stringify(text[at])}`;

  while (true) {
    while (i < n && WS.has(text.charCodeAt(i))) i++;
    if (i >= n) {
      if (expect === "end") return undefined;
      return fail(i, stack.length ? `unexpected end of input inside ${stack.at(-1) === 0x7b ? "an object" : "an array"}` : "unexpected end of input");
    }
    const c = text.charCodeAt(i);
    if (expect === "end") return fail(i, `unexpected ${describe(i)} after the end of the document`);
    if (expect === "colon") {
      if (c !== 0x3a) return fail(i, `expected ':' after a property name, found ${describe(i)}`);
      i++;
      expect = "value";
      continue;
    }
    if (expect === "commaOrClose") {
      const top = stack.at(-1);
      if (c === 0x2c) {
        i++;
        expect = top === 0x7b ? "key" : "value";
        continue;
      }
      if ((c === 0x7d && top === 0x7b) || (c === 0x5d && top === 0x5b)) {
        i++;
        stack.pop();
        expect = stack.length ? "commaOrClose" : "end";
        continue;
      }
      return fail(i, `expected ',' or '${top === 0x7b ? "}" : "]"}', found ${describe(i)}`);
    }
    if (expect === "keyOrClose" || expect === "key") {
      if (expect === "keyOrClose" && c === 0x7d) {
        i++;
        stack.pop();
        expect = stack.length ? "commaOrClose" : "end";
        continue;
      }
      if (c !== 0x22) return fail(i, `expected a property name in double quotes, found ${describe(i)}`);
      const end = scanString(text, i);
      if (typeof end !== "number") return fail(end.at, end.problem);
      i = end;
      expect = "colon";
      continue;
    }
    // expect is "value" or "valueOrClose"
    if (expect === "valueOrClose" && c === 0x5d) {
      i++;
      stack.pop();
      expect = stack.length ? "commaOrClose" : "end";
      continue;
    }
    if (c === 0x7b || c === 0x5b) {
      if (stack.length >= maxDepth) return fail(i, `nested deeper than ${maxDepth} levels`);
      stack.push(c);
      i++;
      expect = c === 0x7b ? "keyOrClose" : "valueOrClose";
      continue;
    }
    let end: number | { at: number; problem: string };
    if (c === 0x22) end = scanString(text, i);
    else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) end = scanNumber(text, i);
    else if (text.startsWith("true", i)) end = i + 4;
    else if (text.startsWith("false", i)) end = i + 5;
    else if (text.startsWith("null", i)) end = i + 4;
    else return fail(i, `expected a value, found ${describe(i)}`);
    if (typeof end !== "number") return fail(end.at, end.problem);
    i = end;
    expect = stack.length ? "commaOrClose" : "end";
  }
}

function scanString(text: string, start: number): number | { at: number; problem: string } {
  const n = text.length;
  let i = start + 1;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x22) return i + 1;
    if (c < 0x20) return { at: i, problem: "control character inside a string" };
    if (c === 0x5c) {
      const e = text[i + 1];
      if (e === "u") {
        if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) return { at: i, problem: "bad \\u escape in a string" };
        i += 6;
        continue;
      }
      if (e === undefined || !'"\\/bfnrt'.includes(e)) return { at: i, problem: "bad escape in a string" };
      i += 2;
      continue;
    }
    i++;
  }
  return { at: start, problem: "unterminated string" };
}

function scanNumber(text: string, start: number): number | { at: number; problem: string } {
  const m = /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
  m.lastIndex = start;
  const r = m.exec(text);
  if (!r || r[0] === "-") return { at: start, problem: "malformed number" };
  return start + r[0].length;
}
