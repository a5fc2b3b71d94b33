// Models: typed access to a document as fast-xml-parser builds it: an element is an object whose
// attributes are string properties named with ATTRIBUTE_PREFIX (no XML name starts with "@", so an
// attribute never shadows a child element of the same name) and whose child elements of a tag
// listed in `isArray` are arrays. Hostile documents put text where elements are expected, so every
// read checks the type it gets.
// Leaves out: parsing (hwloc.ts configures the parser), text content other than `#text`.

export type XmlObject = Record<string, unknown>;

/** fast-xml-parser's `attributeNamePrefix` for the documents read here. */
export const ATTRIBUTE_PREFIX = "@_";

function isElement(value: unknown): value is XmlObject {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** The child elements `tag` of `element` (attributes and text-only children of that name excluded). */
export function elements(element: XmlObject, tag: string): XmlObject[] {
  const value = element[tag];
  return Array.isArray(value) ? value.filter(isElement) : [];
}

/** The attribute `name` of `element`, when it is one. */
export function attr(element: XmlObject, name: string): string | undefined {
  const value = element[ATTRIBUTE_PREFIX + name];
  return typeof value === "string" ? value : undefined;
}

/** The text of the child elements `tag`, split into words. */
export function words(element: XmlObject, tag: string): string[] {
  const value = element[tag];
  if (!Array.isArray(value)) return [];
  return value
    .flatMap((child) => String(isElement(child) ? child["#text"] ?? "" : child).trim().split(/\s+/))
    .filter((w) => w !== "");
}

/** Value of `<info name=... value=...>` directly inside `element`. */
export function infoOf(element: XmlObject, name: string): string | undefined {
  const info = elements(element, "info").find((i) => attr(i, "name") === name);
  return info ? attr(info, "value") : undefined;
}
