// Models: PCIe bandwidth per direction from generation, width, MPS and MRRS, after the pcie-bench
// pcie-model formulas (reference/costs.md §1.1, §1.5, §1.6): line encoding, ACK / FC-update DLLPs and
// SKP ordered sets, then per-TLP header overhead for posted writes (MWr) and read completions (CplD).
// Leaves out: ECRC, 32-bit addressing, link retraining and replays; Gen6 uses the flit layout (§1.6).
import { InputError } from "../units/input-error.js";

export type PcieGen = 1 | 2 | 3 | 4 | 5 | 6;
export type PcieWidth = 1 | 2 | 4 | 8 | 12 | 16 | 32;

/** GT/s per lane (PCIe base spec rates; costs.md §1.1). */
const GTS: Record<PcieGen, number> = { 1: 2.5, 2: 5, 3: 8, 4: 16, 5: 32, 6: 64 };

/** Recommended ACK and UpdateFC DLLP intervals in bytes (PCIe Base r5.0 Tables 2-46..48, 3-7..9, as
 *  copied in pcie-model/model/pcie.py), by width then MPS 128..4096. Gen3 onwards share one table. */
const MPS_LIST = [128, 256, 512, 1024, 2048, 4096];
type Row = readonly number[];
const ACK_FC_GEN1: Record<number, Row> = {
  1: [237, 416, 559, 1071, 2095, 4143], 2: [128, 217, 289, 545, 1057, 2081], 4: [73, 118, 154, 282, 538, 1050],
  8: [67, 107, 86, 150, 278, 534], 16: [48, 72, 86, 150, 278, 534], 32: [33, 45, 52, 84, 248, 276],
};
const ACK_FC_GEN2: Record<number, Row> = {
  1: [288, 467, 610, 1122, 2146, 4194], 2: [179, 268, 340, 596, 1108, 2132], 4: [124, 169, 205, 333, 589, 1101],
  8: [118, 158, 137, 201, 329, 585], 16: [99, 123, 137, 201, 329, 585], 32: [84, 96, 103, 135, 199, 327],
};
const ACK_FC_GEN3: Record<number, Row> = {
  1: [333, 512, 655, 1167, 2191, 4239], 2: [224, 313, 385, 641, 1153, 2177], 4: [169, 214, 250, 378, 634, 1146],
  8: [163, 203, 182, 246, 374, 630], 16: [144, 168, 182, 246, 374, 630], 32: [129, 141, 148, 180, 244, 372],
};
/** ACK and FC-update DLLP size on the wire: 2 B framing + 4 B DLLP + 2 B CRC. */
const DLLP_BYTES = 8;
const SKP_LEN = 4;
const SKP_INTERVAL = 1538;
/** Per-TLP bytes besides payload (64-bit address, no ECRC): 8 B framing/seq/LCRC + 4 B header + 12 B (MWr, MRd)
 *  or + 8 B (CplD). pcie-model TLP_MWr_Hdr_Szs[64][0] = 24, TLP_MRd = 24, TLP_CplD = 20. */
export const MWR_OVERHEAD = 24;
export const MRD_BYTES = 24;
export const CPLD_OVERHEAD = 20;
/** Gen6 flit (costs.md §1.6): 256 B flit carries 236 B of TLP bytes (6 B DLP, 8 B CRC, 6 B FEC). */
const FLIT_TLP_FRACTION = 236 / 256;

export interface PcieLinkConfig {
  gen: PcieGen;
  width: PcieWidth;
  /** Max payload size, bytes (128..4096). */
  mps: number;
  /** Max read request size, bytes (128..4096). */
  mrrs: number;
  /** Gen6 flit-mode TLP header bytes (ESTIMATE, costs.md §1.6: 12-20 B). */
  flitHeaderBytes?: number;
}

export function checkPcieConfig(c: PcieLinkConfig, field = "link"): void {
  if (!(c.gen in GTS)) throw new InputError(`${field}.gen`, c.gen, "PCIe generation must be 1..6");
  if (![1, 2, 4, 8, 12, 16, 32].includes(c.width)) throw new InputError(`${field}.width`, c.width, "PCIe width must be 1, 2, 4, 8, 12, 16 or 32");
  if (!MPS_LIST.includes(c.mps)) throw new InputError(`${field}.mps`, c.mps, "MPS must be 128, 256, 512, 1024, 2048 or 4096");
  if (!MPS_LIST.includes(c.mrrs)) throw new InputError(`${field}.mrrs`, c.mrrs, "MRRS must be 128, 256, 512, 1024, 2048 or 4096");
}

/** Raw data rate per direction after line encoding, GB/s (8b/10b Gen1-2, 128b/130b Gen3-5, 1b/1b flit Gen6). */
export function rawGBps(gen: PcieGen, width: PcieWidth): number {
  const enc = gen <= 2 ? 8 / 10 : gen <= 5 ? 128 / 130 : 1;
  return (GTS[gen] * enc * width) / 8;
}

function ackFcRow(gen: PcieGen, width: PcieWidth): Row {
  const table = gen === 1 ? ACK_FC_GEN1 : gen === 2 ? ACK_FC_GEN2 : ACK_FC_GEN3;
  // Simplification: x12 is not in pcie-model's tables; it uses the x8 row (the more conservative one).
  return table[width === 12 ? 8 : width];
}

/** Bandwidth left for TLPs per direction after ACK/FC DLLPs and SKP sets (pcie-model TLP_bw), GB/s.
 *  Gen6 flit mode carries DLLPs inside each flit: TLP capacity = raw x 236/256 (costs.md §1.6). */
export function tlpGBps(gen: PcieGen, width: PcieWidth, mps: number): number {
  const raw = rawGBps(gen, width);
  if (gen === 6) return raw * FLIT_TLP_FRACTION;
  const interval = ackFcRow(gen, width)[MPS_LIST.indexOf(mps)];
  const overhead = DLLP_BYTES / interval + DLLP_BYTES / interval + SKP_LEN / SKP_INTERVAL;
  return raw * (1 - overhead);
}

function headerBytes(c: PcieLinkConfig, nonFlit: number): number {
  return c.gen === 6 ? (c.flitHeaderBytes ?? 16) : nonFlit;
}

/** Wire bytes a posted write of `bytes` puts on the link (MWr TLPs of at most MPS payload). */
export function writeWireBytes(c: PcieLinkConfig, bytes: number): number {
  return bytes + Math.ceil(bytes / c.mps) * headerBytes(c, MWR_OVERHEAD);
}

/** Largest completion: a CplD carries at most MPS and never more than the request it answers. */
export function completionChunk(c: PcieLinkConfig): number {
  return Math.min(c.mps, c.mrrs);
}

/** Wire bytes of the completions (CplD of at most `chunk` payload, e.g. RCB) returning `bytes` of read data. */
export function completionWireBytes(c: PcieLinkConfig, bytes: number, chunk = completionChunk(c)): number {
  return bytes + Math.ceil(bytes / Math.min(chunk, completionChunk(c))) * headerBytes(c, CPLD_OVERHEAD);
}

/** Wire bytes of the read requests (one MRd per MRRS chunk) for `bytes` of read data. */
export function requestWireBytes(c: PcieLinkConfig, bytes: number): number {
  return Math.ceil(bytes / c.mrrs) * headerBytes(c, MRD_BYTES);
}

/** Effective posted-write payload rate per direction, GB/s (pcie-model mem_bw.write; costs.md T1/T2). */
export function writeGBps(c: PcieLinkConfig, bytes = 1 << 20): number {
  checkPcieConfig(c);
  return (tlpGBps(c.gen, c.width, c.mps) * bytes) / writeWireBytes(c, bytes);
}

/** Effective read payload rate, GB/s, limited by completions on the data direction and requests on the
 *  other (pcie-model mem_bw.read with the same TLP bandwidth in both directions). */
export function readGBps(c: PcieLinkConfig, bytes = 1 << 20, chunk = completionChunk(c)): number {
  checkPcieConfig(c);
  const tlp = tlpGBps(c.gen, c.width, c.mps);
  const byCompletions = (tlp * bytes) / completionWireBytes(c, bytes, chunk);
  const byRequests = (tlp * bytes) / requestWireBytes(c, bytes);
  return Math.min(byCompletions, byRequests);
}

/** Serialisation time of `wireBytes` on the link at its TLP rate, ns. */
export function serialiseNs(c: PcieLinkConfig, wireBytes: number): number {
  return wireBytes / tlpGBps(c.gen, c.width, c.mps);
}
