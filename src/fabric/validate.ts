// Models: the cross-field rules of a PCI address map: BAR sizes (power of two, at least 16
// bytes, PCI spec / pci_read_bases), natural alignment, 32-bit BARs below 4 GiB, 64-bit BARs
// taking two registers, 1 MiB bridge window granularity, every BAR and window inside its parent's
// window (prefetchable BARs in the prefetchable or memory window), no overlaps; then the bus address
// of every range through its host bridge aperture (bus = cpu + offset, pcibios_resource_to_bus).
// Leaves out: I/O BARs, ROM BARs, Enhanced Allocation.
import { InputError } from "../units/input-error.js";
import { GiB, hex, isPowerOfTwo, MiB } from "../units/size.js";
import type { NodeSpec } from "./schema.js";
import { isBridgeKind, type Structure } from "./structure.js";
import type { AddressRange, HostBridge, HostWindowState, PciFunction } from "./types.js";

const LIMIT = 2 ** 53;
const range = (r: { cpu: number; size: number }) => `[${hex(r.cpu)}-${hex(r.cpu + r.size - 1)}]`;

type Fail = (field: string, value: unknown, reason: string) => never;
type HostSpec = Extract<NodeSpec, { kind: "hostBridge" }>;
type FunctionSpec = Exclude<NodeSpec, { kind: "hostBridge" } | { kind: "nvswitch" }>;

const failIn = (source?: string): Fail => (field, value, reason) => {
  throw new InputError(field, value, reason, source);
};

/** Checks made on the input alone, before addresses are assigned. */
export function checkSpecs(structure: Structure, source?: string): void {
  const fail = failIn(source);
  for (const [id, nodeSpec] of structure.specOf) {
    const index = structure.byId.get(id)!.index;
    if (nodeSpec.kind === "hostBridge") checkHostWindowSpecs(nodeSpec, index, fail);
    else if (nodeSpec.kind !== "nvswitch") {
      checkBarSpecs(nodeSpec, index, fail);
      if (isBridgeKind(nodeSpec.kind)) checkBridgeWindowSpecs(nodeSpec, index, fail);
    }
  }
}

function checkHostWindowSpecs(hostSpec: HostSpec, index: number, fail: Fail): void {
  hostSpec.windows?.forEach((w, k) => {
    if (w.size === 0) fail(`nodes[${index}].windows[${k}].size`, w.size, "a host bridge window cannot be empty");
    if (w.cpu + w.size > LIMIT) fail(`nodes[${index}].windows[${k}].cpu`, w.cpu, "window ends beyond 2^53");
    if ((w.bus ?? w.cpu) + w.size > LIMIT) fail(`nodes[${index}].windows[${k}].bus`, w.bus, "window ends beyond 2^53");
  });
}

function checkBarSpecs(funcSpec: FunctionSpec, index: number, fail: Fail): void {
  const seen = new Map<number, number>();
  funcSpec.bars.forEach((bar, j) => {
    const field = `nodes[${index}].bars[${j}]`;
    if (seen.has(bar.index)) fail(`${field}.index`, bar.index, `BAR ${bar.index} is listed twice (also bars[${seen.get(bar.index)}])`);
    seen.set(bar.index, j);
    if (!isPowerOfTwo(bar.size) || bar.size < 16) fail(`${field}.size`, bar.size, "a memory BAR size must be a power of two and at least 16 bytes");
    if (bar.is64 && bar.index === 5) fail(`${field}.is64`, bar.is64, "a 64-bit BAR takes two registers, so it cannot be BAR 5");
    if (bar.addr !== undefined) {
      if (bar.addr % bar.size !== 0) fail(`${field}.addr`, bar.addr, `a BAR is naturally aligned: address must be a multiple of its size ${hex(bar.size)}`);
      if (bar.addr + bar.size > LIMIT) fail(`${field}.addr`, bar.addr, "BAR ends beyond 2^53");
      if (!bar.is64 && bar.addr + bar.size > 4 * GiB) fail(`${field}.addr`, bar.addr, "a 32-bit BAR must lie below 4 GiB");
    }
    bar.resizable?.forEach((size, k) => {
      if (!isPowerOfTwo(size) || size < MiB) fail(`${field}.resizable[${k}]`, size, "a Resizable BAR size is a power of two of at least 1 MiB");
    });
  });
  funcSpec.bars.forEach((bar, j) => {
    if (bar.is64 && seen.has(bar.index + 1)) {
      fail(`nodes[${index}].bars[${seen.get(bar.index + 1)}].index`, bar.index + 1, `BAR ${bar.index} is 64-bit and also uses register ${bar.index + 1} (bars[${j}])`);
    }
  });
}

function checkBridgeWindowSpecs(funcSpec: FunctionSpec, index: number, fail: Fail): void {
  const windows = (funcSpec as Extract<NodeSpec, { kind: "rootPort" }>).windows;
  for (const cls of ["mem", "prefetch"] as const) {
    const win = windows?.[cls];
    if (!win) continue;
    const field = `nodes[${index}].windows.${cls}`;
    if (win.size === 0 || win.size % MiB !== 0) fail(`${field}.size`, win.size, "a bridge memory window is a non-zero multiple of 1 MiB");
    if (win.base !== undefined) {
      if (win.base % MiB !== 0) fail(`${field}.base`, win.base, "a bridge memory window starts on a 1 MiB boundary");
      if (win.base + win.size > LIMIT) fail(`${field}.base`, win.base, "window ends beyond 2^53");
    }
  }
}

function inside(r: { cpu: number; size: number }, w: { cpu: number; size: number } | undefined): boolean {
  return w !== undefined && r.cpu >= w.cpu && r.cpu + r.size <= w.cpu + w.size;
}

/** Checks the assigned address map and fills in bus addresses. */
export function checkPlacement(structure: Structure, source?: string): void {
  const fail = failIn(source);
  checkHostApertures(structure, fail);
  checkInsideParents(structure, fail);
  checkBarOverlaps(structure, fail);
  checkSiblingWindows(structure, fail);
  assignBusAddresses(structure);
}

/** Host apertures must not overlap anywhere in the machine. */
function checkHostApertures(structure: Structure, fail: Fail): void {
  const hostRanges = structure.hostBridges.flatMap((host) => host.windows.map((window, k) => ({ host, window, k })));
  hostRanges.sort((a, b) => a.window.cpu - b.window.cpu);
  for (let k = 1; k < hostRanges.length; k++) {
    const below = hostRanges[k - 1], above = hostRanges[k];
    if (above.window.cpu < below.window.cpu + below.window.size) {
      fail(`nodes[${above.host.index}].windows[${above.k}].cpu`, above.window.cpu,
        `host window ${range(above.window)} overlaps ${range(below.window)} of host bridge "${below.host.id}"`);
    }
  }
}

/** Why `r` does not fit the windows of `func`'s parent, or undefined when it does. */
function outsideParent(structure: Structure, func: PciFunction, r: { cpu: number; size: number }, prefetchable: boolean): string | undefined {
  const parent = structure.byId.get(func.parent)!;
  if (parent.kind === "hostBridge") {
    if (parent.windows.some((w) => (prefetchable || !w.prefetchable) && inside(r, w))) return undefined;
    return `outside every ${prefetchable ? "" : "non-prefetchable "}window of host bridge "${parent.id}" (${parent.windows.map(range).join(", ")})`;
  }
  const windows = (parent as PciFunction).windows;
  if (inside(r, windows.mem) || (prefetchable && inside(r, windows.prefetch))) return undefined;
  const listed = [windows.mem ? `mem ${range(windows.mem)}` : "", prefetchable && windows.prefetch ? `prefetch ${range(windows.prefetch)}` : ""].filter(Boolean);
  return `outside the ${prefetchable ? "mem and prefetch windows" : "mem window"} of its parent "${parent.id}" (${listed.length ? listed.join(", ") : "none"})`;
}

function checkInsideParents(structure: Structure, fail: Fail): void {
  for (const func of structure.functions) {
    func.bars.forEach((bar, j) => {
      const why = outsideParent(structure, func, bar, bar.prefetchable);
      if (why) fail(`nodes[${func.index}].bars[${j}].addr`, bar.cpu, `BAR ${bar.index} ${range(bar)} is ${why}`);
    });
    for (const cls of ["mem", "prefetch"] as const) {
      const window = func.windows[cls];
      if (!window) continue;
      const why = outsideParent(structure, func, window, cls === "prefetch");
      if (why) fail(`nodes[${func.index}].windows.${cls}.base`, window.cpu, `the ${cls} window ${range(window)} is ${why}`);
    }
  }
}

/** Any two BARs in the machine must not overlap. */
function checkBarOverlaps(structure: Structure, fail: Fail): void {
  const all = structure.functions.flatMap((func) => func.bars.map((bar, j) => ({ func, bar, j })));
  all.sort((a, b) => a.bar.cpu - b.bar.cpu);
  for (let k = 1; k < all.length; k++) {
    const below = all[k - 1], above = all[k];
    if (above.bar.cpu < below.bar.cpu + below.bar.size) {
      fail(`nodes[${above.func.index}].bars[${above.j}].addr`, above.bar.cpu,
        `BAR ${above.bar.index} of "${above.func.id}" ${range(above.bar)} overlaps BAR ${below.bar.index} of "${below.func.id}" ${range(below.bar)} (nodes[${below.func.index}].bars[${below.j}])`);
    }
  }
}

/** Windows of bridges on one bus must not overlap. */
function checkSiblingWindows(structure: Structure, fail: Fail): void {
  for (const parent of [...structure.hostBridges, ...structure.functions]) {
    const windows = parent.children
      .map((id) => structure.byId.get(id) as PciFunction)
      .flatMap((child) => (["mem", "prefetch"] as const).filter((cls) => child.windows[cls]).map((cls) => ({ child, cls, window: child.windows[cls]! })));
    windows.sort((a, b) => a.window.cpu - b.window.cpu);
    for (let k = 1; k < windows.length; k++) {
      const below = windows[k - 1], above = windows[k];
      if (above.window.cpu < below.window.cpu + below.window.size) {
        fail(`nodes[${above.child.index}].windows.${above.cls}.base`, above.window.cpu,
          `window ${range(above.window)} of "${above.child.id}" overlaps the ${below.cls} window ${range(below.window)} of "${below.child.id}"`);
      }
    }
  }
}

/** Bus addresses through the host aperture that holds each range. */
function assignBusAddresses(structure: Structure): void {
  for (const func of structure.functions) {
    const host = structure.byId.get(func.hostBridge) as HostBridge;
    const toBus = (r: AddressRange) => {
      const window = host.windows.find((hw: HostWindowState) => inside(r, hw))!;
      r.bus = r.cpu + (window.bus - window.cpu);
    };
    func.bars.forEach(toBus);
    if (func.windows.mem) toBus(func.windows.mem);
    if (func.windows.prefetch) toBus(func.windows.prefetch);
  }
}
