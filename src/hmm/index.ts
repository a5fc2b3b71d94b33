// Models: the HMM layer's public API: interval notifiers, snapshot / range fault, migrate_vma.
export * from "./hmm-pfn.js";
export * from "./interval-notifier.js";
export * from "./range-fault.js";
export * from "./migrate.js";
