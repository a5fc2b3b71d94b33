// Models: the BARs an importer gives a device whose dump does not list them (hwloc never does;
// lspci only in -vvv blocks): typical sizes per device role, addresses left for the fabric to assign.
// Leaves out: exact per-model BAR layouts (a GPU's BAR3, a NIC's MSI-X BAR, SR-IOV VF BARs).
import { MiB, KiB } from "../../units/size.js";

export interface DefaultBar {
  index: number;
  size: number;
  is64: boolean;
  prefetchable: boolean;
}

/** Size of a GPU's BAR1 when its memory is unknown (the legacy 256 MiB aperture). */
export const DEFAULT_GPU_APERTURE = 256 * MiB;

/** One-line statement of the defaults, for a topology's `description`. */
export const DEFAULT_BARS_NOTE =
  "BARs not in the dump use default sizes per role: GPU 16 MiB 32-bit BAR0 + 64-bit prefetchable BAR1 " +
  "sized to its memory (next power of two) or 256 MiB when unknown; NIC 32 MiB 64-bit prefetchable BAR0; " +
  "NVMe 16 KiB 64-bit BAR0; other devices none. Their addresses are left for the fabric to assign.";

/** Coarse device role from class code and vendor (what the default BAR sizes key on). */
export function roleOfClass(classCode: string | undefined, vendor: string | undefined): "gpu" | "nic" | "nvme" | undefined {
  if (!classCode) return undefined;
  const base = classCode.slice(0, 2);
  if (base === "03" && (vendor === "10de" || vendor === "1002")) return "gpu";
  if (classCode === "0200" || classCode === "0207" || classCode === "0280") return "nic";
  if (classCode === "0108") return "nvme";
  return undefined;
}

/** Default BARs for a device of `role`; `memory` (bytes) sizes a GPU's BAR1 when known. */
export function defaultBars(role: "gpu" | "nic" | "nvme" | undefined, memory?: number): DefaultBar[] {
  if (role === "gpu") {
    const aperture = memory && memory > 0 ? 2 ** Math.ceil(Math.log2(memory)) : DEFAULT_GPU_APERTURE;
    return [
      { index: 0, size: 16 * MiB, is64: false, prefetchable: false },
      { index: 1, size: aperture, is64: true, prefetchable: true },
    ];
  }
  if (role === "nic") return [{ index: 0, size: 32 * MiB, is64: true, prefetchable: true }];
  if (role === "nvme") return [{ index: 0, size: 16 * KiB, is64: true, prefetchable: false }];
  return [];
}
