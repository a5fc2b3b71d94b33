// Models: the state a scenario's steps share: the machine (memory, ZONE_DEVICE drivers, P2P
// client devices), the client devices' running drivers and the timeline they run on, the named
// processes with their named buffers, the named files, the run's cost side and the async DMA it
// started; plus the lookups every step makes (process, device, client, page range), each failing
// the step with a StepError that names the field and value, and the budget of per-page results the
// run's JSON can still hold. Leaves out: running steps (run.ts, steps/).
import type { Mm } from "../memory/address-space.js";
import { MappedFile } from "../memory/vma.js";
import type { DmirrorDevice } from "../devices/dmirror.js";
import type { Machine } from "../devices/machine.js";
import type { AperturePolicy } from "../devices/bar-aperture.js";
import type { Fence } from "../drivers/api.js";
import type { DriverRuntime } from "../drivers/runtime.js";
import type { Timeline } from "../drivers/timeline.js";
import { getFunction } from "../fabric/build.js";
import { InputError } from "../units/input-error.js";
import type { RunCosts } from "./costs.js";
import { StepError } from "./step-error.js";

/**
 * Characters of per-page results (values, snapshot entries) one run may emit: what a JSON string
 * can hold in V8 (2^29 - 24 characters) less room for the rest of the result.
 */
export const PER_PAGE_JSON_CHARS = 2 ** 29 - 2 ** 24;

export interface Buffer {
  start: number;
  pages: number;
}

export interface Process {
  mm: Mm;
  buffers: Map<string, Buffer>;
}

/** `steps[3].device`: the path of a field of the running step. */
export type FieldPath = (field: string) => string;

/** Pages [start, start + count) of a buffer, `first` its index in the buffer. */
export interface PageRange {
  start: number;
  count: number;
  first: number;
}

export class RunContext {
  readonly processes = new Map<string, Process>();
  private readonly files = new Map<string, MappedFile>();
  private fileSerial = 0;
  /** Characters of per-page results the run has emitted so far. */
  private perPageChars = 0;

  /** The step running now (its index): async work it starts is its own. */
  step = -1;
  /** The async DMA the run started: which step, which device, its range and fence. */
  readonly asyncDma: Array<{ step: number; device: string; range: PageRange; fence: Fence }> = [];

  constructor(
    readonly machine: Machine, readonly costs: RunCosts, mainProcess: Mm, readonly timeline: Timeline, readonly drivers: DriverRuntime,
  ) {
    this.processes.set("main", { mm: mainProcess, buffers: new Map() });
  }

  /** Records an async DMA of the running step (its outcome goes into the run's `dma` list). */
  watchAsyncDma(fence: Fence, device: string, range: PageRange): void {
    this.asyncDma.push({ step: this.step, device, range, fence });
  }

  /** Every provider's BAR window follows `policy` until the returned function restores it. */
  aperturePolicy(policy: AperturePolicy): () => void {
    const apertures = this.machine.apertureList();
    const before = apertures.map((a) => a.policy);
    for (const a of apertures) a.policy = policy;
    return () => apertures.forEach((a, i) => (a.policy = before[i]));
  }

  process(name: string, field: string): Process {
    const p = this.processes.get(name);
    if (!p) throw new StepError(`${field}: unknown process ${JSON.stringify(name)} (known: ${[...this.processes.keys()].join(", ")})`);
    return p;
  }

  /** The dmirror driver of ZONE_DEVICE endpoint `id` (an id, a PCI address or its short form). */
  device(id: string, field: string): DmirrorDevice {
    const d = this.machine.devices.get(this.functionId(id, field, "ZONE_DEVICE endpoint"));
    if (!d) {
      const known = [...this.machine.devices.keys()].join(", ") || "none";
      throw new StepError(`${field}: unknown device ${JSON.stringify(id)} (devices with ZONE_DEVICE memory: ${known})`);
    }
    return d;
  }

  /** The topology id of P2P client `name` (any PCI function of the topology). */
  clientId(name: string, field: string): string {
    return this.functionId(name, field, "PCI function");
  }

  /** The topology id of the function `name` names (DESIGN §4: short PCI addresses work wherever full ones do). */
  private functionId(name: string, field: string, what: string): string {
    try {
      return getFunction(this.machine.fabric, name).id;
    } catch (e) {
      if (e instanceof InputError) throw new StepError(`${field}: unknown device ${JSON.stringify(name)} (no ${what} of this name in the topology: ${e.message.replace(/^.*?: /, "")})`);
      throw e;
    }
  }

  /** A file by name (`true`: a fresh one), shared by every mapping of that name. */
  file(name: string | true): MappedFile {
    const key = name === true ? `tmpfile${this.fileSerial++}` : name;
    let file = this.files.get(key);
    if (!file) this.files.set(key, (file = new MappedFile(key, false)));
    return file;
  }

  /** The pages of a step's buffer range: `first` (default 0) and `count` (default: to the end). */
  range(proc: Process, step: { buffer: string; first?: number; count?: number }, at: FieldPath): PageRange {
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

  /**
   * Reserves room in the run's JSON result for `chars` characters of per-page results (`what`, for
   * `pages` pages), before the step does anything: a step whose results would not fit fails with a
   * message naming the field and suggesting a summary, never an exit on an oversized string.
   */
  reservePerPage(chars: number, pages: number, what: string, field: string): void {
    if (this.perPageChars + chars > PER_PAGE_JSON_CHARS) {
      throw new StepError(
        `${field}: ${pages} pages of per-page ${what} would need about ${chars} characters of JSON, more than the run's result ` +
          `can hold (${PER_PAGE_JSON_CHARS - this.perPageChars} left): read a smaller range (first/count), or use a snapshot with "summarize": true`,
      );
    }
    this.perPageChars += chars;
  }

  /** Pages a step's range covers (0 for steps without one, or an unknown process or buffer). */
  rangePages(step: { process?: string; buffer?: string; first?: number; count?: number }): number {
    if (step.buffer === undefined) return 0;
    const b = this.processes.get(step.process ?? "main")?.buffers.get(step.buffer);
    if (!b) return 0;
    const first = step.first ?? 0;
    return Math.max(0, Math.min(step.count ?? b.pages - first, b.pages - first));
  }
}
