// Models: how concurrent transfers share the machine's resources: max-min fairness by progressive
// filling (costs.md §6.1, nccl #1086). Transfers on the same path form a class of `count` flows that
// get equal rates; a class puts `weight` wire bytes per payload byte on each resource it crosses and
// may be capped by its own limit (its read window over its round trip). A limit is a capacity, so two
// streams share it: it never multiplies with the number of streams. The water level rises for every
// unfrozen class at once; for a large component the resources' saturation levels sit in a heap, so
// each class is frozen once and each resource re-levelled once per class it loses.
// Leaves out: credit-based flow-control dynamics and arbitration unfairness inside real switches.
import { InternalError } from "../units/internal-error.js";
import { IndexedHeap } from "./indexed-heap.js";

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

/** The classes being re-shared and the resources they cross: `members[0..memberCount)` (marked in
 *  `isMember`), `touched[0..touchedCount)` each once, and `room[r]`, the capacity of resource r the
 *  flows outside the component leave. */
export interface Component {
  members: Int32Array;
  memberCount: number;
  isMember: Uint8Array;
  touched: Int32Array;
  touchedCount: number;
  room: Float64Array;
}

/** Scratch space of one solver, sized once for a class set: per resource the weight of its unfrozen
 *  classes and the load of its frozen ones; per class whether it froze; and the saturation levels of
 *  resources (ids 0..R-1) and the caps of classes (ids R..R+C-1) in one heap. */
export class FillScratch {
  readonly unfrozenWeight: Float64Array;
  readonly frozenLoad: Float64Array;
  readonly frozen: Uint8Array;
  readonly levels: IndexedHeap;

  constructor(readonly resourceCount: number, classes: number) {
    this.unfrozenWeight = new Float64Array(resourceCount);
    this.frozenLoad = new Float64Array(resourceCount);
    this.frozen = new Uint8Array(classes);
    this.levels = new IndexedHeap(new Float64Array(resourceCount + classes).fill(Infinity));
  }

  /** Sets the level at which id (a resource, or resourceCount + a class) is next reached. */
  setLevel(id: number, level: number): void {
    this.levels.keys[id] = level;
    this.levels.update(id);
  }
}

/** The level at which resource r saturates, or Infinity when no unfrozen class crosses it. */
function level(room: Float64Array, s: FillScratch, r: number): number {
  const w = s.unfrozenWeight[r];
  return w > 0 ? Math.max(0, room[r] - s.frozenLoad[r]) / w : Infinity;
}

/**
 * Writes the per-flow rate (GB/s) of each class of the component into `rates`: all unfrozen classes
 * grow together until a resource saturates or a class reaches its cap; classes on a saturated
 * resource freeze.
 */
export function fillRates(set: ClassSet, comp: Component, rates: Float64Array, s: FillScratch): void {
  if (comp.memberCount === 1) fillOne(set, comp.members[0], comp.room, rates);
  else if (comp.memberCount <= SMALL) fillByLevels(set, comp, rates, s);
  else fillByHeap(set, comp, rates, s);
}

/** One class alone: its cap, or what its tightest resource leaves per flow. */
function fillOne(set: ClassSet, c: number, room: Float64Array, rates: Float64Array): void {
  const { offsets, resources, weights, caps, counts } = set;
  let rate = caps[c];
  const n = counts[c];
  for (let k = offsets[c], end = offsets[c + 1]; k < end; k++) {
    const x = Math.max(0, room[resources[k]]) / (n * weights[k]);
    if (x < rate) rate = x;
  }
  if (rate === Infinity) throw new InternalError("fair share: a flow crosses no resource and has no limit of its own (every path crosses a link)");
  rates[c] = rate;
}

/** Components up to this many classes are filled level by level (fewer steps than keeping a heap). */
const SMALL = 12;

/** Progressive filling one level at a time: every pass raises all unfrozen classes to the next
 *  saturation (or cap) and freezes what it reached. */
function fillByLevels(set: ClassSet, comp: Component, rates: Float64Array, s: FillScratch): void {
  const { offsets, resources, weights, caps, counts } = set;
  const { members, memberCount, touched, touchedCount, room } = comp;
  const { unfrozenWeight: load, frozenLoad: left, frozen } = s;
  for (let i = 0; i < touchedCount; i++) {
    const r = touched[i];
    load[r] = 0;
    left[r] = room[r];
  }
  let capped = false;
  for (let i = 0; i < memberCount; i++) {
    const c = members[i];
    frozen[c] = 0;
    rates[c] = 0;
    if (caps[c] !== Infinity) capped = true;
    const n = counts[c];
    for (let k = offsets[c], end = offsets[c + 1]; k < end; k++) load[resources[k]] += n * weights[k];
  }
  let unfrozen = memberCount;
  while (unfrozen > 0) {
    let step = Infinity;
    for (let i = 0; i < touchedCount; i++) {
      const r = touched[i];
      if (load[r] > 0 && left[r] / load[r] < step) step = left[r] / load[r];
    }
    for (let i = 0; capped && i < memberCount; i++) {
      const c = members[i];
      if (!frozen[c] && caps[c] - rates[c] < step) step = caps[c] - rates[c];
    }
    if (step === Infinity) throw new InternalError("fair share: a flow crosses no resource and has no limit of its own (every path crosses a link)");
    if (step < 0) step = 0;
    for (let i = 0; i < touchedCount; i++) {
      const r = touched[i];
      left[r] -= step * load[r];
    }
    for (let i = 0; i < memberCount; i++) {
      const c = members[i];
      if (frozen[c]) continue;
      const rate = (rates[c] += step), cap = caps[c];
      let stop = cap !== Infinity && cap - rate <= 1e-12 * cap;
      const first = offsets[c], end = offsets[c + 1];
      for (let k = first; !stop && k < end; k++) stop = left[resources[k]] <= 1e-12 * Math.max(1, room[resources[k]]);
      if (!stop) continue;
      frozen[c] = 1;
      unfrozen--;
      const n = counts[c];
      for (let k = first; k < end; k++) {
        const r = resources[k];
        load[r] -= n * weights[k];
        // What rounding leaves of the frozen classes' weight is no load (it would stall the filling).
        if (load[r] < 1e-9 * n * weights[k]) load[r] = 0;
      }
    }
  }
}

/** Progressive filling with the resources' saturation levels and the classes' caps in a heap: the
 *  lowest is reached next; each class freezes once and re-levels the resources it crosses. */
function fillByHeap(set: ClassSet, comp: Component, rates: Float64Array, s: FillScratch): void {
  const { offsets, resources, weights, caps, counts, resOffsets, resClasses } = set;
  const { members, memberCount, isMember, touched, touchedCount, room } = comp;
  const { unfrozenWeight, frozenLoad, frozen, levels, resourceCount } = s;
  levels.clear();
  for (let i = 0; i < touchedCount; i++) {
    unfrozenWeight[touched[i]] = 0;
    frozenLoad[touched[i]] = 0;
  }
  for (let i = 0; i < memberCount; i++) {
    const c = members[i];
    frozen[c] = 0;
    rates[c] = 0;
    const n = counts[c];
    for (let k = offsets[c], end = offsets[c + 1]; k < end; k++) unfrozenWeight[resources[k]] += n * weights[k];
    if (caps[c] !== Infinity) s.setLevel(resourceCount + c, caps[c]);
  }
  for (let i = 0; i < touchedCount; i++) s.setLevel(touched[i], level(room, s, touched[i]));
  let unfrozen = memberCount;
  while (unfrozen > 0) {
    if (levels.size === 0) throw new InternalError("fair share: a flow crosses no resource and has no limit of its own (every path crosses a link)");
    const key = levels.topKey();
    const id = levels.pop();
    if (id >= resourceCount) {
      freeze(set, s, room, rates, id - resourceCount, key);
      unfrozen--;
      continue;
    }
    for (let j = resOffsets[id], end = resOffsets[id + 1]; j < end; j++) {
      const c = resClasses[j];
      if (isMember[c] && !frozen[c]) {
        freeze(set, s, room, rates, c, key);
        unfrozen--;
      }
    }
  }
}

/** Freezes class c at rate x: its cap leaves the heap; its resources lose its unfrozen weight, carry
 *  its load and are re-levelled (a resource no unfrozen class crosses leaves the heap). */
function freeze(set: ClassSet, s: FillScratch, room: Float64Array, rates: Float64Array, c: number, x: number): void {
  const { offsets, resources, weights, counts } = set;
  s.frozen[c] = 1;
  rates[c] = x;
  s.setLevel(s.resourceCount + c, Infinity);
  const n = counts[c];
  for (let k = offsets[c], end = offsets[c + 1]; k < end; k++) {
    const r = resources[k], w = n * weights[k];
    s.unfrozenWeight[r] -= w;
    s.frozenLoad[r] += w * x;
    if (s.unfrozenWeight[r] <= 1e-12 * w) s.unfrozenWeight[r] = 0;
    s.setLevel(r, level(room, s, r));
  }
}
