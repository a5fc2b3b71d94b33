// Models: the time and link traffic of a scenario run (DESIGN §1 step 7): what a step made the
// machine do (its effects: faults, notifier callbacks, copies by DMA engines and devices) becomes
// operations on the run's clock, with copies run over the machine's resources; each step kind adds
// its own operation (a snapshot walk, a TLB flush, a peer mapping); plus the cost-only `transfer`
// step that prices one design (dma, p2p, bounce, migrate) of moving bytes between two ends, and the
// `parallel` step whose transfers start together and share the machine.
// Leaves out: fork's COW write-protect flush, and pages migrated without a copy (zero-filled).
import type { KernelCosts } from "../drivers/kernel.js";
import { findNode } from "../fabric/build.js";
import type { Fabric } from "../fabric/types.js";
import { param, type Calibration } from "../sim/calibration.js";
import { costTransfer, DesignRefused, planDesign, type DesignPlan, type DesignRequest } from "../sim/designs.js";
import { cpuFaultNs, deviceFaultNs, dmaMapNs, otherCpus, peerMapNs, snapshotNs, tlbFlushNs } from "../sim/hmm-costs.js";
import { CostLedger, type LinkDirectionUse } from "../sim/ledger.js";
import { buildLinkGraph, type LinkGraph } from "../sim/link-graph.js";
import { migrationCost, type MigrationCost } from "../sim/migration.js";
import { iommuTranslates, pathBetween } from "../sim/paths.js";
import type { SimResult, Transfer } from "../sim/simulate.js";
import { InputError } from "../units/input-error.js";
import { parseQuantity } from "../units/size.js";
import type { CopyEffect, StepEffects } from "./effects.js";
import type { ParallelStepResult, PeerMapStepResult, TransferStepResult } from "./results.js";
import type { StepOf } from "./schema.js";
import { StepError } from "./step-error.js";

/** Track of CPU-side work (faults, notifier callbacks, TLB flushes) in the trace. */
export const CPU_TRACK = "cpu";

const GRANULARITY: Record<string, number> = { "4KiB": 4096, "64KiB": 65536, "2MiB": 2 * 1024 * 1024 };

type TransferSpec = StepOf<"transfer">;

/** GB/s of a device's DMA within its own memory (HBM/GDDR order of magnitude; not a measured figure). */
const DEVICE_LOCAL_GBPS = 1000;

/** Link graphs by machine and calibration: both are read-only to a run, so runs on one machine share its graph (and the routes it caches). */
const graphs = new WeakMap<Fabric, WeakMap<Calibration, LinkGraph>>();

function linkGraphOf(fabric: Fabric, calibration: Calibration): LinkGraph {
  let byCal = graphs.get(fabric);
  if (!byCal) graphs.set(fabric, (byCal = new WeakMap()));
  let g = byCal.get(calibration);
  if (!g) byCal.set(calibration, (g = buildLinkGraph(fabric, calibration)));
  return g;
}

/** The run-level cost counters added to DESIGN §4's. */
export interface CostCounters {
  /** Payload bytes per real link (link ids of sim/link-graph.ts). */
  bytesMoved: Record<string, number>;
  /** Bytes and busy time per link direction. */
  links: Record<string, Record<string, LinkDirectionUse>>;
  /** Latency summary per operation name. */
  opLatency: Record<string, { count: number; meanNs: number; p50Ns: number; p99Ns: number; maxNs: number }>;
  /** Simulated time of each step, ns. */
  stepTimesNs: number[];
  /** The calibration, with the platform profile the machine matched ("default+sapphire-rapids"). */
  calibration: string;
}

/** The cost side of one run: owned by the run, charged after every step from its effects. */
export class RunCosts implements KernelCosts {
  readonly graph: LinkGraph;
  readonly ledger: CostLedger;
  /** The run's parameters for this machine (its platform profile applied). */
  readonly calibration: Calibration;
  private readonly stepTimes: number[] = [];
  private stepStart = 0;
  /** The running step's clock: where its next operation starts. */
  private t = 0;

  constructor(readonly fabric: Fabric, calibration: Calibration) {
    this.graph = linkGraphOf(fabric, calibration);
    this.calibration = this.graph.calibration;
    this.ledger = new CostLedger(this.graph);
  }

  /** Call before a step's costs are charged: they start at `startNs` (default: when the run's last charge ended). */
  begin(startNs = this.ledger.now): void {
    this.stepStart = startNs;
    this.t = startNs;
  }

  /** The trace track of a step's device (unknown ids go to the CPU track). */
  track(device: string | undefined): string {
    return device !== undefined && this.graph.nodes.has(device) ? device : CPU_TRACK;
  }

  /**
   * Call after a step ran: its faults, then `own` (the step's own operation, for a step that
   * succeeded), its notifier callbacks, their waits for DMA in flight and its copies go on the clock;
   * returns the step's time.
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
    // Callbacks that slept on DMA in flight held the step up until the DMA ended. The kernel model
    // measures the wait from the step's start; the DMA ran on while the step's work before the
    // callbacks (faults, its own operation, the notifier round) did, so only the rest is waited.
    // Simplification: every callback runs after all of that work (the notifier round is one span).
    const waited = effects.fenceWaitNs - (this.t - this.stepStart);
    if (waited > 0) this.op(CPU_TRACK, "dma fence wait", waited, { fenceNs: effects.fenceWaitNs });
    this.copies(effects.copies, device);
    return this.finish(i, op);
  }

  /**
   * Copies that a step's async DMA made after the step itself was charged: priced on the machine's
   * resources from `startNs`, without changing the step's own time.
   */
  lateCopies(device: string | undefined, copies: readonly CopyEffect[], startNs: number): void {
    const stepStart = this.stepStart;
    const t = this.t;
    this.t = startNs;
    this.copies(copies, device);
    this.stepStart = stepStart;
    this.t = t;
  }

  private copies(list: readonly CopyEffect[], device: string | undefined): void {
    for (const c of list) {
      if (c.from === "ram" || c.to === "ram") {
        // A copy between RAM and a device is priced as a migration of its pages (of the size that
        // moved: a THP is one page): asked for (one migrate_vma over the range) or caused by faults
        // and accesses (fault-driven).
        const dev = c.from === "ram" ? c.to : c.from;
        const m = migrationCost(this.graph, {
          device: dev, direction: c.from === "ram" ? "toDevice" : "toRam", bytes: c.bytes, pageBytes: c.pageBytes,
          mode: c.cause === "migrate" ? "prefetch" : "fault", chargeFaults: false,
        });
        this.migration(dev, m);
      } else {
        const initiator = device === c.to ? c.to : c.from;
        this.run([{ path: pathBetween(this.graph, c.from, c.to, initiator === c.from ? "write" : "read"), bytes: c.bytes, label: "dma copy" }]);
      }
    }
  }

  /** One hmm_range_fault of `pages` pages taking `faults` device faults, ns (the time a driver waits in it). */
  rangeFaultNs(_device: string, pages: number, faults: number): number {
    return snapshotNs(this.calibration, pages) + (faults > 0 ? deviceFaultNs(this.calibration, faults).ns : 0);
  }

  /** A DMA of `bytes` by `device` to (`write`) or from `memory` ("ram": its NUMA node's), ns: the path's transfer time. */
  dmaNs(device: string, memory: string, bytes: number, write: boolean): number {
    // Simplification: a device's DMA into its own memory runs at DEVICE_LOCAL_GBPS (no local-memory model).
    if (memory === device) return bytes / DEVICE_LOCAL_GBPS;
    const far = memory === "ram" ? `host:${this.graph.numaOf(device)}` : memory;
    const path = write ? pathBetween(this.graph, device, far, "write") : pathBetween(this.graph, far, device, "read");
    return costTransfer(this.graph, path, bytes).ns;
  }

  /** A device's walk of the CPU page tables (hmm_range_fault) over `pages` pages. */
  snapshotWalk(device: string, pages: number): void {
    this.op(this.track(device), "snapshot", snapshotNs(this.calibration, pages), { pages });
  }

  /** The CPU TLB flush after a range of `pages` pages changed (munmap, mprotect). */
  tlbFlush(pages: number): void {
    const f = tlbFlushNs(this.calibration, pages, otherCpus(this.calibration));
    this.op(CPU_TRACK, "tlb flush", f.ns, { pages, ipis: f.ipis });
  }

  /** peerMap: the map-type lookup and a device page-table entry per page mapped, then an IOMMU
   *  mapping for pages not reached by bus address (`paths` of the step's result, DESIGN §4). */
  peerMapping(device: string, result: PeerMapStepResult): void {
    const track = this.track(device);
    // The map-type lookup once, then one device page-table entry per page mapped.
    this.op(track, "peer map", peerMapNs(this.calibration, 1, result.cpages), { pages: result.cpages });
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
  transfer(step: TransferSpec, at: (field: string) => string): TransferStepResult {
    const { plan, bytes } = this.plan(step, at);
    const sim = this.run(plan.flows);
    return this.result(step, plan, sim, 0, plan.flows.length, bytes);
  }

  /** The `parallel` step: every transfer starts at once and they share the machine's resources. */
  parallel(step: StepOf<"parallel">, at: (field: string) => string): ParallelStepResult {
    const flows: Transfer[] = [];
    const spans: { plan: DesignPlan; first: number; bytes: number }[] = [];
    step.steps.forEach((s, j) => {
      const inner = (field: string) => at(`steps[${j}].${field}`);
      const { plan, bytes } = this.plan(s, inner);
      const first = flows.length;
      for (const f of plan.flows) flows.push(f.after === undefined ? f : { ...f, after: f.after + first });
      spans.push({ plan, first, bytes });
    });
    const sim = this.run(flows);
    const transfers = step.steps.map((s, j) => this.result(s, spans[j].plan, sim, spans[j].first, spans[j].plan.flows.length, spans[j].bytes));
    const bytes = spans.reduce((sum, x) => sum + x.bytes, 0);
    return { ns: sim.makespanNs, gbps: bytes / sim.makespanNs, transfers };
  }

  /** Run-level counters to merge into the RunResult. */
  counters(): CostCounters {
    const name = this.calibration.platform ? `${this.calibration.name}+${this.calibration.platform}` : this.calibration.name;
    return {
      bytesMoved: this.ledger.bytesPerLink(), links: this.ledger.linkUse(), opLatency: this.ledger.ops.toJSON(),
      stepTimesNs: this.stepTimes, calibration: name,
    };
  }

  get simTimeNs(): number {
    return this.ledger.now;
  }

  /** A transfer step as a design request: sizes parsed, ends checked, "ram" / "ram:N" resolved to a
   *  NUMA node's memory (plain "ram" is the other end's own node). */
  private request(step: TransferSpec, at: (field: string) => string): DesignRequest {
    const bytes = parseQuantity(step.bytes);
    if (bytes === undefined || bytes <= 0) throw new StepError(`${at("bytes")}: ${JSON.stringify(step.bytes)} is not a positive size`);
    const ram = (id: string) => /^ram(:\d+)?$/.test(id);
    // An end is "ram", "ram:N", or an endpoint named by id, PCI address or its short form (DESIGN §4).
    const endpoint = (end: "from" | "to"): string => {
      const id = step[end];
      if (ram(id)) return id;
      let n;
      try {
        n = findNode(this.fabric, id);
      } catch (e) {
        if (e instanceof InputError) throw new StepError(`${at(end)}: ${e.message.replace(/^.*?: /, "")}`);
        throw e;
      }
      if (!n || n.kind !== "endpoint") {
        throw new StepError(`${at(end)}: ${JSON.stringify(id)} is not "ram" or an endpoint of topology "${this.fabric.name}" (RAM of NUMA node N is "ram:N")`);
      }
      return n.id;
    };
    step = { ...step, from: endpoint("from"), to: endpoint("to") };
    if (step.from === step.to) throw new StepError(`${at("to")}: ${JSON.stringify(step.to)} is also the source`);
    if (ram(step.from) && ram(step.to)) throw new StepError(`${at("to")}: ${JSON.stringify(step.to)}: a copy between two RAM ends is not a device transfer`);
    for (const [field, design] of [["via", "p2p"], ["rule", "p2p"], ["mode", "migrate"]] as const) {
      if (step[field] !== undefined && step.design !== design) throw new StepError(`${at(field)}: ${JSON.stringify(step[field])} applies to design "${design}", not "${step.design}"`);
    }
    const host = (id: string, other: string) => {
      if (!ram(id)) return id;
      const node = id.includes(":") ? Number(id.slice(4)) : this.graph.numaOf(other);
      if (!this.graph.memory.has(node)) throw new StepError(`${at(id === step.from ? "from" : "to")}: ${JSON.stringify(id)}: topology "${this.fabric.name}" has no NUMA node ${node}`);
      return `host:${node}`;
    };
    return {
      design: step.design, from: host(step.from, step.to), to: host(step.to, step.from), bytes,
      via: step.via, rule: step.rule, mode: step.mode, pageBytes: GRANULARITY[step.granularity ?? "4KiB"],
    };
  }

  /** The design's flows; a refusal or a path the machine lacks is the step's error. */
  private plan(step: TransferSpec, at: (field: string) => string): { plan: DesignPlan; bytes: number } {
    const request = this.request(step, at);
    try {
      return { plan: planDesign(this.graph, request), bytes: request.bytes };
    } catch (e) {
      if (e instanceof DesignRefused) throw new StepError(`${at("design")}: ${e.message}`);
      if (e instanceof InputError) throw new StepError(`${at(e.field)}${e.message.slice(e.field.length)}`);
      throw e;
    }
  }

  /** One transfer's result from its flows [first, first + count) of a simulation. */
  private result(step: TransferSpec, plan: DesignPlan, sim: SimResult, first: number, count: number, bytes: number): TransferStepResult {
    let ns = 0;
    const linkBytes: Record<string, number> = {};
    const nLinkRes = this.graph.links.length * 2;
    for (let f = first; f < first + count; f++) {
      ns = Math.max(ns, sim.endNs[f]);
      const flow = plan.flows[f - first];
      flow.path.resources.forEach((r, k) => {
        if (r >= nLinkRes || flow.path.shares[k] === 0) return;
        const id = this.graph.links[r >> 1].id;
        linkBytes[id] = (linkBytes[id] ?? 0) + flow.bytes * flow.path.shares[k];
      });
    }
    const out: TransferStepResult = { design: step.design, from: step.from, to: step.to, bytes, ns, gbps: bytes / ns, linkBytes, interconnect: plan.interconnect === "nvlink" ? "nvlink" : "pcie", fixedNs: plan.fixedNs };
    if (plan.topoClass) out.class = plan.topoClass;
    if (plan.mapType) out.mapType = plan.mapType;
    return out;
  }

  /** One operation of `ns` on `track` at the step's clock. */
  private op(track: string, name: string, ns: number, args?: Record<string, string | number>): void {
    this.t = this.ledger.op(track, name, ns, this.t, args);
  }

  /** Concurrent transfers from the step's clock, run on the machine until the last one ends. */
  private run(transfers: Transfer[]): SimResult {
    const sim = this.ledger.transfers(transfers, this.t);
    this.t += sim.makespanNs;
    return sim;
  }

  /** A migration's parts in order on the device's track, the copy over the machine's resources. */
  private migration(device: string, m: MigrationCost): void {
    const args = { pages: m.pages, calls: m.calls };
    this.op(device, "device fault", m.parts.fault);
    this.op(device, "migrate_vma_setup", m.parts.setup + m.parts.pages, args);
    this.op(device, "dma map", m.parts.dmaMap);
    // The copy runs on the links; a fault-driven or batched copy pays the path latency once per batch.
    const perBatchLatency = m.parts.copy - m.bytes / m.rateGBps;
    this.run([{ path: m.path, bytes: m.bytes, tailNs: Math.max(0, perBatchLatency - m.path.latencyNs), label: "migrate copy" }]);
    this.op(CPU_TRACK, "tlb flush", m.parts.flush, { ipis: m.ipis });
    this.op(CPU_TRACK, "mmu notifier", m.parts.notifier);
    this.op(device, "migrate_vma_finalize", m.parts.finalize);
  }

  private finish(i: number, op: string): number {
    const ns = this.t - this.stepStart;
    this.stepTimes[i] = ns;
    this.ledger.mark("steps", op, this.stepStart, this.t, { step: i });
    return ns;
  }
}
