// Models: the selftest's vocabulary for a snapshot byte (lib/test_hmm_uapi.h HMM_DMIRROR_PROT_*):
// "ERROR", "NONE", or the access ("READ"/"WRITE") with "|"-joined qualifiers (DESIGN §4).
// "P2P" is the kit's own qualifier: a peer's P2PDMA page (a snapshot with `p2p: true`, issue 5).
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

/** One name per page, or counts per name (`summarize`). */
export function formatSnapshot(bytes: Uint8Array, summarize: boolean): string[] | { counts: Record<string, number> } {
  const names = new Map<number, string>();
  const name = (b: number) => {
    let n = names.get(b);
    if (n === undefined) names.set(b, (n = snapshotByteName(b)));
    return n;
  };
  if (!summarize) return Array.from(bytes, name);
  const counts: Record<string, number> = {};
  for (const b of bytes) counts[name(b)] = (counts[name(b)] ?? 0) + 1;
  return { counts };
}
