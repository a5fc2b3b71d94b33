// Models: what the cost model needs to know of a device, from its role and ids: the largest payload
// its PCIe function supports (DevCap MaxPayload), how many reads it keeps in flight (tags), what a
// transfer costs it to start (a CUDA copy launch, an RDMA work request, a device command) and, for a
// NIC, the network port its DMA cannot outrun (a topology's `portGbps`, else the device id).
// Leaves out: per-model GPU copy-engine rates (no published per-engine figure: GPU engines are not a
// limit of their own), NVMe media rates (an NVMe drive is bounded by its link here).
import type { PciFunction } from "../fabric/types.js";
import { param, type Calibration } from "./calibration.js";

export type DeviceClass = "gpu" | "nic" | "endpoint";

export function deviceClassOf(f: PciFunction): DeviceClass {
  if (f.role === "gpu") return "gpu";
  if (f.role === "nic") return "nic";
  return "endpoint";
}

/** Port line rates by device id, Gb/s: the vendors' product briefs (MEMORY: not re-read here). */
const NIC_PORT_GBPS: Record<string, number> = {
  "15b3:1003": 56, "15b3:1007": 56, // ConnectX-3 / -3 Pro, FDR InfiniBand
  "15b3:1013": 100, "15b3:1015": 50, "15b3:1017": 100, "15b3:1019": 100, // ConnectX-4, -4 Lx, -5, -5 Ex
  "15b3:101b": 200, "15b3:101d": 200, "15b3:101f": 50, // ConnectX-6, -6 Dx, -6 Lx
  "15b3:1021": 400, "15b3:1023": 800, // ConnectX-7, ConnectX-8
  "15b3:a2d6": 200, "15b3:a2dc": 400, // BlueField-2, BlueField-3
  "8086:1592": 100, "8086:1593": 100, // Intel E810
};

/** Largest TLP payload the function supports (DevCap MaxPayload); switch and root ports pass any size. */
export function mpsCap(cal: Calibration, f: PciFunction): number {
  if (f.kind === "rootPort") return param(cal, "rootPortMps");
  if (f.kind !== "endpoint") return 4096;
  const c = deviceClassOf(f);
  return param(cal, c === "gpu" ? "gpuMpsCap" : c === "nic" ? "nicMpsCap" : "endpointMpsCap");
}

/** Non-posted requests the device keeps in flight (10-bit, 8-bit extended or 5-bit tags, costs.md §1.5). */
export function readTags(cal: Calibration, f: PciFunction): number {
  const c = deviceClassOf(f);
  return param(cal, c === "gpu" ? "gpuReadTags" : c === "nic" ? "nicReadTags" : "endpointReadTags");
}

/** What starting one transfer costs the program before its first TLP: a CUDA copy launch (GPU), an
 *  RDMA work request's doorbell and descriptor fetch (NIC), a device command (other). */
export function launchNs(cal: Calibration, f: PciFunction): number {
  const c = deviceClassOf(f);
  return param(cal, c === "gpu" ? "copyLaunchNs" : c === "nic" ? "nicPostNs" : "deviceCommandNs");
}

/** A NIC's network payload rate, GB/s (line rate x wire efficiency), or undefined when unknown. */
export function portGBps(cal: Calibration, f: PciFunction): number | undefined {
  if (deviceClassOf(f) !== "nic") return undefined;
  const gbps = f.portGbps ?? NIC_PORT_GBPS[`${f.vendor}:${f.device}`];
  return gbps === undefined ? undefined : (gbps / 8) * param(cal, "nicWireEfficiency");
}
