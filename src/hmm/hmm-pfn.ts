// Models: the hmm_pfns entry of include/linux/hmm.h packed into 32 bits: output flags VALID,
// WRITE, ERROR, the map order (PMD or PUD leaf) and the frame; input request flags REQ_FAULT /
// REQ_WRITE share the VALID / WRITE bits as in the kernel. Decode helpers read entries back.
// Input flag HMM_PFN_ALLOW_P2P (the unmerged P2P series, hmm-semantics.md §6) is bit 26.
// Leaves out: the sticky DMA_MAPPED / P2PDMA bits (v6.15).
import { FRAME_BITS } from "../memory/frames.js";
import { PMD_ORDER, PUD_ORDER } from "../memory/vma.js";

export const HMM_PFN_VALID = 1 << 31;
export const HMM_PFN_WRITE = 1 << 30;
export const HMM_PFN_ERROR = 1 << 29;
/** Map level field (bits 27-28): 1 = PMD leaf (order 9), 2 = PUD leaf (order 18). */
export const HMM_PFN_LEVEL_SHIFT = 27;
export const HMM_PFN_LEVEL_MASK = 3 << HMM_PFN_LEVEL_SHIFT;
export const HMM_PFN_PFN_MASK = (1 << FRAME_BITS) - 1;
/** Input: fault the page in if not valid (same bit as VALID). */
export const HMM_PFN_REQ_FAULT = HMM_PFN_VALID;
/** Input: fault it writable (same bit as WRITE); ignored without REQ_FAULT. */
export const HMM_PFN_REQ_WRITE = HMM_PFN_WRITE;
/**
 * Input: a device-private page of another owner may be reported as the owner's P2PDMA page
 * (pgmap get_dma_pfn_for_device) instead of faulting; hmm-semantics.md §6. Bit 26 sits above
 * the 26-bit frame field, so it never appears in an output entry.
 */
export const HMM_PFN_ALLOW_P2P = 1 << 26;

export function hmmPfnToFrame(entry: number): number {
  return entry & HMM_PFN_PFN_MASK;
}

export function hmmPfnValid(entry: number): boolean {
  return (entry & HMM_PFN_VALID) !== 0;
}

export function hmmPfnWrite(entry: number): boolean {
  return (entry & HMM_PFN_WRITE) !== 0;
}

export function hmmPfnError(entry: number): boolean {
  return (entry & HMM_PFN_ERROR) !== 0;
}

/** hmm_pfn_to_map_order: 0 for a PTE, 9 for a PMD leaf, 18 for a PUD leaf. */
export function hmmPfnToMapOrder(entry: number): number {
  const level = (entry & HMM_PFN_LEVEL_MASK) >>> HMM_PFN_LEVEL_SHIFT;
  return level === 1 ? PMD_ORDER : level === 2 ? PUD_ORDER : 0;
}

/** Level bits for a huge block of `order` (0 when not huge). */
export function levelBits(order: number): number {
  return order === PMD_ORDER ? 1 << HMM_PFN_LEVEL_SHIFT : order === PUD_ORDER ? 2 << HMM_PFN_LEVEL_SHIFT : 0;
}
