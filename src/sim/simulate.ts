// Models: concurrent transfers on a machine's resources over simulated time (a fluid model): each
// transfer starts its data at its start time (or when the transfer it waits for ends) and streams at
// its max-min fair share; it completes its path latency and fixed tail after its last byte.
// Transfers on the same path form a class (share-state.ts re-shares only the classes a start or
// finish couples to); every event processed is a transfer starting or finishing (no stale events).
// Per-resource payload, wire bytes and busy time are counted. Leaves out: packet-level queueing (the fluid model charges
// whole TLPs per byte; a transfer's first and partial packets are in its tail, paths.ts packetNs).
import { InputError } from "../units/input-error.js";
import { ShareState, type Classes, type FlowEnds } from "./share-state.js";
import { PairHeap } from "./indexed-heap.js";
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
  const nRes = graph.capacities.length, n = transfers.length;
  const index = new Map<SimPath, number>();
  const paths: SimPath[] = [];
  /** Per class, packet time by transfer size (paths.ts packetNs). */
  const packets: Map<number, number>[] = [];
  const classBytes: number[] = [];
  const classOf = new Int32Array(n);
  const tail = new Float64Array(n);
  const bytes = new Float64Array(n);
  transfers.forEach((t, i) => {
    checkTransfer(t, i);
    let c = index.get(t.path);
    if (c === undefined) {
      checkPath(t.path, i, nRes);
      c = paths.length;
      index.set(t.path, c);
      paths.push(t.path);
      packets.push(new Map());
      classBytes.push(0);
    }
    classBytes[c] += t.bytes;
    classOf[i] = c;
    let p = packets[c].get(t.bytes);
    if (p === undefined) packets[c].set(t.bytes, (p = packetNs(graph, t.path, t.bytes)));
    tail[i] = t.path.latencyNs + p + (t.tailNs ?? 0);
    bytes[i] = t.bytes;
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
  return { set: { offsets, resources, weights, caps, counts: new Float64Array(paths.length), resOffsets: perRes, resClasses }, classOf, tail, bytes, classBytes: Float64Array.from(classBytes), paths };
}

/** The transfers' times: when each may start (in a queue), started, finished its data, ended; and
 *  the transfers that wait for another to end (a list per transfer: first waiter, next waiter). */
class Timeline implements FlowEnds {
  /** Until a transfer is queued, its delay (after the one it waits for, if any); then when it starts. */
  readonly startNs: Float64Array;
  readonly dataEndNs: Float64Array;
  /** Until a transfer ends, its tail after its last byte; then when it ends. */
  readonly endNs: Float64Array;
  /** Transfers waiting to start, by start time (then index). */
  readonly arrivals: PairHeap;
  makespan = 0;
  private readonly firstWaiter: Int32Array;
  private readonly nextWaiter: Int32Array;

  /** `tail[f]`: transfer f's time after its last byte (the array becomes `endNs`). */
  constructor(transfers: readonly Transfer[], tail: Float64Array) {
    const n = transfers.length;
    this.startNs = new Float64Array(n);
    this.dataEndNs = new Float64Array(n);
    this.endNs = tail;
    this.arrivals = new PairHeap(1024);
    this.firstWaiter = new Int32Array(n).fill(-1);
    this.nextWaiter = new Int32Array(n);
    for (let f = n - 1; f >= 0; f--) {
      const t = transfers[f];
      this.startNs[f] = t.startNs ?? 0;
      if (t.after === undefined) continue;
      this.nextWaiter[f] = this.firstWaiter[t.after];
      this.firstWaiter[t.after] = f;
    }
    for (let f = 0; f < n; f++) if (transfers[f].after === undefined) this.arrivals.push(f, this.startNs[f]);
  }

  /** Transfer f's last byte left at t: it ends after its tail; those waiting for it are queued. */
  finish(f: number, t: number): void {
    const end = t + this.endNs[f];
    this.dataEndNs[f] = t;
    this.endNs[f] = end;
    if (end > this.makespan) this.makespan = end;
    for (let d = this.firstWaiter[f]; d >= 0; d = this.nextWaiter[d]) {
      this.startNs[d] += end;
      this.arrivals.push(d, this.startNs[d]);
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
    share.now = t;
    let nChanged = 0;
    // Every flow whose class reaches its size by t finishes now (equal flows finish together).
    while (heap.size > 0 && heap.topKey() <= t) {
      const c = heap.top();
      const finished = share.finishHead(c, times);
      events += finished;
      if (!isChanged[c]) {
        isChanged[c] = 1;
        changed[nChanged++] = c;
      }
    }
    while (arrivals.size > 0 && arrivals.topKey() <= t) {
      const f = arrivals.pop();
      const c = k.classOf[f];
      share.start(c, f);
      times.startNs[f] = t;
      events++;
      if (!isChanged[c]) {
        isChanged[c] = 1;
        changed[nChanged++] = c;
      }
    }
    share.reshare(changed, nChanged);
    for (let i = 0; i < nChanged; i++) isChanged[changed[i]] = 0;
  }
}

/** Runs the transfers to completion on the resources of `graph`. */
export function simulate(graph: LinkGraph, transfers: readonly Transfer[]): SimResult {
  const n = transfers.length;
  const k = classify(graph, transfers);
  const share = new ShareState(k, graph.capacities);
  const times = new Timeline(transfers, k.tail);
  const events = run(k, share, times);
  if (events < 2 * n) {
    const stuck = k.classOf.findIndex((c) => share.waitSize[c] > 0);
    throw new InputError(`transfers[${stuck}].path`, transfers[stuck].path.to, "transfer gets no bandwidth (zero capacity on its path)");
  }
  return {
    count: n, startNs: times.startNs, dataEndNs: times.dataEndNs, endNs: times.endNs, makespanNs: times.makespan, events,
    ...resourceUse(k, share.busy, graph.capacities.length),
  };
}

function resourceUse(k: Classes, busyNs: Float64Array, nRes: number): Pick<SimResult, "payloadBytes" | "wireBytes" | "busyNs"> {
  const perClass = k.classBytes;
  const payloadBytes = new Float64Array(nRes), wireBytes = new Float64Array(nRes);
  for (let c = 0; c < perClass.length; c++) {
    const { resources, weights, shares } = k.paths[c];
    for (let i = 0; i < resources.length; i++) {
      payloadBytes[resources[i]] += perClass[c] * shares[i];
      wireBytes[resources[i]] += perClass[c] * weights[i];
    }
  }
  return { payloadBytes, wireBytes, busyNs };
}
