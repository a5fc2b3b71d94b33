// Models: how concurrent transfers share the machine's resources: max-min fairness by progressive
// filling (costs.md §6.1, nccl #1086). Transfers on the same path form a class of `count` flows that
// get equal rates; a class puts `weight` wire bytes per payload byte on each resource it crosses and
// may be capped by its own limit (its read window over its round trip). A limit is a capacity, so two
// streams share it: it never multiplies with the number of streams. The water level rises for every
// unfrozen class at once; the resources' saturation levels sit in a heap, so each class is frozen once
// and each resource re-keyed once per class it loses (no pass over every class per level).
// Leaves out: credit-based flow-control dynamics and arbitration unfairness inside real switches.
import { InternalError } from "../units/internal-error.js";

/** Classes in flat arrays: class c crosses res[off[c]..off[c+1]) with weights wt[...]; resource r is
 *  crossed by classes resClasses[resOffsets[r]..resOffsets[r+1]). */
export interface ClassSet {
  offsets: Int32Array;
  resources: Int32Array;
  weights: Float64Array;
  caps: Float64Array;
  /** Flows of each class taking part. */
  counts: Float64Array;
  resOffsets: Int32Array;
  resClasses: Int32Array;
}

/** Scratch space of one solver, sized once for a class set. */
export class FillScratch {
  readonly unfrozenWeight: Float64Array;
  readonly frozenLoad: Float64Array;
  readonly frozen: Uint8Array;
  private readonly heapKey: Float64Array;
  private readonly heapId: Int32Array;
  private heapSize = 0;

  constructor(resources: number, classes: number, entries: number) {
    this.unfrozenWeight = new Float64Array(resources);
    this.frozenLoad = new Float64Array(resources);
    this.frozen = new Uint8Array(classes);
    const cap = resources + classes + entries + 1;
    this.heapKey = new Float64Array(cap);
    this.heapId = new Int32Array(cap);
  }

  clear(): void {
    this.heapSize = 0;
  }

  get size(): number {
    return this.heapSize;
  }

  /** Pushes `id` (a resource r as r, a class c as -1 - c) at level `key`. */
  push(key: number, id: number): void {
    const k = this.heapKey, h = this.heapId;
    let i = this.heapSize++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (k[p] <= key) break;
      k[i] = k[p];
      h[i] = h[p];
      i = p;
    }
    k[i] = key;
    h[i] = id;
  }

  topKey(): number {
    return this.heapKey[0];
  }

  /** Removes the lowest entry and returns its id. */
  pop(): number {
    const k = this.heapKey, h = this.heapId;
    const id = h[0];
    const n = --this.heapSize;
    const lk = k[n], lh = h[n];
    let i = 0;
    for (;;) {
      let m = 2 * i + 1;
      if (m >= n) break;
      if (m + 1 < n && k[m + 1] < k[m]) m++;
      if (k[m] >= lk) break;
      k[i] = k[m];
      h[i] = h[m];
      i = m;
    }
    k[i] = lk;
    h[i] = lh;
    return id;
  }
}

/** The level at which resource r saturates, or Infinity when no unfrozen class crosses it. */
function level(room: Float64Array, s: FillScratch, r: number): number {
  const w = s.unfrozenWeight[r];
  return w > 0 ? Math.max(0, room[r] - s.frozenLoad[r]) / w : Infinity;
}

/**
 * Writes the per-flow rate (GB/s) of each class of `members` into `rates`: all unfrozen classes grow
 * together until a resource saturates or a class reaches its cap; classes on a saturated resource
 * freeze. `room[r]` is the capacity of resource r left after the flows outside `members`; `touched`
 * lists every resource the members cross (each once); `isMember[c]` marks the members.
 */
export function fillRates(set: ClassSet, members: Int32Array, memberCount: number, isMember: Uint8Array, touched: Int32Array, touchedCount: number, room: Float64Array, rates: Float64Array, s: FillScratch): void {
  if (memberCount === 1) fillOne(set, members[0], room, rates);
  else if (memberCount <= SMALL) fillByLevels(set, members, memberCount, touched, touchedCount, room, rates, s);
  else fillByHeap(set, members, memberCount, isMember, touched, touchedCount, room, rates, s);
}

/** One class alone: its cap, or what its tightest resource leaves per flow. */
function fillOne(set: ClassSet, c: number, room: Float64Array, rates: Float64Array): void {
  const { offsets, resources, weights, caps, counts } = set;
  let rate = caps[c];
  for (let k = offsets[c]; k < offsets[c + 1]; k++) {
    const x = Math.max(0, room[resources[k]]) / (counts[c] * weights[k]);
    if (x < rate) rate = x;
  }
  if (rate === Infinity) throw new InternalError("fair share: a flow crosses no resource and has no limit of its own (every path crosses a link)");
  rates[c] = rate;
}

/** Components up to this many classes are filled level by level (fewer steps than keeping a heap). */
const SMALL = 12;

/** Progressive filling one level at a time: every pass raises all unfrozen classes to the next
 *  saturation (or cap) and freezes what it reached. */
function fillByLevels(set: ClassSet, members: Int32Array, memberCount: number, touched: Int32Array, touchedCount: number, room: Float64Array, rates: Float64Array, s: FillScratch): void {
  const { offsets, resources, weights, caps, counts } = set;
  const { unfrozenWeight: load, frozenLoad: left, frozen } = s;
  for (let i = 0; i < touchedCount; i++) {
    load[touched[i]] = 0;
    left[touched[i]] = room[touched[i]];
  }
  for (let i = 0; i < memberCount; i++) {
    const c = members[i];
    frozen[c] = 0;
    rates[c] = 0;
    for (let k = offsets[c]; k < offsets[c + 1]; k++) load[resources[k]] += counts[c] * weights[k];
  }
  let unfrozen = memberCount;
  while (unfrozen > 0) {
    let step = Infinity;
    for (let i = 0; i < touchedCount; i++) {
      const r = touched[i];
      if (load[r] > 0 && left[r] / load[r] < step) step = left[r] / load[r];
    }
    for (let i = 0; i < memberCount; i++) {
      const c = members[i];
      if (!frozen[c] && caps[c] - rates[c] < step) step = caps[c] - rates[c];
    }
    if (step === Infinity) throw new InternalError("fair share: a flow crosses no resource and has no limit of its own (every path crosses a link)");
    if (step < 0) step = 0;
    for (let i = 0; i < touchedCount; i++) left[touched[i]] -= step * load[touched[i]];
    for (let i = 0; i < memberCount; i++) {
      const c = members[i];
      if (frozen[c]) continue;
      rates[c] += step;
      let stop = caps[c] !== Infinity && caps[c] - rates[c] <= 1e-12 * caps[c];
      for (let k = offsets[c]; !stop && k < offsets[c + 1]; k++) stop = left[resources[k]] <= 1e-12 * Math.max(1, room[resources[k]]);
      if (!stop) continue;
      frozen[c] = 1;
      unfrozen--;
      for (let k = offsets[c]; k < offsets[c + 1]; k++) {
        const r = resources[k];
        load[r] -= counts[c] * weights[k];
        // What rounding leaves of the frozen classes' weight is no load (it would stall the filling).
        if (load[r] < 1e-9 * counts[c] * weights[k]) load[r] = 0;
      }
    }
  }
}

/** Progressive filling with the resources' saturation levels in a heap. */
function fillByHeap(set: ClassSet, members: Int32Array, memberCount: number, isMember: Uint8Array, touched: Int32Array, touchedCount: number, room: Float64Array, rates: Float64Array, s: FillScratch): void {
  const { offsets, resources, weights, caps, counts, resOffsets, resClasses } = set;
  const { unfrozenWeight, frozenLoad, frozen } = s;
  s.clear();
  for (let i = 0; i < touchedCount; i++) {
    unfrozenWeight[touched[i]] = 0;
    frozenLoad[touched[i]] = 0;
  }
  for (let i = 0; i < memberCount; i++) {
    const c = members[i];
    frozen[c] = 0;
    rates[c] = 0;
    for (let k = offsets[c]; k < offsets[c + 1]; k++) unfrozenWeight[resources[k]] += counts[c] * weights[k];
    if (caps[c] !== Infinity) s.push(caps[c], -1 - c);
  }
  for (let i = 0; i < touchedCount; i++) {
    const r = touched[i];
    if (unfrozenWeight[r] > 0) s.push(level(room, s, r), r);
  }
  let unfrozen = memberCount;
  while (unfrozen > 0) {
    if (s.size === 0) throw new InternalError("fair share: a flow crosses no resource and has no limit of its own (every path crosses a link)");
    const key = s.topKey();
    const id = s.pop();
    if (id < 0) {
      const c = -1 - id;
      if (!frozen[c]) {
        freeze(set, s, room, rates, c, key);
        unfrozen--;
      }
      continue;
    }
    // A resource's entry is current only if its level has not moved since it was pushed.
    if (unfrozenWeight[id] === 0 || level(room, s, id) !== key) continue;
    for (let j = resOffsets[id]; j < resOffsets[id + 1]; j++) {
      const c = resClasses[j];
      if (isMember[c] && !frozen[c]) {
        freeze(set, s, room, rates, c, key);
        unfrozen--;
      }
    }
  }
}

/** Freezes class c at rate x: its resources lose its unfrozen weight and carry its load. */
function freeze(set: ClassSet, s: FillScratch, room: Float64Array, rates: Float64Array, c: number, x: number): void {
  const { offsets, resources, weights, counts } = set;
  s.frozen[c] = 1;
  rates[c] = x;
  for (let k = offsets[c]; k < offsets[c + 1]; k++) {
    const r = resources[k], w = counts[c] * weights[k];
    s.unfrozenWeight[r] -= w;
    s.frozenLoad[r] += w * x;
    if (s.unfrozenWeight[r] > 1e-12 * w) s.push(level(room, s, r), r);
    else s.unfrozenWeight[r] = 0;
  }
}
