// Models: how concurrent transfers share links: max-min fairness by progressive filling, where a
// transfer puts `weight` wire bytes per payload byte on each resource (link direction) it crosses and
// may be capped by its own limit (read window, platform efficiency). costs.md §6.1, nccl #1086.
// Leaves out: credit-based flow control dynamics and arbitration unfairness inside real switches.

/** Inputs in flat arrays: flow f uses resources res[off[f]..off[f+1]) with weights wt[...]. */
export interface FlowSet {
  count: number;
  offsets: Int32Array;
  resources: Int32Array;
  weights: Float64Array;
  caps: Float64Array;
  /** 1 when the flow takes part in this allocation. */
  active: Uint8Array;
}

/**
 * Writes each active flow's payload rate (GB/s) into `rates`: all unfrozen flows grow together until
 * a resource saturates or a flow reaches its cap; flows on a saturated resource freeze. Scratch arrays
 * are passed in so the solver allocates nothing per call.
 */
export function maxMinRates(set: FlowSet, capacities: Float64Array, rates: Float64Array, scratch: { left: Float64Array; load: Float64Array; frozen: Uint8Array }): void {
  const { count, offsets, resources, weights, caps, active } = set;
  const { left, load, frozen } = scratch;
  left.set(capacities);
  let unfrozen = 0;
  for (let f = 0; f < count; f++) {
    rates[f] = 0;
    frozen[f] = active[f] ? 0 : 1;
    if (active[f]) unfrozen++;
  }
  const EPS = 1e-12;
  while (unfrozen > 0) {
    load.fill(0);
    for (let f = 0; f < count; f++) {
      if (frozen[f]) continue;
      for (let k = offsets[f]; k < offsets[f + 1]; k++) load[resources[k]] += weights[k];
    }
    let step = Infinity;
    for (let r = 0; r < load.length; r++) if (load[r] > 0) step = Math.min(step, left[r] / load[r]);
    for (let f = 0; f < count; f++) if (!frozen[f]) step = Math.min(step, caps[f] - rates[f]);
    if (step === Infinity) step = 0;
    for (let r = 0; r < load.length; r++) if (load[r] > 0) left[r] -= step * load[r];
    for (let f = 0; f < count; f++) {
      if (frozen[f]) continue;
      rates[f] += step;
      let stop = caps[f] !== Infinity && caps[f] - rates[f] <= EPS * Math.max(1, caps[f]);
      for (let k = offsets[f]; !stop && k < offsets[f + 1]; k++) stop = left[resources[k]] <= EPS * Math.max(1, capacities[resources[k]]);
      if (stop) {
        frozen[f] = 1;
        unfrozen--;
      }
    }
  }
}
