// Models: the selftest's vocabulary for a snapshot byte (lib/test_hmm_uapi.h HMM_DMIRROR_PROT_*):
// "ERROR", "NONE", or the access ("READ"/"WRITE") with "|"-joined qualifiers (DESIGN §4).
// "P2P" is the kit's own qualifier: a peer's P2PDMA page (a snapshot with `p2p: true`). Summaries
// count pages per name without keeping a byte per page.
import {
  PROT_DEV_COHERENT_LOCAL, PROT_DEV_COHERENT_REMOTE, PROT_DEV_PRIVATE_LOCAL, PROT_DEV_PRIVATE_REMOTE,
  PROT_ERROR, PROT_NONE, PROT_P2P, PROT_PMD, PROT_PUD, PROT_WRITE_BYTE, PROT_ZERO,
} from "../devices/dmirror.js";

const BASES: Record<number, string> = {
  [PROT_ZERO]: "ZERO",
  [PROT_DEV_PRIVATE_LOCAL]: "DEV_PRIVATE_LOCAL",
  [PROT_DEV_PRIVATE_REMOTE]: "DEV_PRIVATE_REMOTE",
  [PROT_DEV_COHERENT_LOCAL]: "DEV_COHERENT_LOCAL",
  [PROT_DEV_COHERENT_REMOTE]: "DEV_COHERENT_REMOTE",
  [PROT_P2P]: "P2P",
};

/** "WRITE|PMD|DEV_PRIVATE_LOCAL" for 0x26. */
export function snapshotByteName(b: number): string {
  if (b === PROT_ERROR) return "ERROR";
  if (b === PROT_NONE) return "NONE";
  let s = b & PROT_WRITE_BYTE ? "WRITE" : "READ";
  if (b & PROT_PMD) s += "|PMD";
  if (b & PROT_PUD) s += "|PUD";
  const base = BASES[b & 0xf0];
  if (base) s += `|${base}`;
  return s;
}

/** One name per page (each byte value named once). */
export function snapshotEntries(bytes: Uint8Array): string[] {
  const names: string[] = [];
  const out = new Array<string>(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = names[bytes[i]] ??= snapshotByteName(bytes[i]);
  return out;
}

/** Counts snapshot bytes chunk by chunk (a summarized snapshot keeps no byte per page). */
export class SnapshotTally {
  private readonly perByte = new Float64Array(256);
  /** Page index of each byte value's first page (Infinity while unseen). */
  private readonly first = new Float64Array(256).fill(Infinity);

  /** Bytes of pages [offset, offset + bytes.length) of the range. */
  add(bytes: Uint8Array, offset: number): void {
    const perByte = this.perByte;
    const n = bytes.length;
    // Counted run by run: neighbouring pages mostly have the same byte.
    for (let i = 0; i < n; ) {
      const b = bytes[i];
      let j = i + 1;
      while (j < n && bytes[j] === b) j++;
      if (perByte[b] === 0) this.first[b] = offset + i;
      perByte[b] += j - i;
      i = j;
    }
  }

  /** Pages per name, names in the order their first page appears, as a per-page pass would list them. */
  counts(): Record<string, number> {
    const order: number[] = [];
    for (let b = 0; b < 256; b++) if (this.perByte[b] > 0) order.push(b);
    order.sort((a, b) => this.first[a] - this.first[b]);
    const counts: Record<string, number> = {};
    for (const b of order) counts[snapshotByteName(b)] = (counts[snapshotByteName(b)] ?? 0) + this.perByte[b];
    return counts;
  }
}
