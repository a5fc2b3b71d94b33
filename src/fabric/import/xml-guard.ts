// Models: the checks an XML dump passes before any parser sees it, each refusal an InputError with
// the line and column: no entity declarations (entity expansion attacks), no DOCTYPE internal
// subset and at most one DOCTYPE, before the root element, no element or attribute named `__proto__`, `constructor` or
// `prototype` (object keys that would reach a prototype), bounded element nesting and count, and
// well-formedness. MAX_XML_DEPTH is also the parser's own limit (hwloc.ts), so the guard, which
// refuses anything deeper, always speaks first.
// Leaves out: schema validation against hwloc's DTD (hwloc.ts reads the elements it knows).
import { XMLValidator } from "fast-xml-parser";
import { InputError } from "../../units/input-error.js";
import { lineColumn } from "./json-syntax.js";

/** Deepest element nesting accepted; hwloc exports nest about 20 levels. */
export const MAX_XML_DEPTH = 256;

/** Most elements accepted: an 8-socket, 448-thread hwloc export has about 20 000; parsing 250 000 takes ~1 s. */
export const MAX_XML_ELEMENTS = 250_000;

/** Names that become object keys in the parsed document and would reach Object.prototype. */
const RESERVED_NAMES = new Set(["__proto__", "constructor", "prototype"]);

/** Throws InputError unless `text` is a well-formed XML document safe to parse. */
export function guardXml(text: string, source: string): void {
  const entity = /<!ENTITY/i.exec(text);
  if (entity) {
    throw new InputError(at(text, entity.index), "<!ENTITY", "XML declares entities; refused (entity expansion is not supported)", source);
  }
  const shape = scanMarkup(text);
  if (shape.problem) {
    const { offset, value, reason } = shape.problem;
    throw new InputError(at(text, offset), value, reason, source);
  }
  if (shape.elements > MAX_XML_ELEMENTS) {
    throw new InputError("file", `${shape.elements} elements`, `XML has more than ${MAX_XML_ELEMENTS} elements; not an hwloc export`, source);
  }
  const result = XMLValidator.validate(text, { allowBooleanAttributes: false });
  if (result !== true) {
    const { line, col, msg } = result.err;
    const where = col === undefined ? `line ${line}` : `line ${line} column ${col}`;
    throw new InputError(where, lineOf(text, line), `XML not well formed: ${msg}`, source);
  }
}

function at(text: string, offset: number): string {
  const { line, column } = lineColumn(text, offset);
  return `line ${line} column ${column}`;
}

function lineOf(text: string, line: number): string {
  return (text.split("\n", line)[line - 1] ?? "").trim();
}

interface MarkupScan {
  elements: number;
  problem?: { offset: number; value: string; reason: string };
}

/**
 * One linear pass over the markup: counts elements and finds the first start tag nested deeper than
 * MAX_XML_DEPTH, a DOCTYPE with an internal subset, a second or late DOCTYPE, or a reserved element
 * or attribute name. Quoted attribute values
 * are skipped, so a `>` or `/>` inside one neither ends nor closes a tag. A truncated construct
 * ends the scan (the validator reports it).
 */
function scanMarkup(text: string): MarkupScan {
  let depth = 0;
  let elements = 0;
  let doctypeAt = -1;
  let i = text.indexOf("<");
  while (i >= 0) {
    let end: number;
    if (text.startsWith("<!--", i)) end = text.indexOf("-->", i + 4);
    else if (text.startsWith("<![CDATA[", i)) end = text.indexOf("]]>", i + 9);
    else if (text.startsWith("<?", i)) end = text.indexOf("?>", i + 2);
    else if (text.startsWith("<!", i)) {
      end = text.indexOf(">", i + 2);
      if (/^<!DOCTYPE/i.test(text.slice(i, i + 9))) {
        const problem = doctypeProblem(text, i, end, { doctypeAt, elements });
        if (problem) return { elements, problem };
        doctypeAt = i;
      }
    } else if (text[i + 1] === "/") {
      end = text.indexOf(">", i + 2);
      depth--;
    } else {
      const tag = scanStartTag(text, i);
      if (tag.reserved) return { elements, problem: tag.reserved };
      end = tag.end;
      if (end < 0) break;
      elements++;
      if (!tag.selfClosing && ++depth > MAX_XML_DEPTH) {
        return { elements, problem: { offset: i, value: text.slice(i, i + 20), reason: `XML elements nested deeper than ${MAX_XML_DEPTH} levels` } };
      }
    }
    if (end < 0) break;
    i = text.indexOf("<", end + 1);
  }
  return { elements };
}

/** What is wrong with the DOCTYPE at `start` (ending at `end`, -1: unterminated), if anything. */
function doctypeProblem(text: string, start: number, end: number, seen: { doctypeAt: number; elements: number }): MarkupScan["problem"] {
  const subset = text.indexOf("[", start);
  if (subset >= 0 && (end < 0 || subset < end)) {
    return { offset: start, value: text.slice(start, Math.min(subset + 1, start + 40)), reason: "XML DOCTYPE has an internal subset; refused" };
  }
  if (seen.doctypeAt >= 0) return { offset: start, value: "<!DOCTYPE", reason: `XML has a second DOCTYPE (the first is at ${at(text, seen.doctypeAt)}); refused` };
  if (seen.elements > 0) return { offset: start, value: "<!DOCTYPE", reason: "XML DOCTYPE after the root element started (it belongs before it); refused" };
  return undefined;
}

const NAME_RE = /[^\s/>="']+/y;

/** A start tag at `start`: where its `>` is (-1: none), whether it closes itself, and a reserved
 *  element or attribute name if it has one. */
function scanStartTag(text: string, start: number): { end: number; selfClosing: boolean; reserved?: MarkupScan["problem"] } {
  let i = start + 1;
  let expectName = true;
  while (i < text.length) {
    const c = text[i];
    if (c === ">") return { end: i, selfClosing: text[i - 1] === "/" };
    if (c === '"' || c === "'") {
      const close = text.indexOf(c, i + 1);
      if (close < 0) return { end: -1, selfClosing: false };
      i = close + 1;
      continue;
    }
    if (expectName) {
      NAME_RE.lastIndex = i;
      const name = NAME_RE.exec(text);
      if (name) {
        if (RESERVED_NAMES.has(name[0])) {
          const what = i === start + 1 ? "element" : "attribute";
          return { end: -1, selfClosing: false, reserved: { offset: i, value: name[0], reason: `XML ${what} name \`${name[0]}\` is not allowed (it would reach an object prototype); not an hwloc export` } };
        }
        i = NAME_RE.lastIndex;
        expectName = false;
        continue;
      }
    }
    if (c === "=") expectName = false;
    else if (/\s/.test(c)) expectName = true;
    i++;
  }
  return { end: -1, selfClosing: false };
}
