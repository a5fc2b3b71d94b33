// Models: the UVMSmart simulator's (gpgpu-sim_UVMSmart, ISCA 2019 artifact; costs.md §3.1) transfer
// curve speed = (2a/pi) atan(b x KB) GiB/s, halved at >= 2 MB, and its far-fault latency in cycles,
// for a UVMSmart-compatible mode that reproduces that simulator's numbers.
// Leaves out: its PCIe queueing and prefetcher; this is the published formula only.
import { InputError } from "../units/input-error.js";
import { param, type Calibration } from "./calibration.js";

/** Transfer time of one migration of `bytes` in UVMSmart's model, ns. */
export function uvmSmartTransferNs(cal: Calibration, bytes: number): number {
  if (!(bytes > 0)) throw new InputError("bytes", bytes, "must be > 0");
  let gib = ((2 * param(cal, "uvmsSpeedA")) / Math.PI) * Math.atan(param(cal, "uvmsSpeedB") * (bytes / 1024));
  if (bytes >= param(cal, "uvmsHalveBytes")) gib /= 2;
  return (bytes / (gib * 2 ** 30)) * 1e9;
}

/** UVMSmart far-fault latency: page_fault_latency cycles at the core clock, ns. */
export function uvmSmartFaultNs(cal: Calibration): number {
  return (param(cal, "uvmsFaultCycles") / param(cal, "uvmsClockMHz")) * 1000;
}
