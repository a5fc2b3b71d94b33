// Models: the text `topo` prints: the PCI tree (host bridges with NUMA/CPU/IOMMU and apertures,
// ports with windows and ACS, endpoints with role and BARs), NVLinks and socket links, then the
// device-pair matrix (a table for a few devices, a list of pairs for many).
// Leaves out: colour, widths beyond plain padding.
import { formatSize, hex } from "../units/size.js";
import { pairMatrix, type PairMatrix } from "./pairs.js";
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

function functionHead(f: PciFunction): string {
  const ids = f.vendor ? ` ${f.vendor}:${f.device ?? "????"}` : "";
  const name = f.id !== f.address ? ` ${f.id}` : "";
  if (f.kind === "endpoint") {
    const extra = [f.role, f.physfn ? `VF of ${f.physfn}` : "", f.memory ? `memory ${formatSize(f.memory)}` : "", f.zoneDevice ? `zone device ${f.zoneDevice}` : ""].filter(Boolean);
    return `${f.address}${name}${ids} [${extra.join(", ")}]${acsText(f)}${f.name ? ` "${f.name}"` : ""}`;
  }
  const buses = `bus ${f.secondaryBus!.toString(16).padStart(2, "0")}-${f.subordinateBus!.toString(16).padStart(2, "0")}`;
  return `${f.address}${name}${ids} ${f.kind} (${buses})${acsText(f)}${f.name ? ` "${f.name}"` : ""}`;
}

function hostHead(h: HostBridge): string {
  const cpu = h.cpu.family !== undefined ? `${h.cpu.vendor} family ${hex(h.cpu.family)}` : h.cpu.vendor;
  const bus = `${h.domain.toString(16).padStart(4, "0")}:${h.rootBus.toString(16).padStart(2, "0")}-${h.subordinateBus.toString(16).padStart(2, "0")}`;
  return `host bridge ${h.id} [${bus}] NUMA ${h.numaNode}, CPU ${cpu}, IOMMU ${h.iommu}${h.name ? ` "${h.name}"` : ""}`;
}

export function renderTree(fabric: Fabric): string {
  const out: string[] = [`topology ${fabric.name}${fabric.description ? `: ${fabric.description}` : ""}`];
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

/** Table of class/map type/distance for up to `tableMax` devices, else one line per pair. */
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
  } else {
    const wa = Math.max(...pairs.map((p) => p.a.length)), wb = Math.max(...pairs.map((p) => p.b.length));
    for (const p of pairs) out.push(`${p.a.padEnd(wa)}  ${p.b.padEnd(wb)}  ${p.class.padEnd(5)}  ${p.mapType.padEnd(16)}  ${p.distance}`);
  }
  return out.join("\n") + "\n";
}
