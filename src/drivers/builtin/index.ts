// Models: the builtin P2P client drivers, written with the driver API only: the HMM-mirror design
// (ODP) and its four classic bugs, the pinning design and its short-term-pin bug, the dma-buf design; plus the peerMap
// `policy` names of earlier scenario files and the driver each stands for.
// Leaves out: drivers from module files (scenario/load.ts loads them).
import type { P2pDriver } from "../api.js";
import { DMABUF_DRIVER } from "./dmabuf.js";
import { ODP_DRIVERS } from "./odp.js";
import { PINNED_DRIVERS } from "./pinned.js";

export const BUILTIN_DRIVERS: ReadonlyMap<string, P2pDriver> = new Map(
  [...ODP_DRIVERS, ...PINNED_DRIVERS, DMABUF_DRIVER].map((d) => [d.name, d]),
);

/** The driver a device runs when the scenario names none. */
export const DEFAULT_DRIVER = "odp";

/** peerMap `policy` → the builtin driver it stands for. */
export const POLICY_DRIVERS: Readonly<Record<string, string>> = {
  correct: "odp",
  ignoreInvalidation: "odp-ignore-invalidation",
  noSeqRecheck: "odp-no-seq-recheck",
  lateIovaUnmap: "odp-late-iova-unmap",
};

/** Whether a scenario's driver name is a module path (a builtin name has no "/" and no .js/.ts extension). */
export function isDriverModulePath(name: string): boolean {
  return /[/\\]|\.[cm]?[jt]s$/.test(name);
}
