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

/** What the scanner expects next. */
type Expect = "value" | "valueOrClose" | "keyOrClose" | "key" | "colon" | "commaOrClose" | "end";

/** The scanner's state: position, open containers (0x7b '{' or 0x5b '['), what comes next. */
interface JsonScan {
  text: string;
  i: number;
  stack: number[];
  expect: Expect;
  maxDepth: number;
}

/** A step's outcome: a problem at an offset, or undefined to go on. */
type Step = { at: number; problem: string } | undefined;

/**
 * Scans `text` as RFC 8259 JSON with an explicit stack. Returns the first problem, or a problem
 * when nesting exceeds `maxDepth` (no real topology nests deeper than a few levels).
 */
export function checkJsonSyntax(text: string, maxDepth: number): JsonSyntaxProblem | undefined {
  const scan: JsonScan = { text, i: 0, stack: [], expect: "value", maxDepth };
  for (;;) {
    while (scan.i < text.length && WS.has(text.charCodeAt(scan.i))) scan.i++;
    const atEnd = scan.i >= text.length;
    const step = atEnd ? endOfInput(scan) : scanToken(scan);
    if (step) return { ...lineColumn(text, step.at), problem: step.problem };
    if (atEnd) return undefined;
  }
}

function describe(scan: JsonScan, at: number): string {
  return at >= scan.text.length ? "end of input" : `character ${JSON.stringify(scan.text[at])}`;
}

function endOfInput(scan: JsonScan): Step {
  if (scan.expect === "end") return undefined;
  const inside = scan.stack.at(-1) === 0x7b ? "an object" : "an array";
  return { at: scan.i, problem: scan.stack.length ? `unexpected end of input inside ${inside}` : "unexpected end of input" };
}

function scanToken(scan: JsonScan): Step {
  switch (scan.expect) {
    case "end":
      return { at: scan.i, problem: `unexpected ${describe(scan, scan.i)} after the end of the document` };
    case "colon":
      return scanColon(scan);
    case "commaOrClose":
      return scanCommaOrClose(scan);
    case "key":
    case "keyOrClose":
      return scanKey(scan);
    default:
      return scanValue(scan);
  }
}

/** Leaves a container: the next token is a comma or close, or the document ends. */
function close(scan: JsonScan): Step {
  scan.i++;
  scan.stack.pop();
  scan.expect = scan.stack.length ? "commaOrClose" : "end";
  return undefined;
}

function scanColon(scan: JsonScan): Step {
  if (scan.text.charCodeAt(scan.i) !== 0x3a) return { at: scan.i, problem: `expected ':' after a property name, found ${describe(scan, scan.i)}` };
  scan.i++;
  scan.expect = "value";
  return undefined;
}

function scanCommaOrClose(scan: JsonScan): Step {
  const c = scan.text.charCodeAt(scan.i);
  const top = scan.stack.at(-1);
  if (c === 0x2c) {
    scan.i++;
    scan.expect = top === 0x7b ? "key" : "value";
    return undefined;
  }
  if ((c === 0x7d && top === 0x7b) || (c === 0x5d && top === 0x5b)) return close(scan);
  return { at: scan.i, problem: `expected ',' or '${top === 0x7b ? "}" : "]"}', found ${describe(scan, scan.i)}` };
}

function scanKey(scan: JsonScan): Step {
  const c = scan.text.charCodeAt(scan.i);
  if (scan.expect === "keyOrClose" && c === 0x7d) return close(scan);
  if (c !== 0x22) return { at: scan.i, problem: `expected a property name in double quotes, found ${describe(scan, scan.i)}` };
  const end = scanString(scan.text, scan.i);
  if (typeof end !== "number") return end;
  scan.i = end;
  scan.expect = "colon";
  return undefined;
}

function scanValue(scan: JsonScan): Step {
  const { text, i } = scan;
  const c = text.charCodeAt(i);
  if (scan.expect === "valueOrClose" && c === 0x5d) return close(scan);
  if (c === 0x7b || c === 0x5b) {
    if (scan.stack.length >= scan.maxDepth) return { at: i, problem: `nested deeper than ${scan.maxDepth} levels` };
    scan.stack.push(c);
    scan.i++;
    scan.expect = c === 0x7b ? "keyOrClose" : "valueOrClose";
    return undefined;
  }
  let end: number | { at: number; problem: string };
  if (c === 0x22) end = scanString(text, i);
  else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) end = scanNumber(text, i);
  else if (text.startsWith("true", i)) end = i + 4;
  else if (text.startsWith("false", i)) end = i + 5;
  else if (text.startsWith("null", i)) end = i + 4;
  else return { at: i, problem: `expected a value, found ${describe(scan, i)}` };
  if (typeof end !== "number") return end;
  scan.i = end;
  scan.expect = scan.stack.length ? "commaOrClose" : "end";
  return undefined;
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
