// Models: running a scenario (DESIGN §4): the machine (memory, one dmirror driver per ZONE_DEVICE
// endpoint), named processes with named buffers, and each step as the kernel operation or dmirror
// ioctl it stands for. A failing step records its error (errno name first, as the kernel would
// return it) and leaves state as the kernel would; later steps still run.
// Time and link traffic come from the run's cost ledger (costs.ts), fed after every step.
// P2P steps and `p2p: true` run through the machine's P2P layer (p2p-steps.ts, issue 5).
// Leaves out: P2P on a run without a topology (devices alone): those steps fail.
import { Mm } from "../memory/address-space.js";
import { cpuAccess } from "../memory/cpu-access.js";
import { errnoName } from "../memory/errno.js";
import { forkMm } from "../memory/fork.js";
import { Memory } from "../memory/memory.js";
import { MappedFile, PMD_ORDER, PROT_NONE, PROT_READ, PROT_WRITE, PUD_ORDER } from "../memory/vma.js";
import { DmirrorCmd, DmirrorDevice } from "../devices/dmirror.js";
import type { DeviceSpec } from "../devices/device.js";
import { hex, PAGE_SIZE } from "../units/size.js";
import type { ScenarioSpec, StepSpec } from "./schema.js";
import type { Fabric } from "../fabric/types.js";
import type { Calibration } from "../sim/calibration.js";
import { CostStepError, noCostCounters, RunCosts, resolveCalibration, type CostCounters } from "./costs.js";
import { resolveTopology } from "./topology.js";
import { formatSnapshot } from "./snapshot-format.js";
import { P2pMachine } from "../devices/p2p-system.js";
import { execP2pStep } from "./p2p-steps.js";

export interface StepResult {
  op: string;
  ok: boolean;
  result?: unknown;
  error?: string;
}

export interface RunViolation {
  step: number;
  device: string;
  address: string;
  reason: string;
}

export interface RunResult {
  steps: StepResult[];
  counters: {
    faults: number;
    invalidations: number;
    migrations: number;
    peerMaps: number;
    peerUnmaps: number;
  } & CostCounters;
  violations: RunViolation[];
  /** The run's simulated time (the cost ledger's clock), ns. */
  simTimeNs: number;
}

interface Buffer {
  start: number;
  pages: number;
}

interface Process {
  mm: Mm;
  buffers: Map<string, Buffer>;
}

/** A step that failed: the message is the step's `error`. */
class StepError extends Error {}

const PROTS: Record<string, number> = { none: PROT_NONE, r: PROT_READ, rw: PROT_READ | PROT_WRITE };

export class ScenarioRun {
  readonly mem = new Memory();
  readonly devices = new Map<string, DmirrorDevice>();
  readonly processes = new Map<string, Process>();
  private readonly files = new Map<string, MappedFile>();
  private fileSerial = 0;
  private p2pMachine: P2pMachine | null = null;

  /** Without `costs` (devices with no machine around them) the run keeps no time or link counters. */
  constructor(devices: DeviceSpec[], readonly costs?: RunCosts) {
    for (const spec of devices) this.devices.set(spec.id, new DmirrorDevice(this.mem, spec));
    this.processes.set("main", { mm: new Mm(this.mem, "main"), buffers: new Map() });
  }

  /** Runs every step in order. */
  run(steps: StepSpec[]): RunResult {
    const results: StepResult[] = [];
    const violations: RunViolation[] = [];
    steps.forEach((step, i) => {
      const seen = this.mem.counters.violations.length;
      this.costs?.begin(this.mem.counters);
      const r = this.step(step, i);
      results.push(r);
      if (step.op !== "transfer") this.costs?.end(i, step, r, this.mem.counters, this.rangePages(step));
      for (const v of this.mem.counters.violations.slice(seen)) violations.push({ step: i, ...v });
    });
    const c = this.mem.counters;
    return {
      steps: results,
      counters: {
        faults: c.faults, invalidations: c.invalidations, migrations: c.migrations,
        peerMaps: this.p2pMachine?.counters.peerMaps ?? 0, peerUnmaps: this.p2pMachine?.counters.peerUnmaps ?? 0, ...(this.costs?.counters() ?? noCostCounters()),
      },
      violations,
      simTimeNs: this.costs?.simTimeNs ?? 0,
    };
  }

  /** Runs one step; errors become the step's result, never exceptions. */
  step(step: StepSpec, i: number): StepResult {
    try {
      const result = this.exec(step, i);
      return result === undefined ? { op: step.op, ok: true } : { op: step.op, ok: true, result };
    } catch (e) {
      if (e instanceof StepError || e instanceof CostStepError) return { op: step.op, ok: false, error: e.message };
      throw e;
    }
  }

  private exec(step: StepSpec, i: number): unknown {
    if (step.op === "transfer") {
      if (!this.costs) throw new StepError(`steps[${i}].op: "transfer" needs a machine (this run has devices but no topology)`);
      return this.costs.transfer(i, step);
    }
    const at = (field: string) => `steps[${i}].${field}`;
    const proc = this.process(step.process ?? "main", at("process"));
    const mm = proc.mm;
    switch (step.op) {
      case "mmap": {
        const order = step.huge === "pud" ? PUD_ORDER : step.huge === "pmd" ? PMD_ORDER : 0;
        let file: MappedFile | null = null;
        if (step.file !== undefined && step.file !== false) {
          const name = step.file === true ? `tmpfile${this.fileSerial++}` : step.file;
          file = this.files.get(name) ?? new MappedFile(name, false);
          this.files.set(name, file);
        }
        const start = mm.mmap(step.pages, PROTS[step.prot], {
          shared: step.shared ?? false, file, hugeOrder: order, hugetlb: step.huge === "pud",
        });
        if (start < 0) throw new StepError(`${errnoName(start)}: mmap of ${step.pages} pages failed`);
        proc.buffers.set(step.buffer, { start, pages: step.pages });
        return { address: hex(start * PAGE_SIZE), pages: step.pages };
      }
      case "fork": {
        if (this.processes.has(step.child)) throw new StepError(`${at("child")}: process ${JSON.stringify(step.child)} already exists`);
        const child = forkMm(mm, step.child);
        this.processes.set(step.child, { mm: child, buffers: new Map(proc.buffers) });
        return undefined;
      }
      case "flags":
        return this.cmd(this.device(step.device, at("device")).open(mm).setFlags(step.value), step.op, false);
      default:
        break;
    }
    const { start, count, first } = this.range(proc, step, at);
    switch (step.op) {
      case "munmap": {
        const ret = mm.munmap(start, count);
        if (ret < 0) throw new StepError(`${errnoName(ret)}: munmap of pages ${first}..${first + count - 1} failed`);
        return undefined;
      }
      case "mprotect": {
        const ret = mm.mprotect(start, count, PROTS[step.prot]);
        if (ret < 0) throw new StepError(`${errnoName(ret)}: mprotect of page ${first}+: part of the range is not mapped`);
        return undefined;
      }
      case "cpuRead": {
        const values: number[] = [];
        for (let k = 0; k < count; k++) {
          const f = cpuAccess(mm, start + k, false);
          if (f < 0) throw new StepError(`${errnoName(f)}: CPU read of page ${first + k} (${hex((start + k) * PAGE_SIZE)}) faults: no readable mapping (SIGSEGV)`);
          values.push(this.mem.frames.content[f]);
        }
        return { values };
      }
      case "cpuWrite": {
        for (let k = 0; k < count; k++) {
          const f = cpuAccess(mm, start + k, true);
          if (f < 0) throw new StepError(`${errnoName(f)}: CPU write of page ${first + k} (${hex((start + k) * PAGE_SIZE)}) faults: no writable mapping (SIGSEGV)`);
          this.mem.frames.content[f] = step.value === "index" ? first + k : step.value;
        }
        return undefined;
      }
      case "peerMap":
      case "dma":
      case "peerUnmap": {
        const r = execP2pStep(this.p2p(at("op")), step, mm, start, count, first, at);
        if ("error" in r) throw new StepError(r.error);
        return r.result;
      }
      default:
        break;
    }
    const p2p = "p2p" in step && step.p2p === true;
    if (p2p) this.p2p(at("p2p"));
    const dm = this.device(step.device, at("device")).open(mm);
    switch (step.op) {
      case "deviceRead":
        return this.cmd(dm.read(start, count, p2p), step.op, true, start, first);
      case "deviceWrite": {
        const data = new Float64Array(count);
        for (let k = 0; k < count; k++) data[k] = step.value === "index" ? first + k : step.value;
        return this.cmd(dm.write(start, count, data, p2p), step.op, false, start, first);
      }
      case "migrateToDevice":
        return this.cmd(dm.migrateToDevice(start, count), step.op, true, start, first);
      case "migrateToSystem":
        return this.cmd(dm.migrateToSystem(start, count), step.op, false, start, first);
      case "exclusive":
        return this.cmd(dm.exclusive(start, count), step.op, true, start, first);
      case "checkExclusive":
        return this.cmd(dm.checkExclusive(start, count), step.op, false, start, first);
      case "release":
        return this.cmd(dm.release(start, count), step.op, false, start, first);
      case "snapshot": {
        const r = dm.snapshot(start, count, p2p);
        const out = this.cmd(r, step.op, false, start, first);
        const snap = formatSnapshot(r.bytes!, step.summarize ?? false);
        return Array.isArray(snap) ? { ...out, entries: snap } : { ...out, ...snap };
      }
    }
  }

  /** The ioctl's outcome as a step result (counters, values) or a StepError. */
  private cmd(r: DmirrorCmd, op: string, values: boolean, start = 0, first = 0): Record<string, unknown> {
    if (r.ret !== 0) {
      const page = r.page !== undefined ? ` at page ${r.page - start + first} (${hex(r.page * PAGE_SIZE)})` : "";
      throw new StepError(`${errnoName(r.ret)}: ${op} failed${page}: ${r.reason ?? "the driver returned an error"}`);
    }
    const out: Record<string, unknown> = { cpages: r.cpages, faults: r.faults };
    if (values && r.values) out.values = Array.from(r.values);
    return out;
  }

  /** The machine's P2P layer (apertures, client drivers, safety checker), made on first use. */
  p2p(field: string): P2pMachine {
    if (this.p2pMachine === null) {
      if (!this.costs) throw new StepError(`${field}: P2P needs a machine (this run has devices but no topology)`);
      this.p2pMachine = new P2pMachine(this.costs.fabric, this.mem, this.devices);
    }
    return this.p2pMachine;
  }

  private process(name: string, field: string): Process {
    const p = this.processes.get(name);
    if (!p) throw new StepError(`${field}: unknown process ${JSON.stringify(name)} (known: ${[...this.processes.keys()].join(", ")})`);
    return p;
  }

  private device(id: string, field: string): DmirrorDevice {
    const d = this.devices.get(id);
    if (!d) {
      const known = [...this.devices.keys()].join(", ") || "none";
      throw new StepError(`${field}: unknown device ${JSON.stringify(id)} (devices with ZONE_DEVICE memory: ${known})`);
    }
    return d;
  }

  /** Pages a step's range covers (0 for steps without one or an unknown buffer), for its costs. */
  private rangePages(step: StepSpec): number {
    if (!("buffer" in step) || step.op === "mmap") return 0;
    const b = this.processes.get(step.process ?? "main")?.buffers.get(step.buffer);
    return b ? Math.max(0, Math.min(step.count ?? b.pages - (step.first ?? 0), b.pages - (step.first ?? 0))) : 0;
  }

  private range(proc: Process, step: { buffer: string; first?: number; count?: number }, at: (f: string) => string) {
    const b = proc.buffers.get(step.buffer);
    if (!b) throw new StepError(`${at("buffer")}: unknown buffer ${JSON.stringify(step.buffer)} (not mapped by this process)`);
    const first = step.first ?? 0;
    if (first >= b.pages) throw new StepError(`${at("first")}: ${first} is out of bounds (buffer ${JSON.stringify(step.buffer)} has ${b.pages} pages)`);
    const count = step.count ?? b.pages - first;
    if (first + count > b.pages) {
      throw new StepError(`${at("count")}: ${count} is out of bounds (pages ${first}..${first + count - 1} of a ${b.pages}-page buffer)`);
    }
    return { start: b.start + first, count, first };
  }
}

/** Runs a checked scenario on the given devices, costed on `fabric` (default: the scenario's
 *  topology) under `calibration` (default: the scenario's, else data/calibration/default.json). */
export function runScenario(spec: ScenarioSpec, devices: DeviceSpec[], fabric?: Fabric, calibration?: Calibration): RunResult {
  const costs = new RunCosts(fabric ?? resolveTopology(spec.topology), calibration ?? resolveCalibration(spec.calibration));
  return new ScenarioRun(devices, costs).run(spec.steps);
}
