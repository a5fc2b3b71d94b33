// Models: the running fair share of flow classes (transfers on one path): per class its flows, its
// rate and the bytes each of its flows has received; per resource its load, whether it is saturated
// and how long it was busy (while any active class crosses it). A class's flows share one rate, so
// the bytes delivered per flow grow as one number and each flow finishes when that number passes its
// size (a heap of (target, flow) pairs per class). When flows
// start or finish, only the classes coupled to them through saturated resources are re-shared
// (fair-share.ts), plus any whose resource the re-shared ones saturate; a class whose rate and flows
// did not change keeps its finish time. Leaves out: the transfers' times (simulate.ts).
import { fillRates, FillScratch, type ClassSet, type Component } from "./fair-share.js";
import { IndexedHeap, pairPop, pairPush } from "./indexed-heap.js";
import type { SimPath } from "./paths.js";

/** The classes of a transfer list: one per distinct path object. */
export interface Classes {
  set: ClassSet;
  classOf: Int32Array;
  /** Each transfer's time after its last byte, ns (simulate.ts's timeline takes the array over). */
  tail: Float64Array;
  /** Size of each transfer, B. */
  bytes: Float64Array;
  /** Bytes of all the transfers of each class. */
  classBytes: Float64Array;
  /** The path of each class. */
  paths: readonly SimPath[];
}

/** Where a finished flow's time goes (simulate.ts's timeline). */
export interface FlowEnds {
  finish(flow: number, t: number): void;
}

/** The running state: per class its rate, bytes delivered per flow and waiting flows; per resource
 *  its load, saturation and busy time; and the component being re-shared (fair-share.ts). */
export class ShareState implements Component {
  readonly rate: Float64Array;
  readonly served: Float64Array;
  readonly since: Float64Array;
  /** Per class, its active flows as a min-heap of (target, flow) pairs side by side, the target being
   *  the bytes delivered per flow of the class when the flow ends: class c's heap is at
   *  waitStart[c] .. waitStart[c] + waitSize[c] of waitTarget and waitFlow (room for all its transfers). */
  private readonly waitStart: Int32Array;
  readonly waitSize: Int32Array;
  private readonly waitTarget: Float64Array;
  private readonly waitFlow: Int32Array;
  readonly used: Float64Array;
  readonly saturated: Uint8Array;
  /** Per resource, the active classes crossing it. */
  readonly activeClasses: Int32Array;
  readonly busySince: Float64Array;
  readonly busy: Float64Array;
  /** Classes by the time their next flow finishes. */
  private readonly heap: IndexedHeap;
  readonly members: Int32Array;
  readonly touched: Int32Array;
  memberCount = 0;
  touchedCount = 0;
  /** Classes in the component being re-shared. */
  readonly isMember: Uint8Array;
  private readonly resSeen: Uint8Array;
  readonly room: Float64Array;
  private readonly scratch: FillScratch;
  private readonly newRate: Float64Array;
  /** Classes whose flows changed since their finish time was last set. */
  private readonly dirty: Uint8Array;
  /** The time of the event being processed (a field, so no call passes a time as a boxed double). */
  now = 0;

  constructor(private readonly k: Classes, private readonly capacities: Float64Array) {
    const flows = k.bytes.length;
    const nc = k.set.caps.length, nr = capacities.length;
    this.rate = new Float64Array(nc);
    this.served = new Float64Array(nc);
    this.since = new Float64Array(nc);
    this.waitStart = new Int32Array(nc + 1);
    for (let f = 0; f < flows; f++) this.waitStart[k.classOf[f] + 1]++;
    for (let c = 0; c < nc; c++) this.waitStart[c + 1] += this.waitStart[c];
    this.waitSize = new Int32Array(nc);
    this.waitTarget = new Float64Array(flows);
    this.waitFlow = new Int32Array(flows);
    this.heap = new IndexedHeap(new Float64Array(nc).fill(Infinity));
    this.used = new Float64Array(nr);
    this.saturated = new Uint8Array(nr);
    this.activeClasses = new Int32Array(nr);
    this.busySince = new Float64Array(nr);
    this.busy = new Float64Array(nr);
    this.members = new Int32Array(nc);
    this.touched = new Int32Array(nr);
    this.isMember = new Uint8Array(nc);
    this.resSeen = new Uint8Array(nr);
    this.room = new Float64Array(nr);
    this.newRate = new Float64Array(nc);
    this.dirty = new Uint8Array(nc);
    this.scratch = new FillScratch(nr, nc);
  }

  get classes(): IndexedHeap {
    return this.heap;
  }

  /** Brings class c's bytes delivered per flow up to now. */
  advance(c: number): void {
    const t = this.now;
    this.served[c] += this.rate[c] * (t - this.since[c]);
    this.since[c] = t;
  }

  /** Changes class c's flow count by `delta` now (its load; its resources' busy time when the class
   *  starts or stops being active). */
  recount(c: number, delta: number): void {
    const { offsets, resources, weights, counts } = this.k.set;
    const used = this.used, load = delta * this.rate[c], before = counts[c];
    for (let i = offsets[c], end = offsets[c + 1]; i < end; i++) used[resources[i]] += load * weights[i];
    const after = (counts[c] = before + delta);
    if (before === 0 || after === 0) this.toggle(c, before === 0 ? 1 : -1);
  }

  /** Class c became active (+1) or idle (-1) now: a resource is busy while any active class crosses it. */
  private toggle(c: number, step: number): void {
    const { offsets, resources } = this.k.set;
    const { activeClasses, busySince, busy } = this, t = this.now;
    for (let i = offsets[c], end = offsets[c + 1]; i < end; i++) {
      const r = resources[i], before = activeClasses[r];
      activeClasses[r] = before + step;
      if (before === 0) busySince[r] = t;
      else if (before + step === 0) busy[r] += t - busySince[r];
    }
  }

  /** A flow of class c starts now. */
  start(c: number, flow: number): void {
    this.advance(c);
    this.push(c, flow, this.k.bytes[flow] + this.served[c]);
    this.recount(c, 1);
    this.dirty[c] = 1;
  }

  /** Class c's next flow (and every flow of it done by then) finishes now; returns how many. */
  finishHead(c: number, times: FlowEnds): number {
    const t = this.now;
    this.advance(c);
    const eps = 1e-9 * Math.max(1, this.headTarget(c));
    let finished = 0;
    do {
      times.finish(this.pop(c), t);
      finished++;
    } while (this.waitSize[c] > 0 && this.headTarget(c) <= this.served[c] + eps);
    this.recount(c, -finished);
    this.schedule(c); // its next flow, at the current rate; re-sharing may move it again
    this.dirty[c] = 1;
    return finished;
  }

  /** Re-shares the classes coupled to the `count` classes of `changed` (through saturated resources) now. */
  reshare(changed: Int32Array, count: number): void {
    const { isMember, members, resSeen, touched, dirty } = this;
    const counts = this.k.set.counts;
    this.memberCount = 0;
    this.touchedCount = 0;
    for (let i = 0; i < count; i++) {
      const c = changed[i];
      if (counts[c] > 0) {
        if (!isMember[c]) {
          isMember[c] = 1;
          members[this.memberCount++] = c;
        }
      } else this.visit(c); // a class that left frees its saturated resources' capacity
    }
    for (let done = 0; ;) {
      for (; done < this.memberCount; done++) this.visit(members[done]);
      if (this.memberCount > 0) this.solve(); // none: only classes that left, their resources' load fell
      // A resource the component now saturates couples the flows outside it that cross it.
      const before = this.memberCount;
      this.resaturate();
      if (this.memberCount === before) break;
    }
    for (let i = 0; i < this.memberCount; i++) isMember[members[i]] = 0;
    for (let i = 0; i < this.touchedCount; i++) resSeen[touched[i]] = 0;
    for (let i = 0; i < count; i++) {
      const c = changed[i];
      if (counts[c] === 0 && dirty[c]) {
        dirty[c] = 0;
        this.schedule(c);
      }
    }
  }

  /** Adds every active class crossing resource r to the component (r is saturated). */
  private joinAll(r: number): void {
    const { resOffsets, resClasses, counts } = this.k.set;
    const { isMember, members } = this;
    let m = this.memberCount;
    this.resSeen[r] = 2;
    for (let j = resOffsets[r], end = resOffsets[r + 1]; j < end; j++) {
      const c = resClasses[j];
      if (isMember[c] || counts[c] === 0) continue;
      isMember[c] = 1;
      members[m++] = c;
    }
    this.memberCount = m;
  }

  /** Adds class c's resources to the component's, joining the classes on the saturated ones. */
  private visit(c: number): void {
    const { offsets, resources } = this.k.set;
    const { resSeen, touched, saturated } = this;
    for (let i = offsets[c], end = offsets[c + 1]; i < end; i++) {
      const r = resources[i];
      if (resSeen[r] !== 0) continue;
      resSeen[r] = 1;
      touched[this.touchedCount++] = r;
      if (saturated[r]) this.joinAll(r);
    }
  }

  /** Max-min rates of the component's classes given what the flows outside leave; applies them. */
  private solve(): void {
    const { members, touched, room, newRate, memberCount, touchedCount, rate, used, capacities, dirty } = this;
    const { offsets, resources, weights, counts } = this.k.set;
    for (let i = 0; i < touchedCount; i++) {
      const r = touched[i];
      room[r] = capacities[r] - used[r];
    }
    for (let i = 0; i < memberCount; i++) {
      const c = members[i], n = counts[c] * rate[c];
      for (let k = offsets[c], end = offsets[c + 1]; k < end; k++) room[resources[k]] += n * weights[k];
    }
    fillRates(this.k.set, this, newRate, this.scratch);
    for (let i = 0; i < memberCount; i++) {
      const c = members[i], next = newRate[c];
      // A class whose rate and flows did not change keeps its finish time.
      if (next === rate[c] && !dirty[c]) continue;
      this.advance(c);
      const dn = counts[c] * (next - rate[c]);
      for (let k = offsets[c], end = offsets[c + 1]; k < end; k++) used[resources[k]] += dn * weights[k];
      rate[c] = next;
      dirty[c] = 0;
      this.schedule(c);
    }
  }

  /** Marks which of the component's resources its flows and the others fill; a resource that now
   *  saturates and was not expanded brings every class crossing it. */
  private resaturate(): void {
    const { touched, touchedCount, used, capacities, saturated, resSeen } = this;
    for (let i = 0; i < touchedCount; i++) {
      const r = touched[i];
      saturated[r] = used[r] >= capacities[r] * (1 - 1e-9) ? 1 : 0;
      if (saturated[r] && resSeen[r] === 1) this.joinAll(r);
    }
  }

  /** Sets the time class c's next flow finishes. */
  schedule(c: number): void {
    const rate = this.rate[c];
    this.heap.keys[c] = this.waitSize[c] === 0 || rate <= 0 ? Infinity : this.since[c] + Math.max(0, this.headTarget(c) - this.served[c]) / rate;
    this.heap.update(c);
  }

  /** The target of class c's flow that ends first (class c has flows). */
  private headTarget(c: number): number {
    return this.waitTarget[this.waitStart[c]];
  }

  /** Adds a flow with its target to class c's heap. */
  private push(c: number, flow: number, target: number): void {
    pairPush(this.waitTarget, this.waitFlow, this.waitStart[c], this.waitSize[c]++, flow, target);
  }

  /** Removes and returns the flow of class c that ends first. */
  private pop(c: number): number {
    return pairPop(this.waitTarget, this.waitFlow, this.waitStart[c], this.waitSize[c]--);
  }
}
