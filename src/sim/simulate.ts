// Models: concurrent transfers on a machine's resources over simulated time (a fluid model): each
// transfer starts its data at its start time and streams at its max-min fair share (fair-share.ts);
// it completes its path latency and fixed tail after its last byte. Transfers on the same path form
// a class whose flows share one rate, so a class's bytes delivered per flow grow as one number and
// each flow finishes when that number passes its size. When flows start or finish, only the classes
// coupled to them through saturated resources are re-shared (plus any whose resource they saturate);
// every event processed is a transfer starting or finishing (no stale events). Per-resource payload,
// wire bytes and busy time are counted. Leaves out: packet-level queueing (the fluid model charges
// whole TLPs per byte; a transfer's first and partial packets are in its tail, paths.ts packetNs).
import { InputError } from "../units/input-error.js";
import { fillRates, FillScratch, type ClassSet, type Component } from "./fair-share.js";
import { IndexedHeap } from "./indexed-heap.js";
import type { LinkGraph } from "./link-graph.js";
import { packetNs, type SimPath } from "./paths.js";

export interface Transfer {
  path: SimPath;
  bytes: number;
  /** When its data may start, ns (its design's fixed costs before the data are already in it); with
   *  `after`, the delay after that transfer ends. */
  startNs?: number;
  /** Index of an earlier transfer that must end before this one starts (a design's second phase). */
  after?: number;
  /** Fixed time after its last byte besides the path latency (a design's fixed costs after the data), ns. */
  tailNs?: number;
  label?: string;
}

/** Times of each transfer (typed arrays, index = transfer) and use of each resource. */
export interface SimResult {
  count: number;
  startNs: Float64Array;
  /** When its last byte left the bottleneck. */
  dataEndNs: Float64Array;
  /** dataEndNs + path latency + packets + tail. */
  endNs: Float64Array;
  makespanNs: number;
  /** Transfers started plus transfers finished (every event processed). */
  events: number;
  /** Per resource (link directions, memories, ports; link-graph.ts): payload and wire bytes, busy time. */
  payloadBytes: Float64Array;
  wireBytes: Float64Array;
  busyNs: Float64Array;
}

/** The classes of a transfer list: one per distinct path object. */
interface Classes {
  set: ClassSet;
  classOf: Int32Array;
  tail: Float64Array;
}

function checkTransfer(t: Transfer, i: number): void {
  if (!(Number.isFinite(t.bytes) && t.bytes > 0)) throw new InputError(`transfers[${i}].bytes`, t.bytes, "must be a positive number of bytes");
  const s = t.startNs ?? 0;
  if (!(Number.isFinite(s) && s >= 0)) throw new InputError(`transfers[${i}].startNs`, t.startNs, "must be a time >= 0");
  const tail = t.tailNs ?? 0;
  if (!(Number.isFinite(tail) && tail >= 0)) throw new InputError(`transfers[${i}].tailNs`, t.tailNs, "must be a time >= 0");
  if (t.after !== undefined && !(Number.isInteger(t.after) && t.after >= 0 && t.after < i)) throw new InputError(`transfers[${i}].after`, t.after, "must be the index of an earlier transfer");
}

function checkPath(p: SimPath, i: number, resourceCount: number): void {
  for (const r of p.resources) if (!(r >= 0 && r < resourceCount)) throw new InputError(`transfers[${i}].path.resources`, r, "no such resource in this graph");
}

function classify(graph: LinkGraph, transfers: readonly Transfer[]): Classes {
  const nRes = graph.capacities.length;
  const index = new Map<SimPath, number>();
  const paths: SimPath[] = [];
  const classOf = new Int32Array(transfers.length);
  const tail = new Float64Array(transfers.length);
  const packets = new Map<SimPath, Map<number, number>>();
  transfers.forEach((t, i) => {
    checkTransfer(t, i);
    let c = index.get(t.path);
    if (c === undefined) {
      checkPath(t.path, i, nRes);
      c = paths.length;
      index.set(t.path, c);
      paths.push(t.path);
      packets.set(t.path, new Map());
    }
    classOf[i] = c;
    const known = packets.get(t.path)!;
    let p = known.get(t.bytes);
    if (p === undefined) known.set(t.bytes, (p = packetNs(graph, t.path, t.bytes)));
    tail[i] = t.path.latencyNs + p + (t.tailNs ?? 0);
  });
  const offsets = new Int32Array(paths.length + 1);
  paths.forEach((p, c) => (offsets[c + 1] = offsets[c] + p.resources.length));
  const resources = new Int32Array(offsets[paths.length]);
  const weights = new Float64Array(offsets[paths.length]);
  const caps = new Float64Array(paths.length);
  const perRes = new Int32Array(nRes + 1);
  paths.forEach((p, c) => {
    resources.set(p.resources, offsets[c]);
    weights.set(p.weights, offsets[c]);
    caps[c] = p.capGBps;
    for (const r of p.resources) perRes[r + 1]++;
  });
  for (let r = 0; r < nRes; r++) perRes[r + 1] += perRes[r];
  const fill = perRes.slice(0, nRes);
  const resClasses = new Int32Array(perRes[nRes]);
  paths.forEach((p, c) => {
    for (const r of p.resources) resClasses[fill[r]++] = c;
  });
  return { set: { offsets, resources, weights, caps, counts: new Float64Array(paths.length), resOffsets: perRes, resClasses }, classOf, tail };
}

/** The running state: per class its rate, bytes delivered per flow and waiting flows; per resource
 *  its load, saturation and busy time; and the component being re-shared (fair-share.ts). */
class ShareState implements Component {
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
  finishHead(c: number, t: number, times: Timeline): number {
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

/** The transfers' times: when each may start (in a queue), started, finished its data, ended; and
 *  the transfers that wait for another to end (CSR by the one they wait for). */
class Timeline {
  readonly startNs: Float64Array;
  readonly dataEndNs: Float64Array;
  readonly endNs: Float64Array;
  readonly bytes: Float64Array;
  /** Transfers waiting to start, by start time (then index). */
  readonly arrivals: IndexedHeap;
  makespan = 0;
  private readonly delay: Float64Array;
  private readonly depOffsets: Int32Array;
  private readonly dependents: Int32Array;

  constructor(transfers: readonly Transfer[], private readonly tail: Float64Array) {
    const n = transfers.length;
    this.startNs = new Float64Array(n);
    this.dataEndNs = new Float64Array(n);
    this.endNs = new Float64Array(n);
    this.bytes = new Float64Array(n);
    this.delay = new Float64Array(n);
    for (let f = 0; f < n; f++) {
      this.bytes[f] = transfers[f].bytes;
      this.delay[f] = transfers[f].startNs ?? 0;
    }
    this.arrivals = new IndexedHeap(this.startNs);
    this.depOffsets = new Int32Array(n + 1);
    for (const t of transfers) if (t.after !== undefined) this.depOffsets[t.after + 1]++;
    for (let f = 0; f < n; f++) this.depOffsets[f + 1] += this.depOffsets[f];
    const fill = this.depOffsets.slice(0, n);
    this.dependents = new Int32Array(this.depOffsets[n]);
    transfers.forEach((t, f) => {
      if (t.after !== undefined) this.dependents[fill[t.after]++] = f;
      else {
        this.startNs[f] = this.delay[f];
        this.arrivals.update(f);
      }
    });
  }

  /** Transfer f's last byte left at t: it ends after its tail; those waiting for it are queued. */
  finish(f: number, t: number): void {
    const end = t + this.tail[f];
    this.dataEndNs[f] = t;
    this.endNs[f] = end;
    if (end > this.makespan) this.makespan = end;
    for (let j = this.depOffsets[f]; j < this.depOffsets[f + 1]; j++) {
      const d = this.dependents[j];
      this.startNs[d] = end + this.delay[d];
      this.arrivals.update(d);
    }
  }
}

/** Processes every start and finish until no transfer is left; returns the events processed. */
function run(k: Classes, share: ShareState, times: Timeline): number {
  const changed = new Int32Array(k.set.caps.length);
  const isChanged = new Uint8Array(k.set.caps.length);
  const heap = share.classes, arrivals = times.arrivals;
  let events = 0;
  for (;;) {
    const t = Math.min(arrivals.topKey(), heap.topKey());
    if (t === Infinity) return events;
    let nChanged = 0;
    // Every flow whose class reaches its size by t finishes now (equal flows finish together).
    while (heap.size > 0 && heap.topKey() <= t) {
      const c = heap.top();
      const finished = share.finishHead(c, t, times);
      events += finished;
      if (!isChanged[c]) {
        isChanged[c] = 1;
        changed[nChanged++] = c;
      }
    }
    while (arrivals.size > 0 && arrivals.topKey() <= t) {
      const f = arrivals.pop();
      const c = k.classOf[f];
      share.start(c, f, times.bytes[f], t);
      times.startNs[f] = t;
      events++;
      if (!isChanged[c]) {
        isChanged[c] = 1;
        changed[nChanged++] = c;
      }
    }
    share.reshare(changed, nChanged, t);
    for (let i = 0; i < nChanged; i++) isChanged[changed[i]] = 0;
  }
}

/** Runs the transfers to completion on the resources of `graph`. */
export function simulate(graph: LinkGraph, transfers: readonly Transfer[]): SimResult {
  const n = transfers.length;
  const k = classify(graph, transfers);
  const share = new ShareState(k, graph.capacities, n);
  const times = new Timeline(transfers, k.tail);
  const events = run(k, share, times);
  if (events < 2 * n) {
    const stuck = k.classOf.findIndex((c) => share.waitSize[c] > 0);
    throw new InputError(`transfers[${stuck}].path`, transfers[stuck].path.to, "transfer gets no bandwidth (zero capacity on its path)");
  }
  return {
    count: n, startNs: times.startNs, dataEndNs: times.dataEndNs, endNs: times.endNs, makespanNs: times.makespan, events,
    ...resourceUse(k, transfers, share.busy, graph.capacities.length),
  };
}

function resourceUse(k: Classes, transfers: readonly Transfer[], busyNs: Float64Array, nRes: number): Pick<SimResult, "payloadBytes" | "wireBytes" | "busyNs"> {
  const perClass = new Float64Array(k.set.caps.length);
  transfers.forEach((t, i) => (perClass[k.classOf[i]] += t.bytes));
  const payloadBytes = new Float64Array(nRes), wireBytes = new Float64Array(nRes);
  const { offsets, resources, weights } = k.set;
  for (let c = 0; c < perClass.length; c++) {
    for (let i = offsets[c]; i < offsets[c + 1]; i++) {
      // Data directions carry >= 1 wire byte per payload byte; a read's request direction less.
      if (weights[i] >= 1) payloadBytes[resources[i]] += perClass[c];
      wireBytes[resources[i]] += perClass[c] * weights[i];
    }
  }
  return { payloadBytes, wireBytes, busyNs };
}
