// Models: MMU interval notifiers (mm/mmu_notifier.c): subscriptions on a range of an mm, the
// mm-wide invalidate sequence (odd while an invalidation runs), and the reader protocol
// read_begin / read_retry / set_seq that lets a driver detect any invalidation that overlapped
// its page-table snapshot. Callbacks run synchronously in the order subscriptions were inserted.
// Leaves out: concurrency (read_begin never sleeps: nothing runs between steps), deferred inserts.
import type { Mm } from "../memory/address-space.js";
import { EINVAL, EOVERFLOW } from "../memory/errno.js";
import type { NotifierHook, NotifierRange } from "../memory/mmu-notifier.js";

export interface IntervalNotifierOps {
  /** ops->invalidate: must drop device mappings of the range and call setSeq(sub, curSeq). */
  invalidate(sub: IntervalNotifier, range: NotifierRange, curSeq: number): boolean;
}

export class IntervalNotifier {
  /** Subscription sequence (mmu_interval_notifier.invalidate_seq). */
  seq = 0;
  removed = false;
  constructor(readonly mm: Mm, readonly start: number, readonly end: number, readonly ops: IntervalNotifierOps) {}
}

/** The per-mm subscription tree (struct mmu_notifier_subscriptions). */
export class NotifierTree implements NotifierHook {
  /** Even when idle, odd while an invalidation runs. */
  invalidateSeq = 2;
  readonly subs: IntervalNotifier[] = [];
  constructor(readonly mm: Mm) {}

  /** mn_itree_invalidate: every intersecting subscription is called, before any PTE changes. */
  invalidateRangeStart(range: NotifierRange): void {
    let callbacks = 0;
    // The subscriptions at the start, whatever the callbacks insert or remove: a copy, unless
    // there is only one (nothing a callback does then changes which one is called).
    const subs = this.subs.length > 1 ? this.subs.slice() : this.subs;
    const n = subs.length;
    for (let i = 0; i < n; i++) {
      const sub = subs[i];
      if (sub.removed || sub.end <= range.start || sub.start >= range.end) continue;
      if (callbacks++ === 0) this.invalidateSeq |= 1;
      sub.ops.invalidate(sub, range, this.invalidateSeq);
    }
    if (callbacks > 0) {
      this.invalidateSeq++; // mn_itree_inv_end
      this.mm.mem.events.invalidate(this.mm, range, callbacks);
    }
  }
}

/** mmu_interval_notifier_insert(sub, mm, start, length, ops), pages. Returns the subscription or -errno. */
export function intervalNotifierInsert(mm: Mm, start: number, length: number, ops: IntervalNotifierOps): IntervalNotifier | number {
  if (!mm.live) return -EINVAL;
  if (!(length > 0) || !Number.isSafeInteger(start + length)) return -EOVERFLOW;
  let tree = mm.notifier as NotifierTree | null;
  if (tree === null) {
    tree = new NotifierTree(mm);
    mm.notifier = tree;
  }
  const sub = new IntervalNotifier(mm, start, start + length, ops);
  sub.seq = tree.invalidateSeq - 1; // idle: odd and different from any future cur_seq
  tree.subs.push(sub);
  return sub;
}

/** mmu_interval_notifier_remove. */
export function intervalNotifierRemove(sub: IntervalNotifier): void {
  const tree = sub.mm.notifier as NotifierTree | null;
  sub.removed = true;
  if (!tree) return;
  const i = tree.subs.indexOf(sub);
  if (i >= 0) tree.subs.splice(i, 1);
}

/** mmu_interval_read_begin. */
export function readBegin(sub: IntervalNotifier): number {
  return sub.seq;
}

/** mmu_interval_read_retry: true when an invalidation ran since `seq` was read. */
export function readRetry(sub: IntervalNotifier, seq: number): boolean {
  return sub.seq !== seq;
}

/** mmu_interval_check_retry (the lockless early-out hmm_range_fault uses). */
export const checkRetry = readRetry;

/** mmu_interval_set_seq: called by the invalidate callback under the driver lock. */
export function setSeq(sub: IntervalNotifier, curSeq: number): void {
  sub.seq = curSeq;
}
