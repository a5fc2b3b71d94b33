// Models: the time and link traffic of a scenario run (DESIGN §1 step 7): after each step, what the
// memory layer observed (faults, notifier callbacks, migrations, DMA-engine copies) becomes operations
// on the run's clock, with copies run over the machine's real links; plus the cost-only `transfer`
// step that prices one design (p2p, bounce, migrate) of moving bytes between two ends.
// Leaves out: fork's COW write-protect flush, and pages migrated without a copy (zero-filled).
import { resolve, dirname } from "node:path";
import type { Fabric } from "../fabric/types.js";
import { p2pdmaMapType } from "../fabric/p2pdma.js";
import type { Counters } from "../memory/counters.js";
import { loadCalibration, param, type Calibration } from "../sim/calibration.js";
import { cpuFaultNs, deviceFaultNs, dmaMapNs, peerMapNs, snapshotNs, tlbFlushNs } from "../sim/hmm-costs.js";
import { CostLedger, type LinkDirectionUse } from "../sim/ledger.js";
import { iommuTranslates, migrationCost, type MigrationCost } from "../sim/migration.js";
import { buildLinkGraph, pathBetween, type LinkGraph } from "../sim/paths.js";
import type { SimResult } from "../sim/simulate.js";
import { parseQuantity } from "../units/size.js";
import type { StepSpec } from "./schema.js";

/** Track of CPU-side work (faults, notifier callbacks, TLB flushes) in the trace. */
export const CPU_TRACK = "cpu";

const CPU_STEPS = new Set(["mmap", "munmap", "mprotect", "cpuRead", "cpuWrite", "fork"]);
const SNAPSHOT_STEPS = new Set(["deviceRead", "deviceWrite", "snapshot"]);
const FLUSH_STEPS = new Set(["munmap", "mprotect"]);
/** Steps that migrate on purpose (migrate_vma over the range); other migrations are fault-driven. */
const MIGRATE_STEPS = new Set(["migrateToDevice", "migrateToSystem", "release"]);
const GRANULARITY: Record<string, number> = { "4KiB": 4096, "64KiB": 65536, "2MiB": 2 * 1024 * 1024 };

/** The run-level cost counters added to DESIGN §4's. */
export interface CostCounters {
  /** Payload bytes per real link (link ids of sim/paths.ts). */
  bytesMoved: Record<string, number>;
  /** Bytes and busy time per link direction. */
  links: Record<string, Record<string, LinkDirectionUse>>;
  /** Latency summary per operation name. */
  opLatency: Record<string, { count: number; meanNs: number; p50Ns: number; p99Ns: number; maxNs: number }>;
  /** Simulated time of each step, ns. */
  stepTimesNs: number[];
  calibration: string;
}

/** The cost counters of a run that has no machine to cost on. */
export function noCostCounters(): CostCounters {
  return { bytesMoved: {}, links: {}, opLatency: {}, stepTimesNs: [], calibration: "none" };
}

/** A step failure message (the runner turns it into the step's `error`). */
export class CostStepError extends Error {}

interface Snapshot {
  faults: number;
  invalidations: number;
  migrations: number;
  transfers: number;
  /** Bytes of the last transfer record (Counters.transfer merges a repeat of the same pair into it). */
  lastBytes: number;
}

/** A scenario's `calibration`: a builtin name or a path relative to the scenario file. */
export function resolveCalibration(nameOrPath: string | undefined, scenarioPath?: string): Calibration {
  if (nameOrPath === undefined) return loadCalibration("default");
  const isPath = nameOrPath.endsWith(".json");
  return loadCalibration(isPath ? resolve(scenarioPath ? dirname(scenarioPath) : ".", nameOrPath) : nameOrPath);
}

/** The cost side of one run: owned by the run, fed after every step. */
export class RunCosts {
  readonly graph: LinkGraph;
  readonly ledger: CostLedger;
  private readonly stepTimes: number[] = [];
  private before: Snapshot = { faults: 0, invalidations: 0, migrations: 0, transfers: 0, lastBytes: 0 };
  private stepStart = 0;
  private remoteCpus = true;

  constructor(readonly fabric: Fabric, readonly calibration: Calibration) {
    this.graph = buildLinkGraph(fabric, calibration);
    this.ledger = new CostLedger(this.graph);
  }

  /** Call before a step runs. */
  begin(counters: Counters): void {
    const n = counters.transfers.length;
    this.before = {
      faults: counters.faults, invalidations: counters.invalidations, migrations: counters.migrations, transfers: n,
      lastBytes: n > 0 ? counters.transfers[n - 1].bytes : 0,
    };
    this.stepStart = this.ledger.now;
  }

  /** Call after a step ran: turns what it did into operations; returns the step's time. */
  end(i: number, step: StepSpec, r: { ok: boolean; result?: unknown }, counters: Counters, pages: number): number {
    const ok = r.ok;
    const cal = this.calibration;
    const d = { faults: counters.faults - this.before.faults, invalidations: counters.invalidations - this.before.invalidations };
    const track = "device" in step ? step.device : CPU_TRACK;
    const devTrack = this.graph.nodes.has(track) ? track : CPU_TRACK;
    let t = this.stepStart;
    const L = this.ledger;
    if (d.faults > 0) {
      t = CPU_STEPS.has(step.op) ? L.op(CPU_TRACK, "cpu fault", cpuFaultNs(cal, d.faults), t, { faults: d.faults })
        : L.op(devTrack, "device fault", deviceFaultNs(cal, d.faults).ns, t, { faults: d.faults, batches: deviceFaultNs(cal, d.faults).batches });
    }
    if (ok && SNAPSHOT_STEPS.has(step.op)) t = L.op(devTrack, "snapshot", snapshotNs(cal, pages), t, { pages });
    if (d.invalidations > 0) {
      const each = param(cal, "notifierCallbackNs") + param(cal, "deviceTlbInvalidateNs");
      t = L.op(CPU_TRACK, "mmu notifier", d.invalidations * each, t, { callbacks: d.invalidations });
    }
    if (ok && FLUSH_STEPS.has(step.op)) {
      const f = tlbFlushNs(cal, pages, this.remoteCpus);
      t = L.op(CPU_TRACK, "tlb flush", f.ns, t, { pages, ipis: f.ipis });
    }
    for (let k = Math.max(0, this.before.transfers - 1); k < counters.transfers.length; k++) {
      const rec = counters.transfers[k];
      const bytes = k === this.before.transfers - 1 ? rec.bytes - this.before.lastBytes : rec.bytes;
      if (bytes <= 0) continue;
      const x = { from: rec.from, to: rec.to, bytes };
      if (x.from === "ram" || x.to === "ram") {
        const device = x.from === "ram" ? x.to : x.from;
        const m = migrationCost(this.graph, {
          device, direction: x.from === "ram" ? "toDevice" : "toRam", bytes: x.bytes, remoteCpus: this.remoteCpus,
          mode: MIGRATE_STEPS.has(step.op) ? "prefetch" : "fault", chargeFaults: false,
        });
        t = this.migration(device, m, t);
      } else {
        const initiator = "device" in step && step.device === x.to ? x.to : x.from;
        const sim = L.transfers([{ path: pathBetween(this.graph, x.from, x.to, initiator === x.from ? "write" : "read"), bytes: x.bytes, label: "dma copy" }], t);
        t += sim.makespanNs;
      }
    }
    if (ok && (step.op === "peerMap" || step.op === "peerUnmap")) t = this.peerMapping(step.op, devTrack, t, pages, r.result);
    return this.finish(i, step.op, t);
  }

  /** The cost-only `transfer` step: prices one design, charges it to the run, returns the result. */
  transfer(i: number, step: Extract<StepSpec, { op: "transfer" }>): Record<string, unknown> {
    const at = (f: string) => `steps[${i}].${f}`;
    const bytes = parseQuantity(step.bytes);
    if (bytes === undefined || bytes <= 0) throw new CostStepError(`${at("bytes")}: ${JSON.stringify(step.bytes)} is not a positive size`);
    for (const end of ["from", "to"] as const) {
      const id = step[end];
      const n = this.graph.nodes.get(id);
      if (id !== "ram" && (!n || n.kind !== "endpoint")) throw new CostStepError(`${at(end)}: ${JSON.stringify(id)} is not "ram" or an endpoint of topology "${this.fabric.name}"`);
    }
    if (step.from === step.to) throw new CostStepError(`${at("to")}: ${JSON.stringify(step.to)} is also the source`);
    const pageBytes = GRANULARITY[step.granularity ?? "4KiB"];
    const ram = step.from === "ram" || step.to === "ram";
    if (ram && step.design !== "migrate") throw new CostStepError(`${at("design")}: ${JSON.stringify(step.design)} needs two devices (RAM to a device is "migrate")`);
    const start = this.ledger.now;
    this.stepStart = start;
    let t = start;
    const out: Record<string, unknown> = { design: step.design, from: step.from, to: step.to, bytes };
    if (step.design === "p2p") {
      const via = pathBetween(this.graph, step.from, step.to, "read");
      const nvlink = via.klass.startsWith("NV");
      out.class = via.klass;
      if (!nvlink) {
        // pci_p2pdma_map_type(provider = the memory's owner, client = the reader) (drivers/pci/p2pdma.c).
        const mt = p2pdmaMapType(this.fabric, step.from, step.to);
        out.mapType = mt.mapType;
        if (mt.mapType === "NOT_SUPPORTED") throw new CostStepError(`${at("design")}: "p2p" is not supported between ${step.from} and ${step.to} (P2PDMA map type NOT_SUPPORTED)`);
        t = this.ledger.op(step.to, "peer map", peerMapNs(this.calibration, 1), t);
        // Through the host bridge the peer pages are mapped by the IOMMU; by bus address they are not
        // (reference/p2pdma.md: pci_p2pdma_map_segment vs dma_map_sgtable).
        if (mt.mapType === "THRU_HOST_BRIDGE" && iommuTranslates(this.graph, step.to)) {
          const m = dmaMapNs(this.calibration, Math.ceil(bytes / pageBytes), true);
          t = this.ledger.op(step.to, "dma map", m.map + m.unmap, t);
        }
      }
      const sim = this.ledger.transfers([{ path: via, bytes, label: "p2p read" }], t);
      t += sim.makespanNs;
      out.linkBytes = linkBytes(this.graph, sim);
    } else if (step.design === "bounce") {
      const host = `host:${this.graph.numaOf(step.from)}`;
      // Pipelined: the owner pushes into a pinned RAM buffer while the reader pulls (nccl #1086).
      const sim = this.ledger.transfers([
        { path: pathBetween(this.graph, step.from, host, "write", "pcie"), bytes, label: "bounce D2H" },
        { path: pathBetween(this.graph, host, step.to, "read", "pcie"), bytes, label: "bounce H2D" },
      ], t);
      t += sim.makespanNs;
      out.linkBytes = linkBytes(this.graph, sim);
    } else {
      const before = this.ledger.bytesPerLink();
      if (step.from !== "ram") t = this.migration(step.from, migrationCost(this.graph, { device: step.from, direction: "toRam", bytes, pageBytes, remoteCpus: this.remoteCpus }), t);
      if (step.to !== "ram") {
        // Stock HMM: the reader gets the pages in RAM; a device reader pulls them over its links.
        if (step.from !== "ram") {
          const sim = this.ledger.transfers([{ path: pathBetween(this.graph, `host:${this.graph.numaOf(step.from)}`, step.to, "read", "pcie"), bytes, label: "read RAM" }], t);
          t += sim.makespanNs;
        } else t = this.migration(step.to, migrationCost(this.graph, { device: step.to, direction: "toDevice", bytes, pageBytes, remoteCpus: this.remoteCpus }), t);
      }
      const after = this.ledger.bytesPerLink();
      const diff: Record<string, number> = {};
      for (const [k, v] of Object.entries(after)) if (v !== (before[k] ?? 0)) diff[k] = v - (before[k] ?? 0);
      out.linkBytes = diff;
    }
    const ns = this.finish(i, "transfer", t);
    out.ns = ns;
    out.gbps = bytes / ns;
    return out;
  }

  /** Run-level counters to merge into the RunResult. */
  counters(): CostCounters {
    return {
      bytesMoved: this.ledger.bytesPerLink(), links: this.ledger.linkUse(), opLatency: this.ledger.ops.toJSON(),
      stepTimesNs: this.stepTimes, calibration: this.calibration.name,
    };
  }

  get simTimeNs(): number {
    return this.ledger.now;
  }

  /** A migration's parts in order on the device's track, the copy over the links. */
  private migration(device: string, m: MigrationCost, t: number): number {
    const L = this.ledger;
    const args = { pages: m.pages, calls: m.calls };
    t = L.op(device, "device fault", m.parts.fault, t);
    t = L.op(device, "migrate_vma_setup", m.parts.setup + m.parts.pages, t, args);
    t = L.op(device, "dma map", m.parts.dmaMap, t);
    const copyStart = t;
    L.transfers([{ path: m.path, bytes: m.bytes, label: m.path.kind === "write" ? "DMA to RAM" : "DMA from RAM" }], copyStart);
    t = L.op(device, "migrate copy", m.parts.copy, copyStart, { bytes: m.bytes });
    t = L.op(CPU_TRACK, "tlb flush", m.parts.flush, t, { ipis: m.ipis });
    t = L.op(CPU_TRACK, "mmu notifier", m.parts.notifier, t);
    return L.op(device, "migrate_vma_finalize", m.parts.finalize, t);
  }

  /** peerMap: the map-type lookup, then an IOMMU mapping for pages not reached by bus address
   *  (`paths` of the step's result, DESIGN §4); peerUnmap: the unmapping of the range. */
  private peerMapping(op: "peerMap" | "peerUnmap", track: string, t: number, pages: number, result: unknown): number {
    const cal = this.calibration;
    if (!iommuTranslates(this.graph, track)) return op === "peerMap" ? this.ledger.op(track, "peer map", peerMapNs(cal, 1), t) : t;
    if (op === "peerUnmap") return this.ledger.op(track, "dma unmap", dmaMapNs(cal, pages, true).unmap, t, { pages });
    const paths = (result as { paths?: Record<string, number> } | undefined)?.paths;
    const mapped = paths ? (paths.THRU_HOST_BRIDGE ?? 0) + (paths.SYSTEM ?? 0) : pages;
    t = this.ledger.op(track, "peer map", peerMapNs(cal, 1), t);
    return this.ledger.op(track, "dma map", dmaMapNs(cal, mapped, true).map, t, { pages: mapped });
  }

  private finish(i: number, op: string, end: number): number {
    const t = Math.max(end, this.ledger.now);
    const ns = t - this.stepStart;
    this.stepTimes.push(ns);
    this.ledger.mark("steps", op, this.stepStart, t, { step: i });
    this.ledger.now = t;
    return ns;
  }
}

function linkBytes(g: LinkGraph, sim: SimResult): Record<string, number> {
  const out: Record<string, number> = {};
  sim.links.forEach((l, i) => {
    const b = l.bytes[0] + l.bytes[1];
    if (b > 0) out[g.links[i].id] = b;
  });
  return out;
}
