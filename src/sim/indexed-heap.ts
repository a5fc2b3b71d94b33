// Models: a min-heap of small integer ids ordered by a key array the caller owns (ties by id, so the
// order is deterministic), with each id's position kept so a changed key moves its id in place: no
// stale entries, no allocation after construction. Used for the transfers waiting to start, the
// classes' next finish times (simulate.ts) and the saturation levels of a fair-share fill.
// Leaves out: ids outside 0..capacity-1 and duplicate ids (an id is in the heap at most once).

export class IndexedHeap {
  private readonly heap: Int32Array;
  private readonly pos: Int32Array;
  size = 0;

  /** `keys[id]` orders id; call `update(id)` after changing it. */
  constructor(readonly keys: Float64Array) {
    this.heap = new Int32Array(keys.length);
    this.pos = new Int32Array(keys.length).fill(-1);
  }

  /** The id with the lowest key, or -1 when empty. */
  top(): number {
    return this.size > 0 ? this.heap[0] : -1;
  }

  /** The lowest key (Infinity when empty). */
  topKey(): number {
    return this.size > 0 ? this.keys[this.heap[0]] : Infinity;
  }

  has(id: number): boolean {
    return this.pos[id] >= 0;
  }

  /** Puts id in place for its current key: inserts it, moves it, or removes it when the key is Infinity. */
  update(id: number): void {
    const i = this.pos[id];
    if (this.keys[id] === Infinity) {
      if (i >= 0) this.removeAt(i);
    } else if (i < 0) {
      this.heap[this.size] = id;
      this.pos[id] = this.size;
      this.up(this.size++);
    } else {
      this.up(i);
      this.down(this.pos[id]);
    }
  }

  /** Removes and returns the id with the lowest key. */
  pop(): number {
    const id = this.heap[0];
    this.removeAt(0);
    return id;
  }

  clear(): void {
    for (let i = 0; i < this.size; i++) this.pos[this.heap[i]] = -1;
    this.size = 0;
  }

  private removeAt(i: number): void {
    const id = this.heap[i];
    const last = this.heap[--this.size];
    this.pos[id] = -1;
    if (last === id) return;
    this.heap[i] = last;
    this.pos[last] = i;
    this.up(i);
    this.down(this.pos[last]);
  }

  private up(i: number): void {
    const h = this.heap, keys = this.keys, pos = this.pos, id = h[i], k = keys[id];
    while (i > 0) {
      const p = (i - 1) >> 1, hp = h[p], kp = keys[hp];
      if (kp < k || (kp === k && hp < id)) break;
      h[i] = hp;
      pos[hp] = i;
      i = p;
    }
    h[i] = id;
    pos[id] = i;
  }

  private down(i: number): void {
    const h = this.heap, keys = this.keys, pos = this.pos, id = h[i], k = keys[id], n = this.size;
    for (;;) {
      let m = 2 * i + 1;
      if (m >= n) break;
      let hm = h[m], km = keys[hm];
      if (m + 1 < n) {
        const hr = h[m + 1], kr = keys[hr];
        if (kr < km || (kr === km && hr < hm)) {
          m++;
          hm = hr;
          km = kr;
        }
      }
      if (k < km || (k === km && id < hm)) break;
      h[i] = hm;
      pos[hm] = i;
      i = m;
    }
    h[i] = id;
    pos[id] = i;
  }
}
