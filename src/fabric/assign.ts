// Models: PCI resource assignment where the topology gives only sizes, after
// drivers/pci/setup-bus.c (pbus_size_mem + __pci_assign_resource): bridge windows sized to cover
// their children with 1 MiB granularity, BARs and windows placed largest alignment first, 64-bit
// prefetchable BARs in the prefetchable window and everything else in the non-prefetchable one,
// and default host bridge apertures (32-bit below 4 GiB, 64-bit prefetchable above) per host bridge.
// Given addresses are kept (validate.ts checks them).
// Leaves out: calculate_mem_align's smaller minimum (windows are aligned to their largest child),
// I/O space, realloc and resizing.
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

/** Something to place: a BAR, or a window (bridge or host block) with what lies inside it. */
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
type HostSpec = Extract<NodeSpec, { kind: "hostBridge" }>;
type GivenWindow = { base?: number; size: number };

/** State the assignment phases share. */
interface AssignContext {
  structure: Structure;
  source?: string;
  /** BARs with given addresses cannot move: nothing placed anywhere may overlap them, even from the
   *  other window class (a dump's 64-bit non-prefetchable BAR can sit among prefetchable ones). */
  pinned: Range[];
}

/** A host bridge whose apertures the model chooses: its two blocks, placed after all given ones. */
interface DefaultHost {
  host: HostBridge;
  mem: Item;
  pref: Item;
}

/** Ranges already taken below and above 4 GiB by host apertures. */
interface HostOccupied {
  mmio32: Range[];
  mmio64: Range[];
}

const byAlign = (a: Item, b: Item) => b.align - a.align || b.size - a.size;

function fail(ctx: AssignContext, field: string, value: unknown, reason: string): never {
  throw new InputError(field, value, reason, ctx.source);
}

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

/** firstFit that also avoids the pinned BARs. */
function fit(ctx: AssignContext, size: number, align: number, start: number, limit: number, occupied: Range[]): number | undefined {
  return firstFit(size, align, start, limit, occupied.concat(ctx.pinned));
}

export function assignResources(structure: Structure, source?: string): void {
  createBars(structure);
  const ctx: AssignContext = { structure, source, pinned: pinnedRanges(structure.functions) };
  const occupied: HostOccupied = { mmio32: [], mmio64: [] };
  const defaultHosts: DefaultHost[] = [];
  for (const host of structure.hostBridges) {
    const hostSpec = structure.specOf.get(host.id) as HostSpec;
    const mem = classItems(ctx, host.id, "mem");
    const pref = classItems(ctx, host.id, "prefetch");
    if (hostSpec.windows === undefined) defaultHosts.push(defaultHostBlocks(ctx, host, mem, pref));
    else placeInGivenApertures(ctx, host, hostSpec.windows, { mem, pref }, occupied);
  }
  placeDefaultApertures(ctx, defaultHosts, occupied);
}

/** BAR objects: CPU address from the input, or NaN until placed. */
function createBars(structure: Structure): void {
  for (const func of structure.functions) {
    const nodeSpec = structure.specOf.get(func.id) as Extract<NodeSpec, { bars: unknown }>;
    func.bars = nodeSpec.bars.map((b) => ({
      index: b.index, size: b.size, cpu: b.addr ?? NaN, bus: NaN, is64: b.is64, prefetchable: b.prefetchable,
      resizable: b.resizable ?? [],
    }));
  }
}

function pinnedRanges(functions: PciFunction[]): Range[] {
  const pinned: Range[] = [];
  for (const func of functions) for (const bar of func.bars) if (!Number.isNaN(bar.cpu)) pinned.push({ lo: bar.cpu, hi: bar.cpu + bar.size });
  return pinned;
}

function childrenOf(ctx: AssignContext, id: string): PciFunction[] {
  const node = ctx.structure.byId.get(id)!;
  return (node.kind === "nvswitch" ? [] : node.children).map((c) => ctx.structure.byId.get(c) as PciFunction);
}

function givenWindows(ctx: AssignContext, func: PciFunction): BridgeSpec["windows"] {
  return isBridgeKind(func.kind) ? (ctx.structure.specOf.get(func.id) as BridgeSpec).windows : undefined;
}

/** The window a BAR goes in: 64-bit prefetchable BARs in the prefetchable one, unless a given
 *  address puts a prefetchable BAR inside the parent's other given window. */
function barClass(ctx: AssignContext, func: PciFunction, bar: FabricBar): WindowClass {
  const preferred: WindowClass = bar.prefetchable && bar.is64 ? "prefetch" : "mem";
  const parent = ctx.structure.byId.get(func.parent)!;
  if (Number.isNaN(bar.cpu) || parent.kind === "hostBridge" || parent.kind === "nvswitch" || !bar.prefetchable) return preferred;
  const windows = givenWindows(ctx, parent as PciFunction);
  const inside = (win?: GivenWindow) => win?.base !== undefined && bar.cpu >= win.base && bar.cpu + bar.size <= win.base + win.size;
  if (inside(windows?.[preferred])) return preferred;
  if (inside(windows?.mem)) return "mem";
  if (inside(windows?.prefetch)) return "prefetch";
  return preferred;
}

function barItem(func: PciFunction, bar: FabricBar): Item {
  return {
    size: bar.size, align: bar.size, fixed: Number.isNaN(bar.cpu) ? undefined : bar.cpu,
    place: (base) => { bar.cpu = base; }, label: `"${func.id}" BAR ${bar.index}`,
  };
}

/** Items a bus below `parentId` needs in one window class. */
function classItems(ctx: AssignContext, parentId: string, cls: WindowClass): Item[] {
  const items: Item[] = [];
  for (const child of childrenOf(ctx, parentId)) {
    for (const bar of child.bars) if (barClass(ctx, child, bar) === cls) items.push(barItem(child, bar));
    if (isBridgeKind(child.kind)) {
      const window = bridgeWindow(ctx, child, cls);
      if (window) items.push(window);
    }
  }
  return items;
}

function bridgeWindow(ctx: AssignContext, bridge: PciFunction, cls: WindowClass): Item | undefined {
  const given = givenWindows(ctx, bridge)?.[cls];
  const items = classItems(ctx, bridge.id, cls);
  if (items.length === 0 && !given) return undefined;
  const where = { field: `nodes[${bridge.index}].windows.${cls}`, label: `the ${cls} window of "${bridge.id}"` };
  return container(ctx, items, given, where, (base, size) => {
    bridge.windows[cls] = { cpu: base, bus: NaN, size };
  });
}

interface ContainerWhere {
  /** Field path of the window in the input (errors name its `.size`). */
  field: string;
  label: string;
}

/** Lays out `items` in a container; returns the container as an item of its parent. */
function container(ctx: AssignContext, items: Item[], given: GivenWindow | undefined, where: ContainerWhere,
  onPlace: (base: number, size: number) => void): Item {
  const fixed = items.filter((i) => i.fixed !== undefined);
  const floating = items.filter((i) => i.fixed === undefined).sort(byAlign);
  if (given?.base !== undefined || fixed.length > 0) return anchoredContainer(ctx, fixed, floating, given, where, onPlace);
  return floatingContainer(ctx, floating, given, where, onPlace);
}

function tooSmall(ctx: AssignContext, given: GivenWindow, where: ContainerWhere, need: number): never {
  return fail(ctx, `${where.field}.size`, given.size, `too small for what lies below ${where.label} (needs ${formatSize(need)})`);
}

/** A container whose base is known (given, or from the lowest fixed item, rounded down to 1 MiB):
 *  floating items go first-fit around the fixed ones. */
function anchoredContainer(ctx: AssignContext, fixed: Item[], floating: Item[], given: GivenWindow | undefined, where: ContainerWhere,
  onPlace: (base: number, size: number) => void): Item {
  const occupied: Range[] = fixed.map((i) => ({ lo: i.fixed!, hi: i.fixed! + i.size }));
  const base = given?.base ?? Math.floor(Math.min(...fixed.map((i) => i.fixed!)) / BRIDGE_WINDOW_GRANULE) * BRIDGE_WINDOW_GRANULE;
  const limit = given ? base + given.size : Infinity;
  const at: number[] = [];
  for (const item of floating) {
    const addr = fit(ctx, item.size, item.align, base, limit, occupied);
    if (addr === undefined) fail(ctx, `${where.field}.size`, given!.size, `no room for ${item.label} (${formatSize(item.size)}) in ${where.label}`);
    at.push(addr!);
    occupied.push({ lo: addr!, hi: addr! + item.size });
  }
  const end = Math.max(base + BRIDGE_WINDOW_GRANULE, ...occupied.map((r) => r.hi));
  let size = alignUp(end - base, BRIDGE_WINDOW_GRANULE);
  if (given) {
    if (given.base === undefined && size > given.size) tooSmall(ctx, given, where, size);
    size = given.size;
  }
  return {
    size, align: BRIDGE_WINDOW_GRANULE, fixed: base, label: where.label,
    place: () => {
      for (const item of fixed) item.place(item.fixed!);
      floating.forEach((item, k) => item.place(at[k]));
      onPlace(base, size);
    },
  };
}

/** A container placed later as a whole: items packed by alignment, aligned to the largest. */
function floatingContainer(ctx: AssignContext, floating: Item[], given: GivenWindow | undefined, where: ContainerWhere,
  onPlace: (base: number, size: number) => void): Item {
  let off = 0;
  const offsets = floating.map((item) => {
    const at = alignUp(off, item.align);
    off = at + item.size;
    return at;
  });
  let size = Math.max(BRIDGE_WINDOW_GRANULE, alignUp(off, BRIDGE_WINDOW_GRANULE));
  if (given) {
    if (size > given.size) tooSmall(ctx, given, where, size);
    size = given.size;
  }
  const align = Math.max(BRIDGE_WINDOW_GRANULE, ...floating.map((i) => i.align));
  return {
    size, align, label: where.label,
    place: (base) => {
      floating.forEach((item, k) => item.place(base + offsets[k]));
      onPlace(base, size);
    },
  };
}

/** A host bridge without given apertures: one 32-bit and one 64-bit prefetchable block, placed later. */
function defaultHostBlocks(ctx: AssignContext, host: HostBridge, mem: Item[], pref: Item[]): DefaultHost {
  const where = { field: `nodes[${host.index}].windows`, label: `host bridge "${host.id}"` };
  const block = (items: Item[], prefetchable: boolean) =>
    container(ctx, items, undefined, where, (base, size) => {
      host.windows.push({ cpu: base, bus: base, size, prefetchable, assigned: true });
    });
  return { host, mem: block(mem, false), pref: block(pref, true) };
}

/** A host bridge with given apertures: its root-bus items go inside them, first fit. */
function placeInGivenApertures(ctx: AssignContext, host: HostBridge, windows: NonNullable<HostSpec["windows"]>,
  items: { mem: Item[]; pref: Item[] }, hostOccupied: HostOccupied): void {
  host.windows = windows.map((w): HostWindowState => ({ cpu: w.cpu, bus: w.bus ?? w.cpu, size: w.size, prefetchable: w.prefetchable, assigned: false }));
  for (const w of host.windows) (w.cpu < 4 * GiB ? hostOccupied.mmio32 : hostOccupied.mmio64).push({ lo: w.cpu, hi: w.cpu + w.size });
  const occupied: Range[] = [];
  for (const item of [...items.mem, ...items.pref]) if (item.fixed !== undefined) occupied.push({ lo: item.fixed, hi: item.fixed + item.size });
  const place = (item: Item, candidates: HostWindowState[]) => {
    if (item.fixed !== undefined) return item.place(item.fixed);
    for (const w of candidates) {
      const addr = fit(ctx, item.size, item.align, w.cpu, w.cpu + w.size, occupied);
      if (addr !== undefined) {
        occupied.push({ lo: addr, hi: addr + item.size });
        return item.place(addr);
      }
    }
    fail(ctx, `nodes[${host.index}].windows`, windows, `no room for ${item.label} (${formatSize(item.size)}) in the host bridge windows`);
  };
  const nonPref = host.windows.filter((w) => !w.prefetchable);
  for (const item of items.mem.sort(byAlign)) place(item, nonPref);
  for (const item of items.pref.sort(byAlign)) place(item, [...host.windows.filter((w) => w.prefetchable), ...nonPref]);
}

/** Default apertures: fixed ones (derived from given addresses) first, then the rest first-fit. */
function placeDefaultApertures(ctx: AssignContext, defaultHosts: DefaultHost[], occupied: HostOccupied): void {
  for (const { mem, pref } of defaultHosts) {
    if (mem.fixed !== undefined) occupied.mmio32.push({ lo: mem.fixed, hi: mem.fixed + mem.size });
    if (pref.fixed !== undefined) occupied.mmio64.push({ lo: pref.fixed, hi: pref.fixed + pref.size });
  }
  for (const { host, mem, pref } of defaultHosts) {
    for (const [block, taken, lo, hi, what] of [
      [mem, occupied.mmio32, DEFAULT_MMIO32_BASE, DEFAULT_MMIO32_LIMIT, "32-bit"],
      [pref, occupied.mmio64, DEFAULT_MMIO64_BASE, DEFAULT_MMIO64_LIMIT, "64-bit"],
    ] as const) {
      if (block.fixed !== undefined) {
        block.place(block.fixed);
        continue;
      }
      const addr = fit(ctx, block.size, block.align, lo, hi, taken);
      if (addr === undefined) fail(ctx, `nodes[${host.index}].windows`, undefined, `no room for a ${formatSize(block.size)} ${what} aperture between ${hex(lo)} and ${hex(hi)}`);
      taken.push({ lo: addr!, hi: addr! + block.size });
      block.place(addr!);
    }
    host.windows.sort((a, b) => a.cpu - b.cpu);
  }
}
