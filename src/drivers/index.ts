// Models: what someone writing a P2P client driver imports (from "p2pdma-lab"): the driver API and
// its kernel primitives (api.ts), the flags hmm_range_fault and the notifiers speak, the errno
// values, and the builtin drivers to start from (ODP with or without its bugs, pinned, dma-buf).
// Leaves out: the kit's implementation of the primitives (kernel.ts, timeline.ts).
export * from "./api.js";
export { BUILTIN_DRIVERS, DEFAULT_DRIVER } from "./builtin/index.js";
export { odpDriver, type OdpBugs } from "./builtin/odp.js";
export { PINNED_DRIVER, pinnedDriver, type PinnedBugs } from "./builtin/pinned.js";
export { DMABUF_DRIVER } from "./builtin/dmabuf.js";
export {
  HMM_PFN_ALLOW_P2P, HMM_PFN_ERROR, HMM_PFN_PFN_MASK, HMM_PFN_REQ_FAULT, HMM_PFN_REQ_WRITE, HMM_PFN_VALID, HMM_PFN_WRITE,
} from "../hmm/hmm-pfn.js";
export type { HmmRange } from "../hmm/range-fault.js";
export type { IntervalNotifier } from "../hmm/interval-notifier.js";
export type { Mm } from "../memory/address-space.js";
export {
  MMU_NOTIFY_CLEAR, MMU_NOTIFY_EXCLUSIVE, MMU_NOTIFY_MIGRATE, MMU_NOTIFY_PROTECTION_PAGE, MMU_NOTIFY_PROTECTION_VMA, MMU_NOTIFY_RELEASE,
  MMU_NOTIFY_SOFT_DIRTY, MMU_NOTIFY_UNMAP, type NotifierRange,
} from "../memory/mmu-notifier.js";
export { EBUSY, EFAULT, EINVAL, ENOENT, ENOMEM, ENOSPC, EPERM } from "../memory/errno.js";
