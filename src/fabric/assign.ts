// Models: PCI resource assignment where the topology gives only sizes, after
// drivers/pci/setup-bus.c (pbus_size_mem + __pci_assign_resource): bridge windows sized to cover
// their children with 1 MiB granularity, BARs and windows placed largest alignment first, 64-bit
// prefetchable BARs in the prefetchable window and everything else in the non-prefetchable one,
// and default host bridge apertures (32-bit below 4 GiB, 64-bit prefetchable above) per host bridge.
// Given addresses are kept (validate.ts checks them). Simplified: windows are aligned to their
// largest child (not calculate_mem_align's smaller minimum), no I/O space, no realloc/resizing.
import { InputError } from "../units/input-error.js";
import { alignUp, formatSize, GiB, hex, MiB, TiB } from "../units/size.js";
import type { NodeSpec } from "./schema.js";
import { isBridgeKind, type Structure } from "./structure.js";
import type { FabricBar, HostBridge, HostWindowState, PciFunction } from "./types.js";

/** Default apertures: 32-bit MMIO from 2 GiB up to the x86 interrupt/firmware area at 0xfec00000,
 *  64-bit prefetchable MMIO from 1 TiB up to 2^52 (x86-64 physical address width). */
export const DEFAULT_MMIO32_BASE = 2 * GiB;
export const DEFAULT_MMIO32_LIMIT = 0xfec0_0000;
export const DEFAULT_MMIO64_BASE = 1 * TiB;
export const DEFAULT_MMIO64_LIMIT = 2 ** 52;
/** Bridge memory windows have 1 MiB granularity (PCI-to-PCI bridge spec; setup-bus.c). */
export const BRIDGE_WINDOW_GRANULE = 1 * MiB;

type WindowClass = "mem" | "prefetch";

interface Item {
  size: number;
  align: number;
  /** CPU address when already fixed (given, or derived from given children). */
  fixed?: number;
  place(base: number): void;
  label: string;
}

interface Range {
  lo: number;
  hi: number;
}

type BridgeSpec = Extract<NodeSpec, { kind: "rootPort" | "switchUpstream" | "switchDownstream" | "bridge" }>;

const byAlign = (a: Item, b: Item) => b.align - a.align || b.size - a.size;

/** First address ≥ start, aligned, of `size` bytes that avoids `occupied` and ends by `limit`. */
function firstFit(size: number, align: number, start: number, limit: number, occupied: Range[]): number | undefined {
  let addr = alignUp(start, align);
  for (;;) {
    const hit = occupied.find((r) => addr < r.hi && addr + size > r.lo);
    if (!hit) break;
    addr = alignUp(hit.hi, align);
  }
  return addr + size <= limit ? addr : undefined;
}

export function assignResources(s: Structure, source?: string): void {
  const fail = (field: string, value: unknown, reason: string): never => {
    throw new InputError(field, value, reason, source);
  };
  const fns = s.functions;
  const byId = s.byId;
  const children = (id: string): PciFunction[] => {
    const n = byId.get(id)!;
    return (n.kind === "nvswitch" ? [] : n.children).map((c) => byId.get(c) as PciFunction);
  };

  // BAR objects: CPU address from the input, or NaN until placed.
  for (const f of fns) {
    const spec = s.specOf.get(f.id) as Extract<NodeSpec, { bars: unknown }>;
    f.bars = spec.bars.map((b) => ({
      index: b.index, size: b.size, cpu: b.addr ?? NaN, bus: NaN, is64: b.is64, prefetchable: b.prefetchable,
      resizable: b.resizable ?? [],
    }));
  }

  // BARs with given addresses cannot move: nothing placed anywhere may overlap them, even from the
  // other window class (a dump's 64-bit non-prefetchable BAR can sit among prefetchable ones).
  const pinned: Range[] = [];
  for (const f of fns) for (const b of f.bars) if (!Number.isNaN(b.cpu)) pinned.push({ lo: b.cpu, hi: b.cpu + b.size });
  const fit = (size: number, align: number, start: number, limit: number, occupied: Range[]) =>
    firstFit(size, align, start, limit, occupied.concat(pinned));

  const givenWindows = (f: PciFunction) => (isBridgeKind(f.kind) ? (s.specOf.get(f.id) as BridgeSpec).windows : undefined);

  const barClass = (f: PciFunction, bar: FabricBar): WindowClass => {
    const preferred: WindowClass = bar.prefetchable && bar.is64 ? "prefetch" : "mem";
    const parent = byId.get(f.parent)!;
    if (Number.isNaN(bar.cpu) || parent.kind === "hostBridge" || parent.kind === "nvswitch" || !bar.prefetchable) return preferred;
    const w = givenWindows(parent as PciFunction);
    const inside = (win?: { base?: number; size: number }) => win?.base !== undefined && bar.cpu >= win.base && bar.cpu + bar.size <= win.base + win.size;
    if (inside(w?.[preferred])) return preferred;
    if (inside(w?.mem)) return "mem";
    if (inside(w?.prefetch)) return "prefetch";
    return preferred;
  };

  const barItem = (f: PciFunction, bar: FabricBar): Item => ({
    size: bar.size, align: bar.size, fixed: Number.isNaN(bar.cpu) ? undefined : bar.cpu,
    place: (base) => { bar.cpu = base; }, label: `"${f.id}" BAR ${bar.index}`,
  });

  /** Items a bus below `parentId` needs in one window class. */
  const classItems = (parentId: string, cls: WindowClass): Item[] => {
    const items: Item[] = [];
    for (const c of children(parentId)) {
      for (const bar of c.bars) if (barClass(c, bar) === cls) items.push(barItem(c, bar));
      if (isBridgeKind(c.kind)) {
        const w = bridgeWindow(c, cls);
        if (w) items.push(w);
      }
    }
    return items;
  };

  /** Lays out `items` in a container; returns the container as an item of its parent. */
  const container = (items: Item[], given: { base?: number; size: number } | undefined, field: string, label: string,
    onPlace: (base: number, size: number) => void): Item => {
    const fixed = items.filter((i) => i.fixed !== undefined);
    const floating = items.filter((i) => i.fixed === undefined).sort(byAlign);
    const occupied: Range[] = fixed.map((i) => ({ lo: i.fixed!, hi: i.fixed! + i.size }));
    const placeFixed = () => { for (const i of fixed) i.place(i.fixed!); };
    const tooSmall = (need: number): never =>
      fail(`${field}.size`, given!.size, `too small for what lies below ${label} (needs ${formatSize(need)})`);
    if (given?.base !== undefined || fixed.length > 0) {
      const base = given?.base ?? Math.floor(Math.min(...fixed.map((i) => i.fixed!)) / BRIDGE_WINDOW_GRANULE) * BRIDGE_WINDOW_GRANULE;
      const limit = given ? base + given.size : Infinity;
      const at: number[] = [];
      for (const i of floating) {
        const a = fit(i.size, i.align, base, limit, occupied);
        if (a === undefined) fail(`${field}.size`, given!.size, `no room for ${i.label} (${formatSize(i.size)}) in ${label}`);
        at.push(a!);
        occupied.push({ lo: a!, hi: a! + i.size });
      }
      const end = Math.max(base + BRIDGE_WINDOW_GRANULE, ...occupied.map((r) => r.hi));
      let size = alignUp(end - base, BRIDGE_WINDOW_GRANULE);
      if (given) {
        if (given.base === undefined && size > given.size) tooSmall(size);
        size = given.size;
      }
      return {
        size, align: BRIDGE_WINDOW_GRANULE, fixed: base, label,
        place: () => { placeFixed(); floating.forEach((i, k) => i.place(at[k])); onPlace(base, size); },
      };
    }
    let off = 0;
    const offsets = floating.map((i) => { const o = alignUp(off, i.align); off = o + i.size; return o; });
    let size = Math.max(BRIDGE_WINDOW_GRANULE, alignUp(off, BRIDGE_WINDOW_GRANULE));
    if (given) {
      if (size > given.size) tooSmall(size);
      size = given.size;
    }
    const align = Math.max(BRIDGE_WINDOW_GRANULE, ...floating.map((i) => i.align));
    return {
      size, align, label,
      place: (base) => { floating.forEach((i, k) => i.place(base + offsets[k])); onPlace(base, size); },
    };
  };

  function bridgeWindow(f: PciFunction, cls: WindowClass): Item | undefined {
    const given = givenWindows(f)?.[cls];
    const items = classItems(f.id, cls);
    if (items.length === 0 && !given) return undefined;
    return container(items, given, `nodes[${f.index}].windows.${cls}`, `the ${cls} window of "${f.id}"`, (base, size) => {
      f.windows[cls] = { cpu: base, bus: NaN, size };
    });
  }

  // Host bridges with given apertures: place their root-bus items inside them.
  const hostOccupied32: Range[] = [];
  const hostOccupied64: Range[] = [];
  const defaultHosts: { h: HostBridge; mem: Item; pref: Item }[] = [];
  for (const h of s.hostBridges) {
    const spec = s.specOf.get(h.id) as Extract<NodeSpec, { kind: "hostBridge" }>;
    const mem = classItems(h.id, "mem");
    const pref = classItems(h.id, "prefetch");
    if (spec.windows === undefined) {
      const memBlock = container(mem, undefined, `nodes[${h.index}].windows`, `host bridge "${h.id}"`, (base, size) => {
        h.windows.push({ cpu: base, bus: base, size, prefetchable: false, assigned: true });
      });
      const prefBlock = container(pref, undefined, `nodes[${h.index}].windows`, `host bridge "${h.id}"`, (base, size) => {
        h.windows.push({ cpu: base, bus: base, size, prefetchable: true, assigned: true });
      });
      defaultHosts.push({ h, mem: memBlock, pref: prefBlock });
      continue;
    }
    h.windows = spec.windows.map((w): HostWindowState => ({ cpu: w.cpu, bus: w.bus ?? w.cpu, size: w.size, prefetchable: w.prefetchable, assigned: false }));
    for (const w of h.windows) (w.cpu < 4 * GiB ? hostOccupied32 : hostOccupied64).push({ lo: w.cpu, hi: w.cpu + w.size });
    const occupied: Range[] = [];
    for (const i of [...mem, ...pref]) if (i.fixed !== undefined) occupied.push({ lo: i.fixed, hi: i.fixed + i.size });
    const place = (i: Item, candidates: HostWindowState[]) => {
      if (i.fixed !== undefined) return i.place(i.fixed);
      for (const w of candidates) {
        const a = fit(i.size, i.align, w.cpu, w.cpu + w.size, occupied);
        if (a !== undefined) {
          occupied.push({ lo: a, hi: a + i.size });
          return i.place(a);
        }
      }
      fail(`nodes[${h.index}].windows`, spec.windows, `no room for ${i.label} (${formatSize(i.size)}) in the host bridge windows`);
    };
    const nonPref = h.windows.filter((w) => !w.prefetchable);
    for (const i of mem.sort(byAlign)) place(i, nonPref);
    for (const i of pref.sort(byAlign)) place(i, [...h.windows.filter((w) => w.prefetchable), ...nonPref]);
  }

  // Default apertures: fixed ones (derived from given addresses) first, then the rest first-fit.
  for (const { mem, pref } of defaultHosts) {
    if (mem.fixed !== undefined) hostOccupied32.push({ lo: mem.fixed, hi: mem.fixed + mem.size });
    if (pref.fixed !== undefined) hostOccupied64.push({ lo: pref.fixed, hi: pref.fixed + pref.size });
  }
  for (const { h, mem, pref } of defaultHosts) {
    for (const [block, occupied, lo, hi, what] of [
      [mem, hostOccupied32, DEFAULT_MMIO32_BASE, DEFAULT_MMIO32_LIMIT, "32-bit"],
      [pref, hostOccupied64, DEFAULT_MMIO64_BASE, DEFAULT_MMIO64_LIMIT, "64-bit"],
    ] as const) {
      if (block.fixed !== undefined) {
        block.place(block.fixed);
        continue;
      }
      const a = fit(block.size, block.align, lo, hi, occupied);
      if (a === undefined) fail(`nodes[${h.index}].windows`, undefined, `no room for a ${formatSize(block.size)} ${what} aperture between ${hex(lo)} and ${hex(hi)}`);
      occupied.push({ lo: a!, hi: a! + block.size });
      block.place(a!);
    }
    h.windows.sort((a, b) => a.cpu - b.cpu);
  }
}
