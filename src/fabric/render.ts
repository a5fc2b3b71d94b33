// Models: the text `topo` prints: the PCI tree (host bridges with NUMA/CPU/IOMMU and apertures,
// ports with windows, ACS and links, endpoints with role, memory, link and BARs), NVLinks and socket
// links, then the devices (role, link at its capability and as read, NUMA node, memory, name), what
// the import assumed, and the device-pair matrix (a table for a few devices) and pair list (roles,
// slowest link, map type, the rule that decided, and NOT_SUPPORTED's reason in the kernel's words).
// Leaves out: colour, widths beyond plain padding.
import { formatSize, hex } from "../units/size.js";
import { splitVendor } from "./import/pci-names.js";
import type { ImportNote } from "./import/warnings.js";
import { formatLink, linkAbove } from "./links.js";
import { deviceInfo, pairMatrix, type PairMatrix } from "./pairs.js";
import { acsNames, type AddressRange, type Fabric, type FabricBar, type HostBridge, type PciFunction } from "./types.js";

const span = (r: AddressRange) => `${hex(r.cpu)}-${hex(r.cpu + r.size - 1)}`;
const busPart = (r: AddressRange) => (r.bus !== r.cpu ? ` bus ${hex(r.bus)}` : "");

function barLine(b: FabricBar): string {
  const bits = [`BAR${b.index} ${span(b)}${busPart(b)}`, formatSize(b.size), b.is64 ? "64-bit" : "32-bit", b.prefetchable ? "prefetchable" : "non-prefetchable"];
  if (b.resizable.length) bits.push(`resizable ${b.resizable.map(formatSize).join(",")}`);
  return bits.join(", ");
}

function acsText(f: PciFunction): string {
  if (!f.acs) return "";
  const ctl = acsNames(f.acs.control);
  return ` ACS ctl ${ctl.length ? ctl.join("|") : "-"} (cap ${acsNames(f.acs.capability).join("|") || "-"})`;
}

/** The link a function states (its own `link`/`linkCurrent`), for the tree. */
function ownLink(f: PciFunction): string {
  return f.link || f.linkCurrent ? `link ${formatLink({ capability: f.link, current: f.linkCurrent })}` : "";
}

function functionHead(f: PciFunction): string {
  const ids = f.vendor ? ` ${f.vendor}:${f.device ?? "????"}` : "";
  const name = f.id !== f.address ? ` ${f.id}` : "";
  if (f.kind === "endpoint") {
    const extra = [f.role, f.physfn ? `VF of ${f.physfn}` : "", f.memory ? `memory ${formatSize(f.memory)}` : "", f.zoneDevice ? `zone device ${f.zoneDevice}` : "", ownLink(f)].filter(Boolean);
    return `${f.address}${name}${ids} [${extra.join(", ")}]${acsText(f)}${f.name ? ` "${f.name}"` : ""}`;
  }
  const buses = `bus ${f.secondaryBus!.toString(16).padStart(2, "0")}-${f.subordinateBus!.toString(16).padStart(2, "0")}`;
  const link = ownLink(f);
  return `${f.address}${name}${ids} ${f.kind} (${buses})${link ? ` ${link}` : ""}${acsText(f)}${f.name ? ` "${f.name}"` : ""}`;
}

function hostHead(h: HostBridge): string {
  const model = h.cpu.model !== undefined ? ` model ${hex(h.cpu.model)}` : "";
  const cpu = `${h.cpu.family !== undefined ? `${h.cpu.vendor} family ${hex(h.cpu.family)}${model}` : h.cpu.vendor}${h.cpu.name ? ` (${h.cpu.name})` : ""}`;
  const bus = `${h.domain.toString(16).padStart(4, "0")}:${h.rootBus.toString(16).padStart(2, "0")}-${h.subordinateBus.toString(16).padStart(2, "0")}`;
  return `host bridge ${h.id} [${bus}] NUMA ${h.numaNode}, CPU ${cpu}, IOMMU ${h.iommu}${h.name ? ` "${h.name}"` : ""}`;
}

export function renderTree(fabric: Fabric): string {
  const out: string[] = [`topology ${fabric.name}${fabric.description ? `: ${fabric.description}` : ""}`];
  if (fabric.platform || fabric.linkSpeed !== "capability") {
    out.push(`platform ${fabric.platform ?? "unknown"}; link speeds modelled: ${fabric.linkSpeed === "current" ? "current (linkCurrent)" : "capability (link)"}`);
  }
  const walk = (ids: string[], prefix: string) => {
    ids.forEach((id, k) => {
      const func = fabric.byId.get(id) as PciFunction;
      const last = k === ids.length - 1;
      out.push(`${prefix}${last ? "└─ " : "├─ "}${functionHead(func)}`);
      const inner = prefix + (last ? "   " : "│  ");
      for (const cls of ["mem", "prefetch"] as const) {
        const window = func.windows[cls];
        if (window) out.push(`${inner}  window ${cls} ${span(window)}${busPart(window)} (${formatSize(window.size)})`);
      }
      for (const bar of func.bars) out.push(`${inner}  ${barLine(bar)}`);
      walk(func.children, inner);
    });
  };
  for (const h of fabric.hostBridges) {
    out.push(hostHead(h));
    for (const w of h.windows) {
      out.push(`   aperture ${span(w)}${busPart(w)} (${formatSize(w.size)}${w.prefetchable ? ", prefetchable" : ""}${w.assigned ? ", default" : ""})`);
    }
    walk(h.children, "");
  }
  for (const s of fabric.nvswitches) out.push(`nvswitch ${s.id}${s.pci ? ` (${s.pci})` : ""}${s.name ? ` "${s.name}"` : ""}`);
  for (const l of fabric.nvlinks) out.push(`nvlink ${l.a} — ${l.b} x${l.count}${l.gen ? ` gen ${l.gen}` : ""}`);
  for (const l of fabric.socketLinks) out.push(`socket link NUMA ${l.a} — NUMA ${l.b}${l.name ? ` ${l.name}` : ""}${l.gbps ? ` ${l.gbps} GB/s` : ""}`);
  return out.join("\n") + "\n";
}

const SHORT = { BUS_ADDR: "BUS", THRU_HOST_BRIDGE: "HB", NOT_SUPPORTED: "NS" } as const;

/** Table of class/map type/distance for up to `tableMax` devices, then one line per pair. */
export function renderMatrix(fabric: Fabric, tableMax = 8, matrix: PairMatrix = pairMatrix(fabric)): string {
  const { devices, pairs } = matrix;
  if (devices.length < 2) return "fewer than two endpoint devices: no pairs\n";
  const out: string[] = [];
  if (devices.length <= tableMax) {
    const cell = (i: number, j: number) => {
      if (i === j) return "X";
      const pair = pairs.find((q) => (q.a === devices[i] && q.b === devices[j]) || (q.a === devices[j] && q.b === devices[i]))!;
      return `${pair.class} ${SHORT[pair.mapType]} ${pair.distance}`;
    };
    const rows = devices.map((_, i) => devices.map((__, j) => cell(i, j)));
    const w0 = Math.max(...devices.map((d) => d.length));
    const widths = devices.map((d, j) => Math.max(d.length, ...rows.map((r) => r[j].length)));
    out.push(["".padEnd(w0), ...devices.map((d, j) => d.padEnd(widths[j]))].join("  ").trimEnd());
    rows.forEach((r, i) => out.push([devices[i].padEnd(w0), ...r.map((c, j) => c.padEnd(widths[j]))].join("  ").trimEnd()));
    out.push("cells: nvidia-smi class, Linux P2PDMA map type (BUS = BUS_ADDR, HB = THRU_HOST_BRIDGE, NS = NOT_SUPPORTED), distance");
    out.push("");
  }
  out.push("pairs (a as provider): a, b, nvidia-smi class, map type, distance, slowest link on the path, the rule that decided");
  const end = (id: string, role: string, name?: string) => `${id} ${role}${name ? ` "${shortName(name)}"` : ""}`;
  const ends = pairs.map((p) => [end(p.a, p.aRole, p.aName), end(p.b, p.bRole, p.bName)]);
  const wa = Math.max(...ends.map((e) => e[0].length)), wb = Math.max(...ends.map((e) => e[1].length));
  pairs.forEach((p, k) => {
    const link = formatLink({ capability: p.link, current: p.linkCurrent });
    out.push(`  ${ends[k][0].padEnd(wa)}  ${ends[k][1].padEnd(wb)}  ${p.class.padEnd(5)}  ${p.mapType.padEnd(16)}  ${String(p.distance).padStart(2)}  ${link}  ${p.rule}`);
    if (p.mapType === "NOT_SUPPORTED") out.push(`    why: ${p.reason}`);
  });
  return out.join("\n") + "\n";
}

/** The part of a device name worth a pair line: the bracketed model ("RTX 6000 Ada Generation"), else
 *  the device part after the vendor, cut to 28 characters. */
function shortName(name: string): string {
  const bracket = / \[([^\]]+)\]$/.exec(name);
  if (bracket) return bracket[1];
  const device = splitVendor(name).device;
  return device.length > 28 ? `${device.slice(0, 27)}…` : device;
}

/** One line per device: id, role, link above it (capability, and now when it differs), NUMA node, memory, name. */
export function renderDevices(fabric: Fabric, devices: readonly PciFunction[], leftOut: number): string {
  const rows = devices.map((f) => {
    const info = deviceInfo(fabric, f);
    const memory = info.memory !== undefined ? `${formatSize(info.memory)}${info.zoneDevice ? ` ${info.zoneDevice}` : ""}` : "-";
    return [info.id, info.role, formatLink(linkAbove(fabric, f)), `NUMA ${info.numaNode}`, memory, info.name ?? ""];
  });
  const head = ["device", "role", "link (now, when it differs)", "node", "memory", "name"];
  const widths = head.map((h, j) => Math.max(h.length, ...rows.map((r) => r[j].length)));
  const line = (r: string[]) => `  ${r.map((c, j) => c.padEnd(widths[j])).join("  ")}`.trimEnd();
  const out = [`devices: ${devices.length}${leftOut ? ` (${leftOut} chipset function(s) left out: --all shows them)` : ""}`, line(head), ...rows.map(line)];
  return out.join("\n") + "\n";
}

/** What the import assumed, one line per device (the notes of ImportOptions.onNote). */
export function renderNotes(notes: readonly ImportNote[]): string {
  if (notes.length === 0) return "";
  return ["assumed by the import (an overlay changes it, `topo --emit-json` shows it as JSON):", ...notes.map((n) => `  ${n.field}: ${n.reason}`)].join("\n") + "\n";
}
