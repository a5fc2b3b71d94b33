// Models: the memory layer's public API: frames and page maps, address spaces, faults, fork,
// exclusive entries, CPU access, errno values and counters.
export * from "./errno.js";
export * from "./pagemap.js";
export * from "./frames.js";
export * from "./memory.js";
export * from "./vma.js";
export * from "./page-table.js";
export * from "./mmu-notifier.js";
export * from "./address-space.js";
export * from "./fault.js";
export * from "./fork.js";
export * from "./exclusive.js";
export * from "./cpu-access.js";
export * from "./counters.js";
