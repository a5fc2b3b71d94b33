// Models: the least-recently-used order of a BAR aperture's bound slots (bar-aperture.ts), as an
// intrusive doubly-linked list over typed arrays, oldest first: a use moves its slot to the tail,
// an unbind takes it out, and the victim is the head, each O(1). A slot a peer pinned is never the
// victim: one met at the head is parked off the list (so it is stepped over once per pin, not at
// every reclaim); a use puts it back at the tail, and when its pins fall to zero it goes back to its
// place by last use. Only slots that came back that way can be older than a parked slot, so that
// place is found by a walk over them alone, from the last one put back (one step when a buffer's
// slots are unpinned in order). Leaves out: nothing of the order: the victim is the slot a scan of
// every bound slot's last use would pick.

const OUT = 0;
const LISTED = 1;
const PARKED = 2;

export class SlotLru {
  private prev = new Int32Array(0);
  private next = new Int32Array(0);
  /** OUT (unbound), LISTED, or PARKED (pinned, off the list). */
  private state = new Uint8Array(0);
  /** Tick of each slot's last use. */
  private stamp = new Float64Array(0);
  private head = -1;
  private tail = -1;
  /** The slot last put back by `unpinned`, while it stays unused on the list (else -1). */
  private cursor = -1;
  private tick = 0;

  /** Room for `n` slots (keeps the order of the slots there are). */
  grow(n: number): void {
    const grown = <T extends Int32Array | Uint8Array | Float64Array>(a: T, b: T): T => (b.set(a), b);
    this.prev = grown(this.prev, new Int32Array(n));
    this.next = grown(this.next, new Int32Array(n));
    this.state = grown(this.state, new Uint8Array(n));
    this.stamp = grown(this.stamp, new Float64Array(n));
  }

  /** A use of bound slot `s`: it becomes the most recently used. */
  touch(s: number): void {
    if (this.state[s] === LISTED) this.unlink(s);
    if (s === this.cursor) this.cursor = -1;
    this.stamp[s] = ++this.tick;
    this.linkAfter(s, this.tail);
  }

  /** Slot `s` was unbound: it leaves the order. */
  drop(s: number): void {
    if (this.state[s] === LISTED) this.unlink(s);
    if (s === this.cursor) this.cursor = -1;
    this.state[s] = OUT;
  }

  /** The pins on slot `s` fell to zero: a parked slot goes back to its place by last use. */
  unpinned(s: number): void {
    if (this.state[s] !== PARKED) return;
    const t = this.stamp[s];
    let c = this.cursor >= 0 ? this.cursor : this.head;
    if (c < 0) this.linkAfter(s, -1);
    else if (this.stamp[c] < t) {
      while (this.next[c] >= 0 && this.stamp[this.next[c]] < t) c = this.next[c];
      this.linkAfter(s, c);
    } else {
      while (this.prev[c] >= 0 && this.stamp[this.prev[c]] > t) c = this.prev[c];
      this.linkAfter(s, this.prev[c]);
    }
    this.cursor = s;
  }

  /** The least recently used slot with no pins (`pins[s] === 0`), or -1; pinned slots met first are parked. */
  victim(pins: Int32Array): number {
    let s = this.head;
    while (s >= 0 && pins[s] !== 0) {
      const n = this.next[s];
      this.unlink(s);
      this.state[s] = PARKED;
      if (s === this.cursor) this.cursor = -1;
      s = n;
    }
    return s;
  }

  /** Puts `s` on the list after `p` (-1: at the head). */
  private linkAfter(s: number, p: number): void {
    const n = p < 0 ? this.head : this.next[p];
    this.prev[s] = p;
    this.next[s] = n;
    if (p < 0) this.head = s;
    else this.next[p] = s;
    if (n < 0) this.tail = s;
    else this.prev[n] = s;
    this.state[s] = LISTED;
  }

  private unlink(s: number): void {
    const p = this.prev[s];
    const n = this.next[s];
    if (p < 0) this.head = n;
    else this.next[p] = n;
    if (n < 0) this.tail = p;
    else this.prev[n] = p;
  }
}
