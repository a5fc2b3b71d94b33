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
  /** HMM_DMIRROR_FLAGS: `value` is the flag word (1 = HMM_DMIRROR_FLAG_FAIL_ALLOC). Not in DESIGN §4's list yet. */
  z.strictObject({ op: z.literal("flags"), ...base, ...device, value: z.number().int().min(0) }),
  z.strictObject({ op: z.literal("peerMap"), ...base, ...device, ...range }),
  z.strictObject({ op: z.literal("dma"), ...base, ...device, ...range, value: Value.optional() }),
  z.strictObject({ op: z.literal("peerUnmap"), ...base, ...device, ...range }),
]);

export const Scenario = z.strictObject({
  $schema: z.string().optional(),
  /** A path (relative to the scenario file), a builtin name, or an inline topology object. */
  topology: z.union([z.string().min(1), z.record(z.string(), z.unknown())]),
  seed: z.number().int().optional(),
  steps: z.array(Step),
});

export type StepSpec = z.output<typeof Step>;
export type ScenarioSpec = z.output<typeof Scenario>;
