// Models: the simulator's pending-event set: a binary min-heap keyed by (integer ns time, insertion
// sequence) kept in typed arrays, so equal-time events pop in the order they were scheduled.
// Leaves out: cancellation (handlers ignore stale events by checking an epoch in their payload).

/** A pending event: when, what kind (handler index) and one integer payload (an index). */
export class EventQueue {
  private times: Float64Array;
  private seqs: Float64Array;
  private kinds: Int32Array;
  private payloads: Int32Array;
  private count = 0;
  private nextSeq = 0;
  poppedTime = 0;
  poppedPayload = 0;

  constructor(initialCapacity = 1024) {
    const n = Math.max(16, initialCapacity);
    this.times = new Float64Array(n);
    this.seqs = new Float64Array(n);
    this.kinds = new Int32Array(n);
    this.payloads = new Int32Array(n);
  }

  get size(): number {
    return this.count;
  }

  /** Time of the earliest event (Infinity when empty). */
  peekTime(): number {
    return this.count === 0 ? Infinity : this.times[0];
  }

  push(timeNs: number, kind: number, payload: number): void {
    if (this.count === this.times.length) this.grow();
    const seq = this.nextSeq++;
    // Sift up: move parents down until the slot for the new key is found.
    let i = this.count++;
    const times = this.times, seqs = this.seqs, kinds = this.kinds, payloads = this.payloads;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pt = times[p];
      if (pt < timeNs || (pt === timeNs && seqs[p] < seq)) break;
      times[i] = pt;
      seqs[i] = seqs[p];
      kinds[i] = kinds[p];
      payloads[i] = payloads[p];
      i = p;
    }
    times[i] = timeNs;
    seqs[i] = seq;
    kinds[i] = kind;
    payloads[i] = payload;
  }

  /** Removes the earliest event and returns its kind (-1 when empty); its time and payload are left
   *  in `poppedTime` / `poppedPayload` (no object per event). */
  pop(): number {
    if (this.count === 0) return -1;
    const times = this.times, seqs = this.seqs, kinds = this.kinds, payloads = this.payloads;
    const kind0 = kinds[0];
    this.poppedTime = times[0];
    this.poppedPayload = payloads[0];
    const last = --this.count;
    if (last === 0) return kind0;
    const t = times[last], s = seqs[last];
    let i = 0;
    const half = last >> 1;
    // Sift down the last element's key; it is copied into its final slot once.
    while (i < half) {
      let c = 2 * i + 1;
      const r = c + 1;
      let ct = times[c];
      if (r < last) {
        const rt = times[r];
        if (rt < ct || (rt === ct && seqs[r] < seqs[c])) { c = r; ct = rt; }
      }
      if (t < ct || (t === ct && s < seqs[c])) break;
      times[i] = ct;
      seqs[i] = seqs[c];
      kinds[i] = kinds[c];
      payloads[i] = payloads[c];
      i = c;
    }
    times[i] = t;
    seqs[i] = s;
    kinds[i] = kinds[last];
    payloads[i] = payloads[last];
    return kind0;
  }

  clear(): void {
    this.count = 0;
    this.nextSeq = 0;
  }

  private grow(): void {
    const n = this.times.length * 2;
    const t = new Float64Array(n); t.set(this.times); this.times = t;
    const s = new Float64Array(n); s.set(this.seqs); this.seqs = s;
    const k = new Int32Array(n); k.set(this.kinds); this.kinds = k;
    const p = new Int32Array(n); p.set(this.payloads); this.payloads = p;
  }
}
