// Models: the DOM that Observable Plot needs when it runs in Node (tslab kernel, tests, CLI):
// one jsdom document shared by every figure, jsdom loaded on the first call (importing the package
// for its model, a driver module or a worker, does not pay for it). Leaves out: events and layout
// (Plot needs neither).
import { createRequire } from "node:module";

let shared: Document | undefined;

/** The document to pass as Plot's `document` option outside a browser. */
export function plotDocument(): Document {
  if (!shared) {
    const { JSDOM } = createRequire(import.meta.url)("jsdom") as typeof import("jsdom");
    shared = new JSDOM("<!DOCTYPE html><html><body></body></html>").window.document;
  }
  return shared;
}
