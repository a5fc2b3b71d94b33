// Models: per-operation latency distributions as log-bucketed counts in a typed array (4 buckets per
// power of two of nanoseconds), so recording is O(1) with no allocation.
// Leaves out: exact quantiles (a quantile is reported as its bucket's upper bound).

const SUB = 4;
const BUCKETS = 64 * SUB;

export class LogHistogram {
  readonly counts = new Float64Array(BUCKETS);
  count = 0;
  sumNs = 0;
  minNs = Infinity;
  maxNs = 0;

  record(ns: number, times = 1): void {
    const b = bucketOf(ns);
    this.counts[b] += times;
    this.count += times;
    this.sumNs += ns * times;
    if (ns < this.minNs) this.minNs = ns;
    if (ns > this.maxNs) this.maxNs = ns;
  }

  meanNs(): number {
    return this.count === 0 ? 0 : this.sumNs / this.count;
  }

  /** Upper bound of the bucket holding quantile q (0..1), clamped to the recorded max. */
  quantileNs(q: number): number {
    if (this.count === 0) return 0;
    const want = q * this.count;
    let seen = 0;
    for (let b = 0; b < BUCKETS; b++) {
      seen += this.counts[b];
      if (seen >= want && this.counts[b] > 0) return Math.min(this.maxNs, bucketUpper(b));
    }
    return this.maxNs;
  }

  summary(): { count: number; meanNs: number; p50Ns: number; p99Ns: number; maxNs: number } {
    return { count: this.count, meanNs: this.meanNs(), p50Ns: this.quantileNs(0.5), p99Ns: this.quantileNs(0.99), maxNs: this.maxNs };
  }
}

/** Bucket of a duration: 4 sub-buckets per octave above 1 ns; durations below 1 ns go to bucket 0. */
export function bucketOf(ns: number): number {
  if (!(ns >= 1)) return 0;
  const e = Math.floor(Math.log2(ns));
  const frac = ns / 2 ** e - 1; // 0..1
  return Math.min(BUCKETS - 1, e * SUB + Math.floor(frac * SUB));
}

export function bucketUpper(b: number): number {
  const e = Math.floor(b / SUB);
  return 2 ** e * (1 + ((b % SUB) + 1) / SUB);
}

/** Histograms by operation name (a few dozen operations at most). */
export class OpStats {
  readonly ops = new Map<string, LogHistogram>();
  record(op: string, ns: number, times = 1): void {
    let h = this.ops.get(op);
    if (!h) this.ops.set(op, (h = new LogHistogram()));
    h.record(ns, times);
  }
  toJSON(): Record<string, ReturnType<LogHistogram["summary"]>> {
    const out: Record<string, ReturnType<LogHistogram["summary"]>> = {};
    for (const [k, h] of [...this.ops].sort((a, b) => (a[0] < b[0] ? -1 : 1))) out[k] = h.summary();
    return out;
  }
}
