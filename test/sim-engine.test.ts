// Checks the discrete-event engine (src/sim/engine.ts, event-queue.ts): integer-ns time order,
// insertion order on ties (determinism), dispatch by kind through the handler table, bad schedules.
import { describe, expect, it } from "vitest";
import { Engine } from "../src/sim/engine.js";
import { EventQueue } from "../src/sim/event-queue.js";
import { InternalError } from "../src/units/internal-error.js";

describe("EventQueue", () => {
  it("pops by time, then by insertion order on equal times, and grows past its capacity", () => {
    const q = new EventQueue(16);
    const times = [50, 10, 30, 10, 20, 10, 40];
    times.forEach((t, i) => q.push(t, 0, i));
    for (let i = 0; i < 100; i++) q.push(1000 + (i % 7), 1, 100 + i);
    const order: number[] = [];
    const at: number[] = [];
    while (q.pop() >= 0) {
      order.push(q.poppedPayload);
      at.push(q.poppedTime);
    }
    expect(order.slice(0, 7)).toEqual([1, 3, 5, 4, 2, 6, 0]);
    for (let i = 1; i < at.length; i++) expect(at[i]).toBeGreaterThanOrEqual(at[i - 1]);
    // Ties at 1000: payloads 100, 107, 114, ... in insertion order.
    expect(order.slice(7, 10)).toEqual([100, 107, 114]);
    expect(q.size).toBe(0);
  });
});

describe("Engine", () => {
  it("dispatches each kind to its handler at integer ns and lets handlers schedule more", () => {
    const e = new Engine();
    const log: string[] = [];
    const PONG = e.register("pong", (eng, p) => log.push(`pong${p}@${eng.now}`));
    const PING = e.register("ping", (eng, p) => {
      log.push(`ping${p}@${eng.now}`);
      eng.after(2.5, PONG, p); // rounded up to 3 ns
    });
    e.at(10, PING, 1);
    e.at(10, PING, 2);
    e.at(5, PONG, 0);
    expect(e.run()).toBe(5);
    expect(log).toEqual(["pong0@5", "ping1@10", "ping2@10", "pong1@13", "pong2@13"]);
    expect(e.kindName(PING)).toBe("ping");
  });

  it("stops at `untilNs` leaving later events pending", () => {
    const e = new Engine();
    let n = 0;
    const K = e.register("k", () => n++);
    e.at(5, K, 0);
    e.at(50, K, 0);
    e.run(20);
    expect(n).toBe(1);
    expect(e.now).toBe(20);
    expect(e.pending).toBe(1);
  });

  it("rejects events in the past, negative delays and unknown kinds as internal errors (a caller bug, exit 70)", () => {
    const e = new Engine();
    const K = e.register("k", () => undefined);
    e.at(100, K, 0);
    e.run();
    expect(() => e.at(50, K, 0)).toThrow(InternalError);
    expect(() => e.after(-1, K, 0)).toThrow(/delayNs/);
    expect(() => e.at(200, 7, 0)).toThrow(/kind/);
  });
});
