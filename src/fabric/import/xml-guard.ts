// Models: the checks an XML dump passes before any parser sees it: no entity declarations (entity
// expansion attacks), no DOCTYPE internal subset, bounded element nesting, and well-formedness
// with the line and column of the first error.
// Leaves out: schema validation against hwloc's DTD (hwloc.ts reads the elements it knows).
import { XMLValidator } from "fast-xml-parser";
import { InputError } from "../../units/input-error.js";
import { lineColumn } from "./json-syntax.js";

/** Deepest element nesting accepted; hwloc exports nest about 20 levels. */
export const MAX_XML_DEPTH = 256;

/** Most elements accepted: an 8-socket, 448-thread hwloc export has about 20 000; parsing 250 000 takes ~1 s. */
export const MAX_XML_ELEMENTS = 250_000;


/** Throws InputError unless `text` is a well-formed XML document safe to parse. */
export function guardXml(text: string, source: string): void {
  const entity = /<!ENTITY/i.exec(text);
  if (entity) {
    throw new InputError(at(text, entity.index), "<!ENTITY", "XML declares entities; refused (entity expansion is not supported)", source);
  }
  const subset = /<!DOCTYPE[^>[]*\[/i.exec(text);
  if (subset) {
    throw new InputError(at(text, subset.index), subset[0].slice(0, 40), "XML DOCTYPE has an internal subset; refused", source);
  }
  const shape = scanElements(text);
  if (shape.tooDeepAt >= 0) {
    const d = shape.tooDeepAt;
    throw new InputError(at(text, d), text.slice(d, d + 20), `XML elements nested deeper than ${MAX_XML_DEPTH} levels`, source);
  }
  if (shape.elements > MAX_XML_ELEMENTS) {
    throw new InputError("file", `${shape.elements} elements`, `XML has more than ${MAX_XML_ELEMENTS} elements; not an hwloc export`, source);
  }
  const result = XMLValidator.validate(text, { allowBooleanAttributes: false });
  if (result !== true) {
    const { line, col, msg } = result.err;
    throw new InputError(`line ${line} column ${col}`, lineOf(text, line), `XML not well formed: ${msg}`, source);
  }
}

function at(text: string, offset: number): string {
  const { line, column } = lineColumn(text, offset);
  return `line ${line} column ${column}`;
}

function lineOf(text: string, line: number): string {
  return (text.split("\n", line)[line - 1] ?? "").trim();
}

/** Element count and the offset of the first start tag nested deeper than MAX_XML_DEPTH (-1: none); one linear pass. */
function scanElements(text: string): { elements: number; tooDeepAt: number } {
  let depth = 0;
  let elements = 0;
  let i = text.indexOf("<");
  while (i >= 0) {
    let end: number;
    if (text.startsWith("<!--", i)) end = text.indexOf("-->", i + 4);
    else if (text.startsWith("<![CDATA[", i)) end = text.indexOf("]]>", i + 9);
    else if (text.startsWith("<?", i)) end = text.indexOf("?>", i + 2);
    else {
      end = text.indexOf(">", i + 1);
      if (end < 0) break; // truncated: the validator reports it
      if (text[i + 1] === "/") depth--;
      else if (text[i + 1] !== "!") {
        elements++;
        if (text[end - 1] !== "/" && ++depth > MAX_XML_DEPTH) return { elements, tooDeepAt: i };
      }
    }
    if (end < 0) break;
    i = text.indexOf("<", end + 1);
  }
  return { elements, tooDeepAt: -1 };
}
