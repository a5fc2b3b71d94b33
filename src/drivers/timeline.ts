// Models: simulated time while things are in flight: driver operations that the kernel may preempt
// (generators resumed when the time they wait for has passed, or when the fence they sleep on
// signals), and hardware work that runs on its own (a DMA engine touching pages one after another).
// Two queues in typed arrays keep the two apart, so a callback that must wait for DMA (an
// invalidation waiting on a fence) runs the hardware forward without resuming any driver
// operation; events at the same nanosecond in both queues are ordered by a seeded coin, so a
// seed picks one interleaving and the same seed gives the same one every run.
// Leaves out: several CPUs (kernel work runs one thing at a time) and cancelling a waiting operation.
import { InternalError } from "../units/internal-error.js";
import { EventQueue } from "../sim/event-queue.js";
import type { Fence, Op, Wait } from "./api.js";

/** Hardware work the timeline drives: `step(event)` runs its next event; it returns the time of
 *  the one after it (or -1 when done). */
export interface HardwareJob {
  step(nowNs: number): number;
}

interface Task {
  op: Op<unknown>;
  done: (value: unknown) => void;
  /** The fence it sleeps on, if any. */
  sleepingOn: FenceState | null;
  /** Who the work is done for (a scenario step), told to `onOwner` while it runs. */
  owner: number;
}

/** A fence's signalling side (the timeline's); drivers see it as a Fence. */
export class FenceState implements Fence {
  signaled = false;
  endNs = Infinity;
  values: number[] = [];
  error: { ret: number; page: number; reason: string } | null = null;
  cpages = 0;
  /** Tasks sleeping on it. */
  readonly waiters: number[] = [];
  constructor(readonly id: number) {}
}

/** A tiny seeded generator (mulberry32): the same seed, the same coins. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Timeline {
  /** Simulated time, ns. */
  now = 0;
  private readonly tasks: (Task | null)[] = [];
  private readonly jobs: (HardwareJob | null)[] = [];
  private readonly jobOwners: number[] = [];
  private readonly taskQueue = new EventQueue(64);
  private readonly jobQueue = new EventQueue(64);
  private readonly coin: () => number;
  private fences = 0;
  /** The task running now (-1: none, the scenario's own thread). */
  current = -1;
  /** When set, the times at which a driver operation resumed or hardware touched a page: the
   *  points where something else could have run first (the explorer places events there). */
  preemptions: number[] | null = null;

  /** `onOwner(owner)` is called whenever work starts running for another owner (a step index), and
   *  `onOwner(-1)` when control returns to the caller. */
  constructor(seed = 0, private readonly ownerChanged: (owner: number) => void = () => {}) {
    this.coin = seeded(seed);
  }

  /** Who the running work is for (a step index; the caller sets it for its own work). */
  owner = -1;

  private onOwner(owner: number): void {
    this.owner = owner;
    this.ownerChanged(owner);
  }

  fence(): FenceState {
    return new FenceState(this.fences++);
  }

  /** Starts `op` now for `owner`: it runs until its first wait; `done` gets its result when it returns. */
  spawn<T>(op: Op<T>, owner: number, done: (value: T) => void): number {
    const id = this.tasks.length;
    this.tasks.push({ op: op as Op<unknown>, done: done as (v: unknown) => void, sleepingOn: null, owner });
    this.resume(id);
    return id;
  }

  /** Starts hardware work whose first event is at `firstNs`, for whoever runs now. */
  startJob(job: HardwareJob, firstNs: number, owner = this.owner): void {
    const id = this.jobs.length;
    this.jobs.push(job);
    this.jobOwners.push(owner);
    this.jobQueue.push(Math.max(this.now, Math.ceil(firstNs)), 0, id);
  }

  /** Whether anything is still due (tasks awake, hardware in flight). */
  get busy(): boolean {
    return this.taskQueue.size > 0 || this.jobQueue.size > 0;
  }

  /** Runs the next due thing, whatever its time; false when nothing is due. */
  runNext(): boolean {
    const tt = this.taskQueue.peekTime();
    const jt = this.jobQueue.peekTime();
    if (tt === Infinity && jt === Infinity) return false;
    if (jt < tt || (jt === tt && this.coin() < 0.5)) this.runJobEvent();
    else this.runTaskEvent();
    return true;
  }

  /** Signals a fence at the current time and wakes the tasks sleeping on it. */
  signal(f: FenceState): void {
    if (f.signaled) throw new InternalError(`timeline: fence ${f.id} signalled twice`);
    f.signaled = true;
    f.endNs = this.now;
    for (const id of f.waiters) {
      const t = this.tasks[id];
      if (t && t.sleepingOn === f) {
        t.sleepingOn = null;
        this.taskQueue.push(this.now, 0, id);
      }
    }
    f.waiters.length = 0;
  }

  /** Runs everything due up to `untilNs` in time order, then sets the clock there. */
  runUntil(untilNs: number): void {
    for (;;) {
      const tt = this.taskQueue.peekTime();
      const jt = this.jobQueue.peekTime();
      const t = Math.min(tt, jt);
      if (t > untilNs || t === Infinity) break;
      const takeJob = jt < tt || (jt === tt && this.coin() < 0.5);
      if (takeJob) this.runJobEvent();
      else this.runTaskEvent();
    }
    if (untilNs !== Infinity && untilNs > this.now) this.now = untilNs;
  }

  /** Runs until nothing is due any more (every task finished or asleep, every job done). */
  drain(): void {
    this.runUntil(Infinity);
  }

  /** From a callback (it cannot yield): runs only hardware until `f` signals; driver operations stay parked. */
  runHardwareUntil(f: FenceState): void {
    while (!f.signaled) {
      if (this.jobQueue.size === 0) throw new InternalError(`timeline: fence ${f.id} can never signal (no hardware work in flight)`);
      this.runJobEvent();
    }
  }

  /** Whether task `id` has finished. */
  finished(id: number): boolean {
    return this.tasks[id] === null;
  }

  private runJobEvent(): void {
    this.jobQueue.pop();
    const id = this.jobQueue.poppedPayload;
    this.now = Math.max(this.now, this.jobQueue.poppedTime);
    this.preemptions?.push(this.now);
    const callerOwner = this.owner;
    this.onOwner(this.jobOwners[id]);
    let next: number;
    try {
      next = this.jobs[id]!.step(this.now);
    } finally {
      this.onOwner(this.current >= 0 ? this.tasks[this.current]?.owner ?? callerOwner : callerOwner);
    }
    if (next < 0) this.jobs[id] = null;
    else this.jobQueue.push(Math.max(this.now, Math.ceil(next)), 0, id);
  }

  private runTaskEvent(): void {
    this.taskQueue.pop();
    this.now = Math.max(this.now, this.taskQueue.poppedTime);
    this.preemptions?.push(this.now);
    this.resume(this.taskQueue.poppedPayload);
  }

  /** Runs task `id` until it waits or returns. */
  private resume(id: number): void {
    const task = this.tasks[id];
    if (!task) return;
    const outer = this.current;
    const callerOwner = this.owner;
    this.current = id;
    this.onOwner(task.owner);
    let r: IteratorResult<Wait, unknown>;
    try {
      r = task.op.next();
    } finally {
      this.current = outer;
      this.onOwner(outer >= 0 ? this.tasks[outer]?.owner ?? callerOwner : callerOwner);
    }
    if (r.done) {
      this.tasks[id] = null;
      this.onOwner(task.owner);
      try {
        task.done(r.value);
      } finally {
        this.onOwner(outer >= 0 ? this.tasks[outer]?.owner ?? callerOwner : callerOwner);
      }
      return;
    }
    const w = r.value;
    if ("waitNs" in w) {
      if (!(w.waitNs >= 0)) throw new InternalError(`timeline: a wait of ${w.waitNs} ns`);
      this.taskQueue.push(this.now + Math.ceil(w.waitNs), 0, id);
    } else {
      const f = w.fence as FenceState;
      if (f.signaled) this.taskQueue.push(this.now, 0, id);
      else {
        task.sleepingOn = f;
        f.waiters.push(id);
      }
    }
  }
}
