// Models: the time and link traffic of a scenario run (DESIGN §1 step 7): what a step made the
// machine do (its effects: faults, notifier callbacks, copies by DMA engines and devices) becomes
// operations on the run's clock, with copies run over the machine's real links; each step kind
// adds its own operation (a snapshot walk, a TLB flush, a peer mapping); plus the cost-only
// `transfer` step that prices one design (p2p, bounce, migrate) of moving bytes between two ends.
// Leaves out: fork's COW write-protect flush, and pages migrated without a copy (zero-filled).
import type { Fabric } from "../fabric/types.js";
import { p2pdmaMapType } from "../fabric/p2pdma.js";
import { param, type Calibration } from "../sim/calibration.js";
import { cpuFaultNs, deviceFaultNs, dmaMapNs, peerMapNs, snapshotNs, tlbFlushNs } from "../sim/hmm-costs.js";
import { CostLedger, type LinkDirectionUse } from "../sim/ledger.js";
import { iommuTranslates, migrationCost, type MigrationCost } from "../sim/migration.js";
import { buildLinkGraph, pathBetween, type LinkGraph } from "../sim/paths.js";
import type { SimResult, Transfer } from "../sim/simulate.js";
import { parseQuantity } from "../units/size.js";
import type { StepEffects } from "./effects.js";
import type { PeerMapStepResult, TransferStepResult } from "./results.js";
import type { StepOf } from "./schema.js";
import { StepError } from "./step-error.js";

/** Track of CPU-side work (faults, notifier callbacks, TLB flushes) in the trace. */
export const CPU_TRACK = "cpu";

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

/** The cost side of one run: owned by the run, charged after every step from its effects. */
export class RunCosts {
  readonly graph: LinkGraph;
  readonly ledger: CostLedger;
  private readonly stepTimes: number[] = [];
  private stepStart = 0;
  /** The running step's clock: where its next operation starts. */
  private t = 0;
  private readonly remoteCpus = true;

  constructor(readonly fabric: Fabric, readonly calibration: Calibration) {
    this.graph = buildLinkGraph(fabric, calibration);
    this.ledger = new CostLedger(this.graph);
  }

  /** Call before a step runs. */
  begin(): void {
    this.stepStart = this.ledger.now;
    this.t = this.stepStart;
  }

  /** The trace track of a step's device (unknown ids go to the CPU track). */
  track(device: string | undefined): string {
    return device !== undefined && this.graph.nodes.has(device) ? device : CPU_TRACK;
  }

  /**
   * Call after a step ran: its faults, then `own` (the step's own operation, for a step that
   * succeeded), its notifier callbacks and its copies go on the clock; returns the step's time.
   */
  end(i: number, op: string, device: string | undefined, effects: StepEffects, own?: () => void): number {
    const cal = this.calibration;
    const track = this.track(device);
    if (effects.cpuFaults > 0) this.op(CPU_TRACK, "cpu fault", cpuFaultNs(cal, effects.cpuFaults), { faults: effects.cpuFaults });
    if (effects.remoteFaults > 0) {
      const f = deviceFaultNs(cal, effects.remoteFaults);
      this.op(track, "device fault", f.ns, { faults: effects.remoteFaults, batches: f.batches });
    }
    own?.();
    if (effects.invalidations > 0) {
      const each = param(cal, "notifierCallbackNs") + param(cal, "deviceTlbInvalidateNs");
      this.op(CPU_TRACK, "mmu notifier", effects.invalidations * each, { callbacks: effects.invalidations });
    }
    for (const c of effects.copies) {
      if (c.from === "ram" || c.to === "ram") {
        // A copy between RAM and a device is priced as a migration of its pages: asked for (one
        // migrate_vma over the range) or caused by faults and accesses (fault-driven).
        const device = c.from === "ram" ? c.to : c.from;
        const m = migrationCost(this.graph, {
          device, direction: c.from === "ram" ? "toDevice" : "toRam", bytes: c.bytes, remoteCpus: this.remoteCpus,
          mode: c.cause === "migrate" ? "prefetch" : "fault", chargeFaults: false,
        });
        this.migration(device, m);
      } else {
        const initiator = device === c.to ? c.to : c.from;
        this.run([{ path: pathBetween(this.graph, c.from, c.to, initiator === c.from ? "write" : "read"), bytes: c.bytes, label: "dma copy" }]);
      }
    }
    return this.finish(i, op);
  }

  /** A device's walk of the CPU page tables (hmm_range_fault) over `pages` pages. */
  snapshotWalk(device: string, pages: number): void {
    this.op(this.track(device), "snapshot", snapshotNs(this.calibration, pages), { pages });
  }

  /** The CPU TLB flush after a range of `pages` pages changed (munmap, mprotect). */
  tlbFlush(pages: number): void {
    const f = tlbFlushNs(this.calibration, pages, this.remoteCpus);
    this.op(CPU_TRACK, "tlb flush", f.ns, { pages, ipis: f.ipis });
  }

  /** peerMap: the map-type lookup, then an IOMMU mapping for pages not reached by bus address
   *  (`paths` of the step's result, DESIGN §4). */
  peerMapping(device: string, result: PeerMapStepResult): void {
    const track = this.track(device);
    this.op(track, "peer map", peerMapNs(this.calibration, 1));
    if (!iommuTranslates(this.graph, track)) return;
    const mapped = result.paths.THRU_HOST_BRIDGE + result.paths.SYSTEM;
    this.op(track, "dma map", dmaMapNs(this.calibration, mapped, true).map, { pages: mapped });
  }

  /** peerUnmap: the IOMMU unmapping of the range. */
  peerUnmapping(device: string, pages: number): void {
    const track = this.track(device);
    if (iommuTranslates(this.graph, track)) this.op(track, "dma unmap", dmaMapNs(this.calibration, pages, true).unmap, { pages });
  }

  /** The cost-only `transfer` step: prices one design on the step's clock and returns its result. */
  transfer(step: StepOf<"transfer">, at: (field: string) => string): TransferStepResult {
    const bytes = parseQuantity(step.bytes);
    if (bytes === undefined || bytes <= 0) throw new StepError(`${at("bytes")}: ${JSON.stringify(step.bytes)} is not a positive size`);
    for (const end of ["from", "to"] as const) {
      const id = step[end];
      const n = this.graph.nodes.get(id);
      if (id !== "ram" && (!n || n.kind !== "endpoint")) throw new StepError(`${at(end)}: ${JSON.stringify(id)} is not "ram" or an endpoint of topology "${this.fabric.name}"`);
    }
    if (step.from === step.to) throw new StepError(`${at("to")}: ${JSON.stringify(step.to)} is also the source`);
    const pageBytes = GRANULARITY[step.granularity ?? "4KiB"];
    const ram = step.from === "ram" || step.to === "ram";
    if (ram && step.design !== "migrate") throw new StepError(`${at("design")}: ${JSON.stringify(step.design)} needs two devices (RAM to a device is "migrate")`);
    const out: TransferStepResult = { design: step.design, from: step.from, to: step.to, bytes, ns: 0, gbps: 0, linkBytes: {} };
    const before = this.ledger.bytesPerLink();
    if (step.design === "p2p") this.p2pTransfer(step.from, step.to, bytes, pageBytes, out, at);
    else if (step.design === "bounce") {
      const host = `host:${this.graph.numaOf(step.from)}`;
      // Pipelined: the owner pushes into a pinned RAM buffer while the reader pulls (nccl #1086).
      this.run([
        { path: pathBetween(this.graph, step.from, host, "write", "pcie"), bytes, label: "bounce D2H" },
        { path: pathBetween(this.graph, host, step.to, "read", "pcie"), bytes, label: "bounce H2D" },
      ]);
    } else {
      const opts = { bytes, pageBytes, remoteCpus: this.remoteCpus };
      if (step.from !== "ram") this.migration(step.from, migrationCost(this.graph, { device: step.from, direction: "toRam", ...opts }));
      if (step.to !== "ram" && step.from !== "ram") {
        // Stock HMM: the reader gets the pages in RAM; a device reader pulls them over its links.
        this.run([{ path: pathBetween(this.graph, `host:${this.graph.numaOf(step.from)}`, step.to, "read", "pcie"), bytes, label: "read RAM" }]);
      } else if (step.to !== "ram") this.migration(step.to, migrationCost(this.graph, { device: step.to, direction: "toDevice", ...opts }));
    }
    const after = this.ledger.bytesPerLink();
    for (const [k, v] of Object.entries(after)) if (v !== (before[k] ?? 0)) out.linkBytes[k] = v - (before[k] ?? 0);
    out.ns = Math.max(this.t, this.ledger.now) - this.stepStart;
    out.gbps = bytes / out.ns;
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

  /** The reader `to` peer-maps `from`'s memory and reads it: over NVLink, or over PCIe when the
   *  P2PDMA map type allows (pci_p2pdma_map_type(provider = the owner, client = the reader)). */
  private p2pTransfer(from: string, to: string, bytes: number, pageBytes: number, out: TransferStepResult, at: (field: string) => string): void {
    const via = pathBetween(this.graph, from, to, "read");
    out.class = via.topoClass;
    if (!via.topoClass.startsWith("NV")) {
      const mt = p2pdmaMapType(this.fabric, from, to);
      out.mapType = mt.mapType;
      if (mt.mapType === "NOT_SUPPORTED") throw new StepError(`${at("design")}: "p2p" is not supported between ${from} and ${to} (P2PDMA map type NOT_SUPPORTED)`);
      this.op(to, "peer map", peerMapNs(this.calibration, 1));
      // Through the host bridge the peer pages are mapped by the IOMMU; by bus address they are not
      // (reference/p2pdma.md: pci_p2pdma_map_segment vs dma_map_sgtable).
      if (mt.mapType === "THRU_HOST_BRIDGE" && iommuTranslates(this.graph, to)) {
        const m = dmaMapNs(this.calibration, Math.ceil(bytes / pageBytes), true);
        this.op(to, "dma map", m.map + m.unmap);
      }
    }
    this.run([{ path: via, bytes, label: "p2p read" }]);
  }

  /** One operation of `ns` on `track` at the step's clock. */
  private op(track: string, name: string, ns: number, args?: Record<string, string | number>): void {
    this.t = this.ledger.op(track, name, ns, this.t, args);
  }

  /** Concurrent transfers from the step's clock, run on the links until the last one ends. */
  private run(transfers: Transfer[]): SimResult {
    const sim = this.ledger.transfers(transfers, this.t);
    this.t += sim.makespanNs;
    return sim;
  }

  /** A migration's parts in order on the device's track, the copy over the links. */
  private migration(device: string, m: MigrationCost): void {
    const args = { pages: m.pages, calls: m.calls };
    this.op(device, "device fault", m.parts.fault);
    this.op(device, "migrate_vma_setup", m.parts.setup + m.parts.pages, args);
    this.op(device, "dma map", m.parts.dmaMap);
    // The copy's bytes go over the links from here; its time is the migration's copy part.
    this.ledger.transfers([{ path: m.path, bytes: m.bytes, label: m.path.kind === "write" ? "DMA to RAM" : "DMA from RAM" }], this.t);
    this.op(device, "migrate copy", m.parts.copy, { bytes: m.bytes });
    this.op(CPU_TRACK, "tlb flush", m.parts.flush, { ipis: m.ipis });
    this.op(CPU_TRACK, "mmu notifier", m.parts.notifier);
    this.op(device, "migrate_vma_finalize", m.parts.finalize);
  }

  private finish(i: number, op: string): number {
    const t = Math.max(this.t, this.ledger.now);
    const ns = t - this.stepStart;
    this.stepTimes.push(ns);
    this.ledger.mark("steps", op, this.stepStart, t, { step: i });
    this.ledger.now = t;
    return ns;
  }
}
