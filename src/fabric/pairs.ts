// Models: the device-pair matrix of `topo --json` (DESIGN §4): one pair per unordered pair of
// endpoint functions, with the nvidia-smi class and the Linux P2PDMA map type (first device as the
// provider) and distance (-1 when NOT_SUPPORTED, as pci_p2pdma_distance() returns); grown with each
// end's role and name, the slowest link of the tree path between them (capability and current),
// the rule of calc_map_type_and_dist() that decided and its reason. Devices may be restricted to
// some roles (`topo --only`); chipset functions are marked for listings that leave them out.
// Leaves out bridges: bridge kinds and endpoints whose class code is a bridge class (06xx: host
// bridge functions, ISA/LPC bridges, NVSwitch management functions, which nvidia-smi does not list).
import { displayId } from "./build.js";
import { linkAbove, pathLinks, slowestLink } from "./links.js";
import { p2pdmaMapType, type P2pdmaMapType, type P2pdmaRule } from "./p2pdma.js";
import { topoClass, type TopoClass } from "./topo-class.js";
import type { DeviceRole, Fabric, LinkConfig, PciFunction } from "./types.js";

export interface DevicePair {
  a: string;
  b: string;
  class: TopoClass;
  mapType: P2pdmaMapType;
  distance: number;
  aRole: DeviceRole;
  bRole: DeviceRole;
  aName?: string;
  bName?: string;
  /** The slowest link on the tree path between a and b, at its capability (the working speed). */
  link?: LinkConfig;
  /** The slowest link on the path as the machine was read (LnkSta). */
  linkCurrent?: LinkConfig;
  rule: P2pdmaRule;
  reason: string;
}

/** One device of the matrix, for listings and `--json`'s `deviceInfo`. */
export interface DeviceInfo {
  id: string;
  role: DeviceRole;
  name?: string;
  vendor?: string;
  device?: string;
  class?: string;
  numaNode: number;
  /** The link above the device: capability and the state read. */
  link?: LinkConfig;
  linkCurrent?: LinkConfig;
  memory?: number;
  zoneDevice?: "private" | "coherent";
  /** A chipset function (USB, SATA, SMBus, audio, IOMMU, platform functions): human listings leave it out unless asked. */
  chipset: boolean;
}

export interface PairMatrix {
  devices: string[];
  pairs: DevicePair[];
}

export interface MatrixOptions {
  /** Only devices of these roles (all when absent). */
  only?: ReadonlySet<DeviceRole>;
  /** false: leave chipset functions out (human listings); default true (`--json` keeps every endpoint). */
  chipset?: boolean;
}

/** Endpoint functions that take part in the pair matrix, in input order. */
export function matrixDevices(fabric: Fabric, opts: MatrixOptions = {}): PciFunction[] {
  return fabric.functions.filter((f) => f.kind === "endpoint" && !f.classCode?.startsWith("06") && f.role !== "hostFunction" && f.role !== "nvswitch"
    && (!opts.only || opts.only.has(f.role ?? "other")) && (opts.chipset !== false || !isChipset(f)));
}

/** Chipset functions: role "other" (no class, USB, SMBus, audio, IOMMU, platform functions) or an IDE/SATA controller. */
export function isChipset(f: PciFunction): boolean {
  return (f.role ?? "other") === "other" || f.classCode === "0101" || f.classCode === "0106";
}

export function deviceInfo(fabric: Fabric, f: PciFunction): DeviceInfo {
  const link = linkAbove(fabric, f);
  return {
    id: displayId(f), role: f.role ?? "other",
    ...(f.name ? { name: f.name } : {}), ...(f.vendor ? { vendor: f.vendor } : {}), ...(f.device ? { device: f.device } : {}), ...(f.classCode ? { class: f.classCode } : {}),
    numaNode: f.numaNode,
    ...(link?.capability ? { link: link.capability } : {}), ...(link?.current ? { linkCurrent: link.current } : {}),
    ...(f.memory !== undefined ? { memory: f.memory } : {}), ...(f.zoneDevice ? { zoneDevice: f.zoneDevice } : {}),
    chipset: isChipset(f),
  };
}

export function pairMatrix(fabric: Fabric, opts: MatrixOptions = {}): PairMatrix {
  const devs = matrixDevices(fabric, opts);
  const pairs: DevicePair[] = [];
  for (let i = 0; i < devs.length; i++) {
    for (let j = i + 1; j < devs.length; j++) {
      const a = devs[i], b = devs[j];
      const r = p2pdmaMapType(fabric, a.id, b.id);
      const links = pathLinks(fabric, a, b);
      const link = slowestLink(links.map((l) => l.capability));
      const linkCurrent = slowestLink(links.map((l) => l.current));
      pairs.push({
        a: displayId(a), b: displayId(b), class: topoClass(fabric, a.id, b.id),
        mapType: r.mapType, distance: r.mapType === "NOT_SUPPORTED" ? -1 : r.distance,
        aRole: a.role ?? "other", bRole: b.role ?? "other", ...(a.name ? { aName: a.name } : {}), ...(b.name ? { bName: b.name } : {}),
        ...(link ? { link } : {}), ...(linkCurrent ? { linkCurrent } : {}),
        rule: r.rule, reason: r.reason,
      });
    }
  }
  return { devices: devs.map(displayId), pairs };
}
