// Checks the simulator's heaps (src/sim/indexed-heap.ts) against a sorted reference on random
// operation sequences: both order ids by (key, id), so equal keys pop by lower id and the order is
// deterministic (simulate.ts relies on it for the transfers waiting to start and the classes' next
// finish times). IndexedHeap moves an id in place when its key changes (up or down) and drops it at
// Infinity; PairHeap takes each id once and grows past its first capacity.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { IndexedHeap, PairHeap } from "../src/sim/indexed-heap.js";

/** The (key, id) pairs in the order the heaps must give them. */
const byKeyThenId = (a: [number, number], b: [number, number]) => a[0] - b[0] || a[1] - b[1];

/** Keys from a small set (many ties), a wide range, or Infinity. */
const key = fc.oneof(fc.constantFrom(0, 1, 2.5, 7), fc.double({ min: -1e6, max: 1e6, noNaN: true }));

describe("IndexedHeap", () => {
  it("gives the lowest (key, id) after any mix of inserts, raised and lowered keys, removals and pops", () => {
    const ops = fc.array(fc.record({ id: fc.nat({ max: 39 }), key: fc.oneof(key, fc.constant(Infinity)), pop: fc.boolean() }), { maxLength: 300 });
    fc.assert(
      fc.property(ops, (list) => {
        const heap = new IndexedHeap(new Float64Array(40).fill(Infinity));
        const live = new Map<number, number>();
        for (const op of list) {
          if (op.pop && live.size > 0) {
            const want = [...live].map(([id, k]) => [k, id] as [number, number]).sort(byKeyThenId)[0];
            expect(heap.topKey()).toBe(want[0]);
            expect(heap.pop()).toBe(want[1]);
            live.delete(want[1]);
            heap.keys[want[1]] = Infinity;
            continue;
          }
          heap.keys[op.id] = op.key;
          heap.update(op.id);
          if (op.key === Infinity) live.delete(op.id);
          else live.set(op.id, op.key);
          expect(heap.size).toBe(live.size);
          const want = [...live].map(([id, k]) => [k, id] as [number, number]).sort(byKeyThenId)[0];
          expect(heap.top()).toBe(want ? want[1] : -1);
        }
        const rest = [...live].map(([id, k]) => [k, id] as [number, number]).sort(byKeyThenId);
        for (const [, id] of rest) expect(heap.pop()).toBe(id);
        expect(heap.size).toBe(0);
        expect(heap.topKey()).toBe(Infinity);
      }),
      { numRuns: 300, seed: 3 },
    );
  });
});

describe("PairHeap", () => {
  it("pops pushed ids by (key, id), interleaved with pushes, past its first capacity", () => {
    const ops = fc.array(fc.oneof(key, fc.constant(null)), { maxLength: 400 });
    fc.assert(
      fc.property(ops, (list) => {
        const heap = new PairHeap(1); // grows from its smallest size
        const live: [number, number][] = [];
        let next = 0;
        for (const k of list) {
          if (k === null) {
            if (live.length === 0) continue;
            live.sort(byKeyThenId);
            const [wantKey, wantId] = live.shift()!;
            expect(heap.topKey()).toBe(wantKey);
            expect(heap.pop()).toBe(wantId);
          } else {
            // Ids are not pushed in order: a queued transfer can have a lower index than one already queued.
            const id = (next++ * 7919) % 100_003;
            heap.push(id, k);
            live.push([k, id]);
          }
          expect(heap.size).toBe(live.length);
        }
        for (const [, id] of live.sort(byKeyThenId)) expect(heap.pop()).toBe(id);
        expect(heap.topKey()).toBe(Infinity);
      }),
      { numRuns: 300, seed: 4 },
    );
  });
});
