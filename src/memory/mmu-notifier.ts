// Models: the mm side of MMU notifiers (include/linux/mmu_notifier.h): the event kinds and the
// hook through which every page-table change announces its range before it happens
// (mmu_notifier_invalidate_range_start). The subscriber tree lives in hmm/interval-notifier.ts.
// Leaves out: the range_end phase (interval notifiers have none) and non-blockable ranges.

/** enum mmu_notifier_event. */
export const MMU_NOTIFY_UNMAP = 0;
export const MMU_NOTIFY_CLEAR = 1;
export const MMU_NOTIFY_PROTECTION_VMA = 2;
export const MMU_NOTIFY_PROTECTION_PAGE = 3;
export const MMU_NOTIFY_SOFT_DIRTY = 4;
export const MMU_NOTIFY_RELEASE = 5;
export const MMU_NOTIFY_MIGRATE = 6;
export const MMU_NOTIFY_EXCLUSIVE = 7;

/** struct mmu_notifier_range: pages [start, end) as virtual page numbers. */
/** struct mmu_notifier_range: virtual pages [start, end) (may reach past a notifier's interval:
 *  clip to yours), the MMU_NOTIFY_* event and its owner. */
export interface NotifierRange {
  start: number;
  end: number;
  event: number;
  /** range->owner: set for MIGRATE (pgmap_owner) and EXCLUSIVE (caller's owner, NULL on CPU restore). */
  owner: unknown;
}

export interface NotifierHook {
  invalidateRangeStart(range: NotifierRange): void;
}
