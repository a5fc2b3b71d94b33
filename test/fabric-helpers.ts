// Test support for the fabric tests: terse builders for topology nodes whose id is their PCI
// address (as the examples of reference/p2pdma.md §7 name devices), and an InputError matcher.
import { expect } from "vitest";
import { InputError } from "../src/units/input-error.js";

type Obj = Record<string, unknown>;
const addr = (a: string) => (a.length === 7 ? `0000:${a}` : a);

export const host = (id: string, rootBus: number, extra: Obj = {}): Obj => ({ kind: "hostBridge", id, rootBus, ...extra });
/** A function node: `kind`, PCI address (its id), parent id or address. */
export const fn = (kind: string, a: string, parent: string, extra: Obj = {}): Obj => ({
  kind, id: addr(a), parent: /^[0-9a-f]{2}:/.test(parent) ? addr(parent) : parent, ...extra,
});
export const ep = (a: string, parent: string, extra: Obj = {}) => fn("endpoint", a, parent, extra);
export const rp = (a: string, parent: string, extra: Obj = {}) => fn("rootPort", a, parent, extra);
export const usp = (a: string, parent: string, extra: Obj = {}) => fn("switchUpstream", a, parent, extra);
export const dsp = (a: string, parent: string, extra: Obj = {}) => fn("switchDownstream", a, parent, extra);
/** The function a root bus's first device is: host function with vendor:device. */
export const hostFn = (a: string, parent: string, vd: string) => {
  const [vendor, device] = vd.split(":");
  return ep(a, parent, { vendor, device, class: "0600" });
};
export const topo = (nodes: Obj[], links: Obj[] = []): Obj => ({ name: "test", nodes, links });
export const A = addr;

/** Expects `run` to throw an InputError for `field`, whose message names the field and `valueText`. */
export function expectInputError(run: () => unknown, field: string, valueText: string): InputError {
  let err: unknown;
  try {
    run();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(InputError);
  const e = err as InputError;
  expect(e.field).toBe(field);
  expect(e.message).toContain(field);
  expect(e.message).toContain(valueText);
  return e;
}

/** The InputError `run` throws (fails the test when it throws anything else, or nothing). */
export function inputError(run: () => unknown): InputError {
  try {
    run();
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return e as InputError;
  }
  throw new Error("expected an InputError");
}

/** The node of an imported topology with this id (fails the test when there is none). */
export function nodeOf(spec: { nodes: readonly { id: string }[] }, id: string): any {
  const n = spec.nodes.find((x) => x.id === id);
  if (!n) throw new Error(`no node ${id}`);
  return n;
}
