// Models: hwloc's PCIe link bandwidth (`pci_link_speed`, GB/s per direction: lanes × GT/s ×
// encoding efficiency / 8, hwloc pci-common.c) turned back into a PCIe generation and width.
// Leaves out: telling apart configurations with equal bandwidth (gen3 x16 = gen4 x8): the widest wins.
import type { LinkWidth } from "./pci-names.js";

/** GB/s per lane and direction: 8b/10b for gen 1-2, 128b/130b for gen 3-5, FLIT 242/256 for gen 6. */
export const LANE_GBPS: Readonly<Record<number, number>> = {
  1: (2.5 * 8) / 10 / 8,
  2: (5 * 8) / 10 / 8,
  3: (8 * 128) / 130 / 8,
  4: (16 * 128) / 130 / 8,
  5: (32 * 128) / 130 / 8,
  6: (64 * 242) / 256 / 8,
};

const WIDTHS: LinkWidth[] = [16, 8, 4, 2, 1];

/** The widest (then slowest-generation) link whose bandwidth is within 1% of `gbps`; undefined if none. */
export function linkFromHwlocSpeed(gbps: number): { gen: number; width: LinkWidth } | undefined {
  if (!Number.isFinite(gbps) || gbps <= 0) return undefined;
  for (const width of WIDTHS) {
    for (let gen = 1; gen <= 6; gen++) {
      if (Math.abs(LANE_GBPS[gen] * width - gbps) <= gbps * 0.01) return { gen, width };
    }
  }
  return undefined;
}
