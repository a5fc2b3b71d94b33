// Models: the running fair share of flow classes (transfers on one path): per class its flows, its
// rate and the bytes each of its flows has received; per resource its load, whether it is saturated
// and how long it was busy. A class's flows share one rate, so the bytes delivered per flow grow as
// one number and each flow finishes when that number passes its size (a heap per class). When flows
// start or finish, only the classes coupled to them through saturated resources are re-shared
// (fair-share.ts), plus any whose resource the re-shared ones saturate; a class whose rate and flows
// did not change keeps its finish time. Leaves out: the transfers' times (simulate.ts).
import { fillRates, FillScratch, type ClassSet, type Component } from "./fair-share.js";
import { IndexedHeap } from "./indexed-heap.js";

/** The classes of a transfer list: one per distinct path object. */
export interface Classes {
  set: ClassSet;
  classOf: Int32Array;
  tail: Float64Array;
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
  /** Per class, its active flows as a min-heap on `target` (bytes delivered per flow when each ends):
   *  class c's heap is waitHeap[waitStart[c] .. waitStart[c] + waitSize[c]) (room for all its transfers). */
  private readonly waitStart: Int32Array;
  readonly waitSize: Int32Array;
  private readonly waitHeap: Int32Array;
  readonly target: Float64Array;
  readonly used: Float64Array;
  readonly saturated: Uint8Array;
  readonly activeFlows: Float64Array;
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

  constructor(private readonly k: Classes, private readonly capacities: Float64Array, flows: number) {
    const nc = k.set.caps.length, nr = capacities.length;
    this.rate = new Float64Array(nc);
    this.served = new Float64Array(nc);
    this.since = new Float64Array(nc);
    this.waitStart = new Int32Array(nc + 1);
    for (let f = 0; f < flows; f++) this.waitStart[k.classOf[f] + 1]++;
    for (let c = 0; c < nc; c++) this.waitStart[c + 1] += this.waitStart[c];
    this.waitSize = new Int32Array(nc);
    this.waitHeap = new Int32Array(flows);
    this.target = new Float64Array(flows);
    this.heap = new IndexedHeap(new Float64Array(nc).fill(Infinity));
    this.used = new Float64Array(nr);
    this.saturated = new Uint8Array(nr);
    this.activeFlows = new Float64Array(nr);
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

  /** Brings class c's bytes delivered per flow up to time t. */
  advance(c: number, t: number): void {
    this.served[c] += this.rate[c] * (t - this.since[c]);
    this.since[c] = t;
  }

  /** Changes class c's flow count by `delta` at time t (its load and its resources' busy time). */
  recount(c: number, delta: number, t: number): void {
    const { offsets, resources, weights, counts } = this.k.set;
    const { used, activeFlows, busySince, busy } = this;
    const load = delta * this.rate[c];
    for (let i = offsets[c]; i < offsets[c + 1]; i++) {
      const r = resources[i];
      used[r] += load * weights[i];
      const before = activeFlows[r];
      activeFlows[r] = before + delta;
      if (before === 0) busySince[r] = t;
      else if (before + delta === 0) busy[r] += t - busySince[r];
    }
    counts[c] += delta;
  }

  /** A flow of class c starts at t with `bytes` to move. */
  start(c: number, flow: number, bytes: number, t: number): void {
    this.advance(c, t);
    this.target[flow] = this.served[c] + bytes;
    this.push(c, flow);
    this.recount(c, 1, t);
    this.dirty[c] = 1;
  }

  /** Class c's next flow (and every flow of it done by then) finishes at t; returns how many. */
  finishHead(c: number, t: number, times: FlowEnds): number {
    this.advance(c, t);
    const eps = 1e-9 * Math.max(1, this.target[this.head(c)]);
    let finished = 0;
    do {
      times.finish(this.pop(c), t);
      finished++;
    } while (this.waitSize[c] > 0 && this.target[this.head(c)] <= this.served[c] + eps);
    this.recount(c, -finished, t);
    this.schedule(c); // its next flow, at the current rate; re-sharing may move it again
    this.dirty[c] = 1;
    return finished;
  }

  /** Re-shares the classes coupled to the `count` classes of `changed` (through saturated resources) at time t. */
  reshare(changed: Int32Array, count: number, t: number): void {
    this.memberCount = 0;
    this.touchedCount = 0;
    const counts = this.k.set.counts;
    for (let i = 0; i < count; i++) {
      const c = changed[i];
      this.join(c);
      if (counts[c] === 0) this.visit(c); // a class that left frees its saturated resources' capacity
    }
    for (let done = 0; ;) {
      for (; done < this.memberCount; done++) this.visit(this.members[done]);
      this.solve(t);
      // A resource the component now saturates couples the flows outside it that cross it.
      const before = this.memberCount;
      for (let i = 0; i < this.touchedCount; i++) this.touch(this.touched[i]);
      if (this.memberCount === before) break;
    }
    for (let i = 0; i < this.memberCount; i++) this.isMember[this.members[i]] = 0;
    for (let i = 0; i < this.touchedCount; i++) this.resSeen[this.touched[i]] = 0;
    for (let i = 0; i < count; i++) {
      const c = changed[i];
      if (counts[c] === 0 && this.dirty[c]) {
        this.dirty[c] = 0;
        this.schedule(c);
      }
    }
  }

  /** Adds an active class to the component being re-shared. */
  private join(c: number): void {
    if (this.isMember[c] || this.k.set.counts[c] === 0) return;
    this.isMember[c] = 1;
    this.members[this.memberCount++] = c;
  }

  /** Adds every active class crossing resource r. */
  private joinAll(r: number): void {
    const { resOffsets, resClasses } = this.k.set;
    for (let j = resOffsets[r]; j < resOffsets[r + 1]; j++) this.join(resClasses[j]);
  }

  /** Marks class c's resources as touched and joins the classes on the saturated ones. */
  private visit(c: number): void {
    const { offsets, resources } = this.k.set;
    for (let i = offsets[c]; i < offsets[c + 1]; i++) this.touch(resources[i]);
  }

  /** Adds resource r to the component's resources; a saturated one brings every class crossing it. */
  private touch(r: number): void {
    if (this.resSeen[r] === 0) {
      this.resSeen[r] = 1;
      this.touched[this.touchedCount++] = r;
    }
    if (this.resSeen[r] === 1 && this.saturated[r]) {
      this.resSeen[r] = 2;
      this.joinAll(r);
    }
  }

  /** Max-min rates of the component's classes given what the flows outside leave; applies them. */
  private solve(t: number): void {
    const { members, touched, room, newRate, memberCount, touchedCount, rate, used, capacities, dirty, saturated } = this;
    const { offsets, resources, weights, counts } = this.k.set;
    for (let i = 0; i < touchedCount; i++) room[touched[i]] = capacities[touched[i]] - used[touched[i]];
    for (let i = 0; i < memberCount; i++) {
      const c = members[i], n = counts[c] * rate[c];
      for (let k = offsets[c]; k < offsets[c + 1]; k++) room[resources[k]] += n * weights[k];
    }
    fillRates(this.k.set, this, newRate, this.scratch);
    for (let i = 0; i < memberCount; i++) {
      const c = members[i];
      // A class whose rate and flows did not change keeps its finish time.
      if (newRate[c] === rate[c] && !dirty[c]) continue;
      this.advance(c, t);
      const dn = counts[c] * (newRate[c] - rate[c]);
      for (let k = offsets[c]; k < offsets[c + 1]; k++) used[resources[k]] += dn * weights[k];
      rate[c] = newRate[c];
      dirty[c] = 0;
      this.schedule(c);
    }
    for (let i = 0; i < touchedCount; i++) {
      const r = touched[i];
      saturated[r] = used[r] >= capacities[r] * (1 - 1e-9) ? 1 : 0;
    }
  }

  /** Sets the time class c's next flow finishes. */
  schedule(c: number): void {
    const f = this.head(c);
    this.heap.keys[c] = f < 0 || this.rate[c] <= 0 ? Infinity : this.since[c] + Math.max(0, this.target[f] - this.served[c]) / this.rate[c];
    this.heap.update(c);
  }

  /** The flow of class c that ends first (-1 when none). */
  head(c: number): number {
    return this.waitSize[c] > 0 ? this.waitHeap[this.waitStart[c]] : -1;
  }

  push(c: number, flow: number): void {
    const h = this.waitHeap, tg = this.target, base = this.waitStart[c], t = tg[flow];
    let i = this.waitSize[c]++;
    while (i > 0) {
      const p = (i - 1) >> 1, hp = h[base + p];
      if (tg[hp] < t || (tg[hp] === t && hp < flow)) break;
      h[base + i] = hp;
      i = p;
    }
    h[base + i] = flow;
  }

  pop(c: number): number {
    const h = this.waitHeap, tg = this.target, base = this.waitStart[c];
    const top = h[base];
    const n = --this.waitSize[c];
    const last = h[base + n], t = tg[last];
    let i = 0;
    for (;;) {
      let m = 2 * i + 1;
      if (m >= n) break;
      let hm = h[base + m];
      if (m + 1 < n) {
        const hr = h[base + m + 1];
        if (tg[hr] < tg[hm] || (tg[hr] === tg[hm] && hr < hm)) {
          m++;
          hm = hr;
        }
      }
      if (t < tg[hm] || (t === tg[hm] && last < hm)) break;
      h[base + i] = hm;
      i = m;
    }
    h[base + i] = last;
    return top;
  }
}
