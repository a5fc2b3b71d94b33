// Models: the scenario file of DESIGN §4 as zod schemas: `{ topology, seed?, steps }`, each step a
// strict object chosen by `op`, so a misspelt field or op is bad input, never ignored.
// Leaves out: cross-step checks (a buffer used before its mmap), which the runner reports per step.
import { z } from "zod";

const Name = z.string().min(1);
const Pages = z.number().int().min(1);
/** A range may be empty: the dmirror ioctls then fail with EINVAL as the kernel's generic checks do. */
const Count = z.number().int().min(0);
const First = z.number().int().min(0);
const Value = z.union([z.number(), z.literal("index")]);
const Prot = z.enum(["none", "r", "rw"]);

const base = { process: Name.optional() };
const range = { buffer: Name, first: First.optional(), count: Count.optional() };
const device = { device: Name };

export const MmapStep = z.strictObject({
  op: z.literal("mmap"), ...base, buffer: Name, pages: Pages, prot: Prot.default("rw"),
  shared: z.boolean().optional(),
  /** true: a fresh file; a string: the named file, shared by every mapping of that name. */
  file: z.union([z.boolean(), Name]).optional(),
  huge: z.enum(["pmd", "pud"]).optional(),
});

/**
 * A cost-only step (the cost layer, src/scenario/costs.ts): moving `bytes` (a number or "64MiB")
 * from `from` to `to` (endpoint ids, or "ram" / "ram:N": the host RAM of the device's own NUMA node,
 * or of node N) by one `design`: "dma" (the device's DMA engine between its memory and pinned host
 * RAM: a CUDA copy from pinned memory, an RDMA NIC's DMA), "p2p" (the reader `to` reads `from`'s
 * memory over NVLink or through its BAR), "bounce" (through pinned host RAM, both legs pipelined) or
 * "migrate" (HMM: `from`'s pages migrate to RAM, then `to` reads them; with RAM as one end,
 * migrate_vma between RAM and the device), at `granularity` (default "4KiB"). Its result reports
 * `ns` (what the program sees, the design's fixed costs included), `gbps`, `linkBytes` per link, the
 * `interconnect`, the path's `class` and P2PDMA `mapType`; it adds to the run's time and link
 * counters but moves no scenario memory.
 */
export const TransferStep = z.strictObject({
  op: z.literal("transfer"), from: Name, to: Name,
  bytes: z.union([z.number().int().min(1), z.string().min(1)]),
  design: z.enum(["p2p", "bounce", "migrate", "dma"]),
  granularity: z.enum(["4KiB", "64KiB", "2MiB"]).optional(),
  via: z.enum(["pcie", "nvlink"]).optional()
    .describe("p2p: the interconnect; default NVLink where the pair has it, as CUDA chooses"),
  rule: z.enum(["p2pdma", "fabric"]).optional()
    .describe("p2p: \"p2pdma\" (default) fails where the kernel's P2PDMA map type is NOT_SUPPORTED; \"fabric\" costs what the hardware routes (vendor stacks with their own checks)"),
  mode: z.enum(["fault", "prefetch"]).optional()
    .describe("migrate: \"prefetch\" (default, one migrate_vma call over the range) or \"fault\" (device faults serviced in batches, or one CPU fault per page back to RAM)"),
});

/** Transfers that start together and share the machine's links; the result is `{ ns: makespan,
 *  gbps: aggregate, transfers: [each transfer's result] }`. */
export const ParallelStep = z.strictObject({
  op: z.literal("parallel"),
  steps: z.array(TransferStep).min(1).describe("transfer steps started at the same time; they share every resource they cross"),
});

export const Step = z.discriminatedUnion("op", [
  MmapStep,
  z.strictObject({ op: z.literal("munmap"), ...base, ...range }),
  z.strictObject({ op: z.literal("mprotect"), ...base, ...range, prot: Prot }),
  z.strictObject({ op: z.literal("cpuRead"), ...base, ...range }),
  z.strictObject({ op: z.literal("cpuWrite"), ...base, ...range, value: Value }),
  z.strictObject({ op: z.literal("fork"), ...base, child: Name }),
  z.strictObject({ op: z.literal("deviceRead"), ...base, ...device, ...range, p2p: z.boolean().optional() }),
  z.strictObject({ op: z.literal("deviceWrite"), ...base, ...device, ...range, value: Value, p2p: z.boolean().optional() }),
  z.strictObject({ op: z.literal("migrateToDevice"), ...base, ...device, ...range }),
  z.strictObject({ op: z.literal("migrateToSystem"), ...base, ...device, ...range }),
  z.strictObject({
    op: z.literal("snapshot"), ...base, ...device, ...range, summarize: z.boolean().optional(), p2p: z.boolean().optional(),
  }),
  z.strictObject({ op: z.literal("exclusive"), ...base, ...device, ...range }),
  z.strictObject({ op: z.literal("checkExclusive"), ...base, ...device, ...range }),
  z.strictObject({ op: z.literal("release"), ...base, ...device, ...range }),
  /** HMM_DMIRROR_FLAGS: `value` is the flag word (1 = HMM_DMIRROR_FLAG_FAIL_ALLOC). */
  z.strictObject({ op: z.literal("flags"), ...base, ...device, value: z.number().int().min(0) }),
  /**
   * peerMap: fault the range with HMM_PFN_ALLOW_P2P and DMA-map every page in the
   * device's page table. `access` (default "rw") asks for write access. `policy` loads the
   * device's client driver with a behaviour that sticks for later steps: "correct" (default),
   * or a deliberately broken one the safety checker must catch: "ignoreInvalidation" (the
   * notifier callback zaps nothing), "noSeqRecheck" (the device page table is programmed without
   * mmu_interval_read_retry after the walk), "lateIovaUnmap" (IOVA-mapped entries are zapped and
   * unmapped only at the driver's next map call, after the page was given back). `fallback` is
   * the NOT_SUPPORTED policy: "migrate" (default: fault the pages to RAM) or "bounce" (the owner
   * copies through a host buffer).
   */
  z.strictObject({
    op: z.literal("peerMap"), ...base, ...device, ...range, access: z.enum(["r", "rw"]).optional(),
    policy: z.enum(["correct", "ignoreInvalidation", "noSeqRecheck", "lateIovaUnmap"]).optional(),
    fallback: z.enum(["migrate", "bounce"]).optional(),
  }),
  z.strictObject({ op: z.literal("dma"), ...base, ...device, ...range, value: Value.optional() }),
  z.strictObject({ op: z.literal("peerUnmap"), ...base, ...device, ...range }),
  TransferStep,
  ParallelStep,
]);

export const Scenario = z.strictObject({
  $schema: z.string().optional(),
  /** A path (relative to the scenario file), a builtin name, or an inline topology object. */
  topology: z.union([z.string().min(1), z.record(z.string(), z.unknown())]),
  seed: z.number().int().optional(),
  /** The cost model's calibration: a name in data/calibration/ or a path (relative to the scenario
   *  file) to a calibration JSON; default "default". */
  calibration: z.string().min(1).optional(),
  steps: z.array(Step),
});

export type StepSpec = z.output<typeof Step>;
/** The name of a step kind ("mmap", "peerMap", …). */
export type StepOp = StepSpec["op"];
/** The step spec of kind `K`. */
export type StepOf<K extends StepOp> = Extract<StepSpec, { op: K }>;
export type ScenarioSpec = z.output<typeof Scenario>;
