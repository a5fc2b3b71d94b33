// Models: the selftest's vocabulary for a snapshot byte (lib/test_hmm_uapi.h HMM_DMIRROR_PROT_*):
// "ERROR", "NONE", or the access ("READ"/"WRITE") with "|"-joined qualifiers (DESIGN §4).
// "P2P" is the kit's own qualifier: a peer's P2PDMA page (a snapshot with `p2p: true`).
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

/** Pages per name, in order of first byte value: a count per byte value, then 256 names at most. */
export function snapshotCounts(bytes: Uint8Array): Record<string, number> {
  const perByte = new Float64Array(256);
  for (let i = 0; i < bytes.length; i++) perByte[bytes[i]]++;
  const counts: Record<string, number> = {};
  const order: number[] = [];
  for (let b = 0; b < 256; b++) if (perByte[b] > 0) order.push(b);
  // Names in the order their first page appears, as a per-page pass would list them.
  order.sort((a, b) => bytes.indexOf(a) - bytes.indexOf(b));
  for (const b of order) counts[snapshotByteName(b)] = (counts[snapshotByteName(b)] ?? 0) + perByte[b];
  return counts;
}
