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

/** Checks made on the input alone, before addresses are assigned. */
export function checkSpecs(s: Structure, source?: string): void {
  const fail = (field: string, value: unknown, reason: string): never => {
    throw new InputError(field, value, reason, source);
  };
  for (const [id, n] of s.specOf) {
    const i = s.byId.get(id)!.index;
    if (n.kind === "hostBridge") {
      n.windows?.forEach((w, k) => {
        if (w.size === 0) fail(`nodes[${i}].windows[${k}].size`, w.size, "a host bridge window cannot be empty");
        if (w.cpu + w.size > LIMIT) fail(`nodes[${i}].windows[${k}].cpu`, w.cpu, "window ends beyond 2^53");
        if ((w.bus ?? w.cpu) + w.size > LIMIT) fail(`nodes[${i}].windows[${k}].bus`, w.bus, "window ends beyond 2^53");
      });
      continue;
    }
    if (n.kind === "nvswitch") continue;
    const seen = new Map<number, number>();
    n.bars.forEach((b, j) => {
      const f = `nodes[${i}].bars[${j}]`;
      if (seen.has(b.index)) fail(`${f}.index`, b.index, `BAR ${b.index} is listed twice (also bars[${seen.get(b.index)}])`);
      seen.set(b.index, j);
      if (!isPowerOfTwo(b.size) || b.size < 16) fail(`${f}.size`, b.size, "a memory BAR size must be a power of two and at least 16 bytes");
      if (b.is64 && b.index === 5) fail(`${f}.is64`, b.is64, "a 64-bit BAR takes two registers, so it cannot be BAR 5");
      if (b.addr !== undefined) {
        if (b.addr % b.size !== 0) fail(`${f}.addr`, b.addr, `a BAR is naturally aligned: address must be a multiple of its size ${hex(b.size)}`);
        if (b.addr + b.size > LIMIT) fail(`${f}.addr`, b.addr, "BAR ends beyond 2^53");
        if (!b.is64 && b.addr + b.size > 4 * GiB) fail(`${f}.addr`, b.addr, "a 32-bit BAR must lie below 4 GiB");
      }
      b.resizable?.forEach((r, k) => {
        if (!isPowerOfTwo(r) || r < MiB) fail(`${f}.resizable[${k}]`, r, "a Resizable BAR size is a power of two of at least 1 MiB");
      });
    });
    n.bars.forEach((b, j) => {
      if (b.is64 && seen.has(b.index + 1)) {
        fail(`nodes[${i}].bars[${seen.get(b.index + 1)}].index`, b.index + 1, `BAR ${b.index} is 64-bit and also uses register ${b.index + 1} (bars[${j}])`);
      }
    });
    if (isBridgeKind(n.kind)) {
      const w = (n as Extract<NodeSpec, { kind: "rootPort" }>).windows;
      for (const cls of ["mem", "prefetch"] as const) {
        const win = w?.[cls];
        if (!win) continue;
        const f = `nodes[${i}].windows.${cls}`;
        if (win.size === 0 || win.size % MiB !== 0) fail(`${f}.size`, win.size, "a bridge memory window is a non-zero multiple of 1 MiB");
        if (win.base !== undefined) {
          if (win.base % MiB !== 0) fail(`${f}.base`, win.base, "a bridge memory window starts on a 1 MiB boundary");
          if (win.base + win.size > LIMIT) fail(`${f}.base`, win.base, "window ends beyond 2^53");
        }
      }
    }
  }
}

function inside(r: { cpu: number; size: number }, w: { cpu: number; size: number } | undefined): boolean {
  return w !== undefined && r.cpu >= w.cpu && r.cpu + r.size <= w.cpu + w.size;
}

/** Checks the assigned address map and fills in bus addresses. */
export function checkPlacement(s: Structure, source?: string): void {
  const fail = (field: string, value: unknown, reason: string): never => {
    throw new InputError(field, value, reason, source);
  };
  // Host apertures must not overlap anywhere in the machine.
  const hostRanges = s.hostBridges.flatMap((h) => h.windows.map((w, k) => ({ h, w, k })));
  hostRanges.sort((a, b) => a.w.cpu - b.w.cpu);
  for (let k = 1; k < hostRanges.length; k++) {
    const a = hostRanges[k - 1], b = hostRanges[k];
    if (b.w.cpu < a.w.cpu + a.w.size) {
      fail(`nodes[${b.h.index}].windows[${b.k}].cpu`, b.w.cpu, `host window ${range(b.w)} overlaps ${range(a.w)} of host bridge "${a.h.id}"`);
    }
  }

  const node = (id: string) => s.byId.get(id)!;
  const parentAllows = (f: PciFunction, r: { cpu: number; size: number }, prefetchable: boolean): string | undefined => {
    const p = node(f.parent);
    if (p.kind === "hostBridge") {
      if (p.windows.some((w) => (prefetchable || !w.prefetchable) && inside(r, w))) return undefined;
      return `outside every ${prefetchable ? "" : "non-prefetchable "}window of host bridge "${p.id}" (${p.windows.map(range).join(", ")})`;
    }
    const pw = (p as PciFunction).windows;
    if (inside(r, pw.mem) || (prefetchable && inside(r, pw.prefetch))) return undefined;
    const wins = [pw.mem ? `mem ${range(pw.mem)}` : "", prefetchable && pw.prefetch ? `prefetch ${range(pw.prefetch)}` : ""].filter(Boolean);
    return `outside the ${prefetchable ? "mem and prefetch windows" : "mem window"} of its parent "${p.id}" (${wins.length ? wins.join(", ") : "none"})`;
  };

  for (const f of s.functions) {
    f.bars.forEach((b, j) => {
      const why = parentAllows(f, b, b.prefetchable);
      if (why) fail(`nodes[${f.index}].bars[${j}].addr`, b.cpu, `BAR ${b.index} ${range(b)} is ${why}`);
    });
    for (const cls of ["mem", "prefetch"] as const) {
      const w = f.windows[cls];
      if (!w) continue;
      const why = parentAllows(f, w, cls === "prefetch");
      if (why) fail(`nodes[${f.index}].windows.${cls}.base`, w.cpu, `the ${cls} window ${range(w)} is ${why}`);
    }
  }

  // Any two BARs in the machine, and sibling windows, must not overlap.
  const all = s.functions.flatMap((f) => f.bars.map((b, j) => ({ f, b, j })));
  all.sort((x, y) => x.b.cpu - y.b.cpu);
  for (let k = 1; k < all.length; k++) {
    const a = all[k - 1], b = all[k];
    if (b.b.cpu < a.b.cpu + a.b.size) {
      fail(`nodes[${b.f.index}].bars[${b.j}].addr`, b.b.cpu,
        `BAR ${b.b.index} of "${b.f.id}" ${range(b.b)} overlaps BAR ${a.b.index} of "${a.f.id}" ${range(a.b)} (nodes[${a.f.index}].bars[${a.j}])`);
    }
  }
  for (const parent of [...s.hostBridges, ...s.functions]) {
    const wins = parent.children
      .map((id) => node(id) as PciFunction)
      .flatMap((c) => (["mem", "prefetch"] as const).filter((cls) => c.windows[cls]).map((cls) => ({ c, cls, w: c.windows[cls]! })));
    wins.sort((x, y) => x.w.cpu - y.w.cpu);
    for (let k = 1; k < wins.length; k++) {
      const a = wins[k - 1], b = wins[k];
      if (b.w.cpu < a.w.cpu + a.w.size) {
        fail(`nodes[${b.c.index}].windows.${b.cls}.base`, b.w.cpu, `window ${range(b.w)} of "${b.c.id}" overlaps the ${a.cls} window ${range(a.w)} of "${a.c.id}"`);
      }
    }
  }

  // Bus addresses through the host aperture that holds each range.
  for (const f of s.functions) {
    const h = node(f.hostBridge) as HostBridge;
    const toBus = (r: AddressRange) => {
      const w = h.windows.find((hw: HostWindowState) => inside(r, hw))!;
      r.bus = r.cpu + (w.bus - w.cpu);
    };
    f.bars.forEach(toBus);
    if (f.windows.mem) toBus(f.windows.mem);
    if (f.windows.prefetch) toBus(f.windows.prefetch);
  }
}
