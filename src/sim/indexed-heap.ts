// Models: a min-heap of small integer ids ordered by a key array the caller owns (ties by id, so the
// order is deterministic), with each id's position kept so a changed key moves its id in place: no
// stale entries, no allocation after construction. Used for the classes' next finish times
// (simulate.ts) and the saturation levels of a fair-share fill. And plain min-heaps of (key, id)
// pairs, same order, for ids queued once and never moved: PairHeap (the transfers waiting to start)
// and pairPush/pairPop over a slice of shared arrays (each class's flows, share-state.ts).
// Leaves out: ids outside 0..capacity-1 and duplicate ids (an id is in a heap at most once).

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

  /** Puts id in place for its current key: inserts it, moves it, or removes it when the key is Infinity. */
  update(id: number): void {
    const i = this.pos[id];
    if (this.keys[id] === Infinity) {
      if (i >= 0) this.removeAt(i);
    } else if (i < 0) {
      this.heap[this.size] = id;
      this.pos[id] = this.size;
      this.up(this.size++);
    } else if (i > 0 && this.before(id, this.heap[(i - 1) >> 1])) this.up(i);
    else this.down(i);
  }

  /** Whether id a comes before id b (lower key, then lower id). */
  private before(a: number, b: number): boolean {
    const ka = this.keys[a], kb = this.keys[b];
    return ka < kb || (ka === kb && a < b);
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
    if (i > 0 && this.before(last, this.heap[(i - 1) >> 1])) this.up(i);
    else this.down(i);
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

/** Pushes (key, id) onto the pair heap held at keys/ids[base .. base + size) (room for one more);
 *  lowest key first, ties by lower id. */
export function pairPush(keys: Float64Array, ids: Int32Array, base: number, size: number, id: number, key: number): void {
  let i = size;
  while (i > 0) {
    const p = base + ((i - 1) >> 1), kp = keys[p];
    if (kp < key || (kp === key && ids[p] < id)) break;
    keys[base + i] = kp;
    ids[base + i] = ids[p];
    i = p - base;
  }
  keys[base + i] = key;
  ids[base + i] = id;
}

/** Removes the first pair of the pair heap at keys/ids[base .. base + size) (size > 0) and returns its id. */
export function pairPop(keys: Float64Array, ids: Int32Array, base: number, size: number): number {
  const top = ids[base], n = size - 1;
  const key = keys[base + n], id = ids[base + n];
  let i = 0;
  for (;;) {
    let m = 2 * i + 1;
    if (m >= n) break;
    const a = base + m;
    if (m + 1 < n && (keys[a + 1] < keys[a] || (keys[a + 1] === keys[a] && ids[a + 1] < ids[a]))) m++;
    const km = keys[base + m];
    if (key < km || (key === km && id < ids[base + m])) break;
    keys[base + i] = km;
    ids[base + i] = ids[base + m];
    i = m;
  }
  keys[base + i] = key;
  ids[base + i] = id;
  return top;
}

/** (key, id) pairs side by side in heap order (pairPush, pairPop), lowest key (then id) first; no
 *  positions, so an id is pushed once and leaves by pop. Grows by doubling. */
export class PairHeap {
  private keys: Float64Array;
  private ids: Int32Array;
  size = 0;

  constructor(capacity: number) {
    this.keys = new Float64Array(Math.max(16, capacity));
    this.ids = new Int32Array(this.keys.length);
  }

  /** The lowest key (Infinity when empty). */
  topKey(): number {
    return this.size > 0 ? this.keys[0] : Infinity;
  }

  push(id: number, key: number): void {
    if (this.size === this.keys.length) this.grow();
    pairPush(this.keys, this.ids, 0, this.size++, id, key);
  }

  /** Removes and returns the id with the lowest key. */
  pop(): number {
    return pairPop(this.keys, this.ids, 0, this.size--);
  }

  private grow(): void {
    const keys = new Float64Array(2 * this.keys.length), ids = new Int32Array(keys.length);
    keys.set(this.keys);
    ids.set(this.ids);
    this.keys = keys;
    this.ids = ids;
  }
}
