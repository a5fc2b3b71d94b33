// Models: a CPU page-table entry packed in 32 bits: the frame, a write bit, and the entry kind
// (none, present, device-private swap entry, device-exclusive entry, migration entry), as
// arch PTEs and swap entries (include/linux/swapops.h) distinguish them.
// Leaves out: dirty/young/soft-dirty bits, real swap entries, NUMA protnone and PTE markers.
import { FRAME_BITS } from "./frames.js";

export const PTE_PFN_MASK = (1 << FRAME_BITS) - 1;
export const PTE_WRITE = 1 << 27;
export const PTE_KIND_SHIFT = 28;

export const KIND_NONE = 0;
export const KIND_PRESENT = 1;
/** make_writable/readable_device_private_entry (swapops.h). */
export const KIND_DEVICE_PRIVATE = 2;
/** make_device_exclusive entry (swapops.h, mm/rmap.c). */
export const KIND_DEVICE_EXCLUSIVE = 3;
/** make_writable/readable_migration_entry, installed by migrate_vma_setup. */
export const KIND_MIGRATION = 4;

export function makePte(kind: number, frame: number, write: boolean): number {
  return ((kind << PTE_KIND_SHIFT) | (write ? PTE_WRITE : 0) | frame) >>> 0;
}

export function pteKind(pte: number): number {
  return pte >>> PTE_KIND_SHIFT;
}

export function pteFrame(pte: number): number {
  return pte & PTE_PFN_MASK;
}

export function pteWritable(pte: number): boolean {
  return (pte & PTE_WRITE) !== 0;
}
