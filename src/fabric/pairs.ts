// Models: the device-pair matrix of `topo --json` (DESIGN §4): one pair per unordered pair of
// endpoint functions, with the nvidia-smi class and the Linux P2PDMA map type (first device as the
// provider) and distance (-1 when NOT_SUPPORTED, as pci_p2pdma_distance() returns).
// Leaves out bridges: bridge kinds and endpoints whose class code is a bridge class (06xx: host
// bridge functions, ISA/LPC bridges, NVSwitch management functions, which nvidia-smi does not list).
import { displayId } from "./build.js";
import { p2pdmaMapType, type P2pdmaMapType } from "./p2pdma.js";
import { topoClass, type TopoClass } from "./topo-class.js";
import type { Fabric, PciFunction } from "./types.js";

export interface DevicePair {
  a: string;
  b: string;
  class: TopoClass;
  mapType: P2pdmaMapType;
  distance: number;
}

export interface PairMatrix {
  devices: string[];
  pairs: DevicePair[];
}

/** Endpoint functions that take part in the pair matrix, in input order. */
export function matrixDevices(fabric: Fabric): PciFunction[] {
  return fabric.functions.filter((f) => f.kind === "endpoint" && !f.classCode?.startsWith("06") && f.role !== "hostFunction" && f.role !== "nvswitch");
}

export function pairMatrix(fabric: Fabric): PairMatrix {
  const devs = matrixDevices(fabric);
  const pairs: DevicePair[] = [];
  for (let i = 0; i < devs.length; i++) {
    for (let j = i + 1; j < devs.length; j++) {
      const a = devs[i], b = devs[j];
      const r = p2pdmaMapType(fabric, a.id, b.id);
      pairs.push({
        a: displayId(a), b: displayId(b), class: topoClass(fabric, a.id, b.id),
        mapType: r.mapType, distance: r.mapType === "NOT_SUPPORTED" ? -1 : r.distance,
      });
    }
  }
  return { devices: devs.map(displayId), pairs };
}
