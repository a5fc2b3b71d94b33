// Models: the DOM that Observable Plot needs when it runs in Node (tslab kernel, tests, CLI):
// one jsdom document shared by every figure. Leaves out: events and layout (Plot needs neither).
import { JSDOM } from "jsdom";

let shared: Document | undefined;

/** The document to pass as Plot's `document` option outside a browser. */
export function plotDocument(): Document {
  if (!shared) shared = new JSDOM("<!DOCTYPE html><html><body></body></html>").window.document;
  return shared;
}
