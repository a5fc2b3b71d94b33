// Models: the scenario file of DESIGN §4 as zod schemas: `{ topology, seed?, steps }`, each step a
// strict object chosen by `op`, so a misspelt field or op is bad input, never ignored. Every field
// carries its description, which the emitted JSON Schema (data/schema/scenario.schema.json) shows
// in editors; a step may carry a `comment` and an `expect`ed outcome.
// Leaves out: cross-step checks (a buffer used before its mmap), which the runner reports per step.
import { z } from "zod";
import { Overlay } from "../fabric/overlay.js";
import * as errno from "../memory/errno.js";

const Name = z.string().min(1);
const Pages = z.number().int().min(1);
/** A range may be empty: the dmirror ioctls then fail with EINVAL as the kernel's generic checks do. */
const Count = z.number().int().min(0);
const First = z.number().int().min(0);
const Value = z.union([z.number(), z.literal("index")]);
const Prot = z.enum(["none", "r", "rw"]);

/** An errno name a step's error can start with (the constants of memory/errno.ts). */
export type ErrnoName = Extract<keyof typeof errno, `E${string}`>;
/** Every errno name, each a possible `expect`. */
export const ERRNO_NAMES = Object.keys(errno).filter((k) => /^E[A-Z0-9]+$/.test(k)).sort() as ErrnoName[];

/**
 * The outcome a step should have: "ok" or an errno name. The run keeps `ok` as what happened and
 * adds `expected` and `met` to the step's outcome; a missed expectation makes the step's `error`
 * say "expected X, got Y" and the run fail (scenario/run.ts).
 */
export const Expectation = z.enum(["ok", ...ERRNO_NAMES] as ["ok", ...ErrnoName[]]).describe(
  "The outcome this step should have: \"ok\" (it succeeds) or the errno name it should fail with (\"EFAULT\", \"EINVAL\", …). " +
  "`ok` in the step's outcome still says what happened; the outcome adds `expected` and `met`. A run passes (exit 0) when every step " +
  "with `expect` met it, every step without `expect` succeeded, and no DMA violation was found; a missed expectation sets the step's " +
  "`error` to \"expected EFAULT, got ok\" (or \"expected ok, got EFAULT: …\").");

/** Fields every step may carry: a note for the reader, and the outcome it should have. */
const annotations = {
  comment: z.string().optional().describe("A note for the reader (what this step shows); the run ignores it."),
  expect: Expectation.optional(),
  at: z.number().int().min(0).optional().describe(
    "Start time, simulated ns: the step starts then (or when the step before it started, if that is later) instead of when the step before it finished, so it can overlap DMA in flight and driver operations still running."),
};
const base = {
  ...annotations,
  process: Name.optional().describe("The process that does the step: \"main\" (default) or a child named by an earlier `fork`."),
};
const range = {
  buffer: Name.describe("The buffer, by the name its `mmap` gave it."),
  first: First.optional().describe("The range's first page, counted from the buffer's start (default 0)."),
  count: Count.optional().describe("Pages in the range (default: to the end of the buffer); 0 fails with EINVAL as the kernel's range checks do."),
};
const device = {
  device: Name.describe("The device: a topology endpoint id or PCI address; dmirror steps need one with ZONE_DEVICE memory (`zoneDevice`)."),
};
const writeValue = (what: string) => Value.describe(`${what}: a number, or "index" for each page's index in the buffer.`);
const p2pFlag = z.boolean().optional().describe(
  "Ask for P2P (HMM_PFN_ALLOW_P2P): a page private to another device is reached through that device's BAR instead of migrating to RAM.");
const op = <K extends string>(name: K, what: string) => z.literal(name).describe(what);

export const MmapStep = z.strictObject({
  op: op("mmap", "mmap: map a buffer of `pages` pages into the process (anonymous private unless `shared` or `file`)."),
  ...base,
  buffer: Name.describe("The name later steps use for this buffer."),
  pages: Pages.describe("Size of the mapping in 4 KiB pages."),
  prot: Prot.default("rw").describe("Protection: \"none\", \"r\" or \"rw\" (default)."),
  shared: z.boolean().optional().describe("MAP_SHARED instead of MAP_PRIVATE: fork shares the pages instead of copying on write."),
  /** true: a fresh file; a string: the named file, shared by every mapping of that name. */
  file: z.union([z.boolean(), Name]).optional().describe(
    "Map a file instead of anonymous memory: true for a fresh file, or a name for a file shared by every mapping of that name."),
  huge: z.enum(["pmd", "pud"]).optional().describe(
    "Huge pages: \"pmd\" (a THP-capable mapping, 2 MiB) or \"pud\" (hugetlb, 1 GiB)."),
}).describe("mmap: map a buffer into the process.");

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
  op: op("transfer", "transfer: price moving `bytes` from `from` to `to` by one `design` (cost only: no scenario memory moves)."),
  ...annotations,
  from: Name.describe("Where the data is: an endpoint id, or \"ram\" for host RAM on the other end's NUMA node."),
  to: Name.describe("Where the data goes (the reader of a P2P transfer): an endpoint id, or \"ram\"."),
  bytes: z.union([z.number().int().min(1), z.string().min(1)]).describe("Bytes moved: a number, or a size such as \"64MiB\"."),
  design: z.enum(["p2p", "bounce", "migrate", "dma"]).describe(
    "\"p2p\": `to` peer-maps and reads `from`'s BAR (or NVLink); \"bounce\": through pinned host RAM, both legs pipelined; " +
    "\"migrate\": stock HMM, `from`'s pages migrate to RAM and `to` reads them (migrate_vma when one end is \"ram\"); " +
    "\"dma\": the device's DMA engine copies between its memory and pinned host RAM (one end \"ram\" or \"ram:N\", RAM of NUMA node N)."),
  granularity: z.enum(["4KiB", "64KiB", "2MiB"]).optional().describe("The page size the design moves and maps (default \"4KiB\")."),
  via: z.enum(["pcie", "nvlink"]).optional()
    .describe("p2p: the interconnect; default NVLink where the pair has it, as CUDA chooses."),
  rule: z.enum(["p2pdma", "fabric"]).optional()
    .describe("p2p: \"p2pdma\" (default) fails where the kernel's P2PDMA map type is NOT_SUPPORTED; \"fabric\" costs what the hardware routes (vendor stacks with their own checks)."),
  mode: z.enum(["fault", "prefetch"]).optional()
    .describe("migrate: \"prefetch\" (default, one migrate_vma call over the range) or \"fault\" (device faults serviced in batches, or one CPU fault per page back to RAM)."),
}).describe("transfer: the cost of moving data between two devices (or a device and RAM) by one design.");

/** Transfers that start together and share the machine's links; the result is `{ ns: makespan,
 *  gbps: aggregate, transfers: [each transfer's result] }`. */
export const ParallelStep = z.strictObject({
  op: op("parallel", "parallel: start the transfers together; they share every resource they cross."),
  ...annotations,
  steps: z.array(TransferStep).min(1).describe("Transfer steps started at the same time; they share every resource they cross."),
}).describe("parallel: transfers started together; the result is the makespan, the aggregate rate and each transfer's result.");

const deviceStep = <K extends string>(name: K, what: string) =>
  z.strictObject({ op: op(name, what), ...base, ...device, ...range }).describe(what);

export const Step = z.discriminatedUnion("op", [
  MmapStep,
  z.strictObject({ op: op("munmap", "munmap: unmap the range."), ...base, ...range }).describe("munmap: unmap the range."),
  z.strictObject({
    op: op("mprotect", "mprotect: change the range's protection."), ...base, ...range,
    prot: Prot.describe("The new protection: \"none\", \"r\" or \"rw\"."),
  }).describe("mprotect: change the range's protection."),
  z.strictObject({ op: op("cpuRead", "cpuRead: the CPU reads every page of the range (faulting device pages back to RAM); returns `values`."), ...base, ...range })
    .describe("cpuRead: the CPU reads the range."),
  z.strictObject({
    op: op("cpuWrite", "cpuWrite: the CPU writes every page of the range."), ...base, ...range,
    value: writeValue("What each page gets"),
  }).describe("cpuWrite: the CPU writes the range."),
  z.strictObject({
    op: op("fork", "fork: copy the process (copy-on-write for private pages)."), ...base,
    child: Name.describe("The new process's name, for later steps' `process`."),
  }).describe("fork: copy the process."),
  z.strictObject({
    op: op("deviceRead", "deviceRead: the device reads the range through its mirror (HMM_DMIRROR_READ); returns `values`."),
    ...base, ...device, ...range, p2p: p2pFlag,
  }).describe("deviceRead: HMM_DMIRROR_READ."),
  z.strictObject({
    op: op("deviceWrite", "deviceWrite: the device writes the range through its mirror (HMM_DMIRROR_WRITE)."),
    ...base, ...device, ...range, value: writeValue("What each page gets"), p2p: p2pFlag,
  }).describe("deviceWrite: HMM_DMIRROR_WRITE."),
  deviceStep("migrateToDevice", "migrateToDevice: migrate the range into the device's memory (HMM_DMIRROR_MIGRATE_TO_DEV, migrate_vma)."),
  deviceStep("migrateToSystem", "migrateToSystem: migrate the device's pages of the range back to RAM (HMM_DMIRROR_MIGRATE_TO_SYS)."),
  z.strictObject({
    op: op("snapshot", "snapshot: the device's view of the range through hmm_range_fault without faulting (HMM_DMIRROR_SNAPSHOT)."),
    ...base, ...device, ...range,
    summarize: z.boolean().optional().describe("Return `counts` per entry kind instead of one entry per page (large ranges)."),
    p2p: p2pFlag,
  }).describe("snapshot: HMM_DMIRROR_SNAPSHOT."),
  deviceStep("exclusive", "exclusive: make the range's pages exclusive to the device (HMM_DMIRROR_EXCLUSIVE, make_device_exclusive)."),
  deviceStep("checkExclusive", "checkExclusive: check the range is still exclusive to the device (HMM_DMIRROR_CHECK_EXCLUSIVE)."),
  deviceStep("release", "release: evict every page of the device (HMM_DMIRROR_RELEASE; the range is ignored, as in lib/test_hmm.c)."),
  /** HMM_DMIRROR_FLAGS: `value` is the flag word (1 = HMM_DMIRROR_FLAG_FAIL_ALLOC). */
  z.strictObject({
    op: op("flags", "flags: set the device's test flags (HMM_DMIRROR_FLAGS)."), ...base, ...device,
    value: z.number().int().min(0).describe("The flag word (1 = HMM_DMIRROR_FLAG_FAIL_ALLOC: the next device allocation fails)."),
  }).describe("flags: HMM_DMIRROR_FLAGS."),
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
    op: op("peerMap", "peerMap: fault the range with HMM_PFN_ALLOW_P2P and DMA-map every page in the device's page table; returns pages per path."),
    ...base, ...device, ...range,
    access: z.enum(["r", "rw"]).optional().describe("Access asked for: \"r\" or \"rw\" (default)."),
    policy: z.enum(["correct", "ignoreInvalidation", "noSeqRecheck", "lateIovaUnmap"]).optional().describe(
      "The client driver's behaviour from this step on: \"correct\" (default), or a broken one the safety checker must catch: " +
      "\"ignoreInvalidation\" (the notifier callback zaps nothing), \"noSeqRecheck\" (no mmu_interval_read_retry after the walk), " +
      "\"lateIovaUnmap\" (IOVA mappings are dropped only at the next map call)."),
    fallback: z.enum(["migrate", "bounce"]).optional().describe(
      "When P2P is NOT_SUPPORTED: \"migrate\" (default: fault the pages to RAM) or \"bounce\" (the owner copies through a host buffer)."),
    aperture: z.enum(["lru", "fail"]).optional().describe(
      "When a provider's BAR window has no free slot: \"lru\" (default: evict the least recently used peer mappings, invalidating their users) or \"fail\" (pages that do not fit get -ENOSPC from the aperture, and the driver decides: the builtin odp faults them to RAM under the default `fallback` \"migrate\", and fails the step with ENOSPC under \"bounce\", which needs a slot too)."),
  }).describe("peerMap: map a range for peer DMA through the device's driver; the result counts the pages mapped per path when the step ends and those `unmapped`."),
  z.strictObject({
    op: op("dma", "dma: DMA through the device's current mappings, without faulting; a page it has no mapping for ends it (an IOMMU fault)."),
    ...base, ...device, ...range,
    value: Value.optional().describe("Write this to each page (a number, or \"index\"); without it the DMA reads and returns `values`."),
    async: z.boolean().optional().describe(
      "Start the DMA and go on (default false: wait for it): it touches its pages one after another over its modelled time while later steps run; its outcome is in the run's `dma` list."),
  }).describe("dma: DMA through the device's mappings."),
  z.strictObject({
    op: op("resizeBar", "resizeBar: resize the device's memory BAR (Resizable BAR): its P2P window from now on."),
    ...annotations, ...device,
    size: z.union([z.number().int().min(1), z.string().min(1)]).describe(
      "The new size (a number or \"256MiB\"): one of the BAR's `resizable` sizes, at most its assigned size; no peer mapping may use the BAR (EBUSY)."),
  }).describe("resizeBar: pci_resize_resource on the device's memory BAR."),
  deviceStep("peerUnmap", "peerUnmap: drop the device's DMA mappings of the range."),
  TransferStep,
  ParallelStep,
]);

export const Scenario = z.strictObject({
  $schema: z.string().optional().describe("The JSON Schema this file follows (for editors); the run ignores it."),
  description: z.string().optional().describe("What the scenario shows, for the reader; the run ignores it."),
  /** A path (relative to the scenario file), a builtin name, or an inline topology object. */
  topology: z.union([z.string().min(1), z.record(z.string(), z.unknown())]).describe(
    "The machine: a builtin name (\"dmirror\"), a path relative to this file (kit JSON, lspci text or hwloc XML), or an inline topology object."),
  seed: z.number().int().optional().describe("Orders events that fall on the same nanosecond (a DMA touching a page, a driver resuming): the same seed gives the same interleaving and trace every run; default 0."),
  /** The cost model's calibration: a name in data/calibration/ or a path (relative to the scenario
   *  file) to a calibration JSON; default "default". */
  calibration: z.string().min(1).optional().describe(
    "The cost model's calibration: a name in data/calibration/ or a path (relative to this file) ending in .json; default \"default\"."),
  drivers: z.record(z.string(), z.string().min(1)).optional().describe(
    "The P2P client driver of each device (by id or PCI address): a builtin name (\"odp\", \"pinned\", \"dmabuf\", \"odp-no-fence-wait\", …) or the path of a module exporting a driver (relative to this file); default \"odp\"."),
  topologyOverlay: z.union([z.string().min(1), Overlay]).optional()
    .describe("Corrections to the machine before it is built (an imported dump's device memory, ZONE_DEVICE kind, role, name, link speeds): an overlay object { \"devices\": { \"<id or PCI address>\": { memory?, zoneDevice?, memoryBar?, role?, name?, link?, linkCurrent? } }, \"linkSpeed\"?, \"platform\"? }, or the path of an overlay JSON file (relative to the scenario file)."),
  steps: z.array(Step).describe("The steps, run in order; a failing step records its error and the next steps still run."),
}).describe("A p2pdma-lab scenario: a machine and the steps a process, its devices and their drivers take on it.");

/** The scenario as written (before defaults): what `defineScenario` completes in an editor. */
export type ScenarioInput = z.input<typeof Scenario>;

/**
 * A scenario object, typed as written, so that an editor or a notebook completes and checks its
 * fields; at run time it returns `spec` unchanged (runScenario and loadScenario still check it).
 */
export function defineScenario<T extends ScenarioInput>(spec: T): T {
  return spec;
}

export type StepSpec = z.output<typeof Step>;
/** The name of a step kind ("mmap", "peerMap", …). */
export type StepOp = StepSpec["op"];
/** The step spec of kind `K`. */
export type StepOf<K extends StepOp> = Extract<StepSpec, { op: K }>;
export type ScenarioSpec = z.output<typeof Scenario>;
