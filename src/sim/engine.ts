// Models: the discrete-event loop: simulated time in integer nanoseconds, events dispatched by kind
// through a handler table (one function per kind, registered once; no closure per event).
// Scheduling into the past or an unknown kind is a bug of the caller (InternalError).
// Leaves out: parallel or optimistic execution; handlers run one at a time in (time, sequence) order.
import { InternalError } from "../units/internal-error.js";
import { EventQueue } from "./event-queue.js";

/** Runs one event: `payload` is the integer scheduled with it (an index into the caller's arrays). */
export type EventHandler = (engine: Engine, payload: number) => void;

export class Engine {
  /** Current simulated time, integer ns. */
  now = 0;
  /** Events dispatched so far. */
  dispatched = 0;
  private readonly queue: EventQueue;
  private readonly handlers: EventHandler[] = [];
  private readonly names: string[] = [];

  constructor(initialCapacity = 1024) {
    this.queue = new EventQueue(initialCapacity);
  }

  /** Registers a handler and returns its kind number (the index into the dispatch table). */
  register(name: string, handler: EventHandler): number {
    this.handlers.push(handler);
    this.names.push(name);
    return this.handlers.length - 1;
  }

  kindName(kind: number): string {
    return this.names[kind] ?? `kind${kind}`;
  }

  get pending(): number {
    return this.queue.size;
  }

  /** Schedules `kind` at now + delay (delay rounded up to whole ns; never in the past). */
  after(delayNs: number, kind: number, payload: number): void {
    if (!(delayNs >= 0)) throw new InternalError(`engine: event delayNs ${delayNs} is not a number >= 0`);
    this.checkKind(kind);
    this.queue.push(this.now + Math.ceil(delayNs), kind, payload);
  }

  /** Schedules `kind` at absolute time `timeNs` (rounded up to whole ns; not before now). */
  at(timeNs: number, kind: number, payload: number): void {
    const t = Math.ceil(timeNs);
    if (!(t >= this.now)) throw new InternalError(`engine: event at timeNs ${timeNs} is before now (${this.now} ns)`);
    this.checkKind(kind);
    this.queue.push(t, kind, payload);
  }

  /** Runs events until the queue is empty or the next event is after `untilNs`; returns events run. */
  run(untilNs = Infinity, maxEvents = Infinity): number {
    const q = this.queue;
    const handlers = this.handlers;
    let n = 0;
    while (n < maxEvents && q.size > 0 && q.peekTime() <= untilNs) {
      const kind = q.pop();
      this.now = q.poppedTime;
      handlers[kind](this, q.poppedPayload);
      n++;
    }
    this.dispatched += n;
    if (q.size === 0 || q.peekTime() > untilNs) {
      if (untilNs !== Infinity && untilNs > this.now) this.now = untilNs;
    }
    return n;
  }

  private checkKind(kind: number): void {
    if (!(kind >= 0 && kind < this.handlers.length)) throw new InternalError(`engine: no handler registered for event kind ${kind}`);
  }

  reset(): void {
    this.queue.clear();
    this.now = 0;
    this.dispatched = 0;
  }
}
