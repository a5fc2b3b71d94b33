// Models: running a scenario (DESIGN §4): the machine (memory, one dmirror driver per ZONE_DEVICE
// endpoint), named processes with named buffers, and each step as the kernel operation or dmirror
// ioctl it stands for. A failing step records its error (errno name first, as the kernel would
// return it) and leaves state as the kernel would; later steps still run.
// Leaves out: P2P steps and time (issue 5 and the sim layer: simTimeNs stays 0, bytesMoved is keyed
// by "from->to" memory pseudo-links instead of PCIe links).
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
import { formatSnapshot } from "./snapshot-format.js";

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
    bytesMoved: Record<string, number>;
  };
  violations: RunViolation[];
  /** 0 until the cost layer exists. */
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

  constructor(devices: DeviceSpec[]) {
    for (const spec of devices) this.devices.set(spec.id, new DmirrorDevice(this.mem, spec));
    this.processes.set("main", { mm: new Mm(this.mem, "main"), buffers: new Map() });
  }

  /** Runs every step in order. */
  run(steps: StepSpec[]): RunResult {
    const results: StepResult[] = [];
    const violations: RunViolation[] = [];
    steps.forEach((step, i) => {
      const seen = this.mem.counters.violations.length;
      results.push(this.step(step, i));
      for (const v of this.mem.counters.violations.slice(seen)) violations.push({ step: i, ...v });
    });
    const c = this.mem.counters;
    return {
      steps: results,
      counters: {
        faults: c.faults, invalidations: c.invalidations, migrations: c.migrations,
        peerMaps: 0, peerUnmaps: 0, bytesMoved: c.bytesMoved(),
      },
      violations,
      simTimeNs: 0,
    };
  }

  /** Runs one step; errors become the step's result, never exceptions. */
  step(step: StepSpec, i: number): StepResult {
    try {
      const result = this.exec(step, i);
      return result === undefined ? { op: step.op, ok: true } : { op: step.op, ok: true, result };
    } catch (e) {
      if (e instanceof StepError) return { op: step.op, ok: false, error: e.message };
      throw e;
    }
  }

  private exec(step: StepSpec, i: number): unknown {
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
      case "peerUnmap":
        throw new StepError(`${at("op")}: ${JSON.stringify(step.op)} is not modelled yet (P2P steps arrive with issue 5)`);
      default:
        break;
    }
    if ("p2p" in step && step.p2p) throw new StepError(`${at("p2p")}: true is not modelled yet (P2P arrives with issue 5)`);
    const dm = this.device(step.device, at("device")).open(mm);
    switch (step.op) {
      case "deviceRead":
        return this.cmd(dm.read(start, count), step.op, true, start, first);
      case "deviceWrite": {
        const data = new Float64Array(count);
        for (let k = 0; k < count; k++) data[k] = step.value === "index" ? first + k : step.value;
        return this.cmd(dm.write(start, count, data), step.op, false, start, first);
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
        const r = dm.snapshot(start, count);
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

/** Runs a checked scenario on the given devices. */
export function runScenario(spec: ScenarioSpec, devices: DeviceSpec[]): RunResult {
  return new ScenarioRun(devices).run(spec.steps);
}
