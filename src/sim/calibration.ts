// Models: the cost model's parameters as calibration files (data/calibration/*.json): every number is
// `{ value, unit, source, sourceId, status }`; `source` says in words where it was read, `sourceId`
// names that publication and measurement machine-readably ("<publication>@<measurement>"), and
// status says whether it was READ, DERIVED from READ numbers, recalled from MEMORY, or an ESTIMATE.
// Three layers make the parameters of one run: default.json, the platform profile the machine
// matches (data/calibration/platforms/*.json: a CPU family's socket links, memory, root complex),
// and a named calibration file, whose parameters (and only those) override the other two.
// Leaves out: reading files (scenario/load.ts); choosing the platform (platform.ts); units are
// fixed per parameter.
import { z } from "zod";
import { InputError } from "../units/input-error.js";

/** Every parameter the cost model reads, with its unit. */
export const PARAM_UNITS = {
  // PCIe protocol and configuration (costs.md §1)
  pcieDefaultGen: "gen", pcieDefaultWidth: "lanes", pcieMps: "B", pcieMrrs: "B", flitHeaderBytes: "B",
  gpuMpsCap: "B", nicMpsCap: "B", endpointMpsCap: "B", rootPortMps: "B", rcP2pTlpBytes: "B", rcP2pGBps: "GB/s",
  gpuReadTags: "requests", nicReadTags: "requests", endpointReadTags: "requests",
  // Latency of each element of a path (costs.md §1.3, §1.4)
  pcieLinkNs: "ns", switchHopNs: "ns", switchHopGen3Ns: "ns", rootComplexHopNs: "ns", memoryReadNs: "ns",
  barReadNs: "ns", deviceDmaIssueNs: "ns",
  // NVLink, the socket interconnect and host memory (costs.md §4)
  nvlink1GBps: "GB/s", nvlink2GBps: "GB/s", nvlink3GBps: "GB/s", nvlink4GBps: "GB/s", nvlink5GBps: "GB/s",
  nvlinkHopNs: "ns", socketGBps: "GB/s", socketHopNs: "ns", memoryGBps: "GB/s", nicWireEfficiency: "ratio",
  // What a program pays around the bytes: copy launch, staging, work requests (costs.md §2.1, §6.1)
  copyLaunchNs: "ns", hostStagingSyncNs: "ns", stagingChunkBytes: "B", nicPostNs: "ns", deviceCommandNs: "ns",
  // HMM and UVM (costs.md §3, §6.2)
  cpuFaultNs: "ns", deviceFaultBatchNs: "ns", deviceFaultPageNs: "ns", faultBatchMax: "faults", faultBufferEntries: "faults",
  snapshotPageNs: "ns", notifierCallbackNs: "ns", deviceTlbInvalidateNs: "ns", invlpgNs: "ns",
  tlbFlushCeilingPages: "pages", ipiShootdownNs: "ns", ipiPerCpuNs: "ns", mmCpus: "cpus", migrateBatchMax: "pages",
  migrateSetupNs: "ns", migratePageNs: "ns", migrateFinalizeNs: "ns",
  // IOMMU (costs.md §5, §6.3)
  dmaMapNs: "ns", dmaMapSgNs: "ns", dmaMapSgEntries: "entries", dmaUnmapNs: "ns", iommuPageBytes: "B",
  iotlbEntries: "entries", iotlbMissNs: "ns", iotlbWalkers: "walks", peerMapSetupNs: "ns", devicePteNs: "ns", apertureRemapNs: "ns",
  // UVMSmart-compatible mode (costs.md §3.1): the simulator's own formula, used only by uvmsmart.ts
  uvmsSpeedA: "GiB/s", uvmsSpeedB: "1/KB", uvmsHalveBytes: "B", uvmsFaultCycles: "cycles", uvmsClockMHz: "MHz",
} as const;

export type ParamName = keyof typeof PARAM_UNITS;
export const PARAM_NAMES = Object.keys(PARAM_UNITS) as ParamName[];

export const ParamStatus = z.enum(["READ", "DERIVED", "MEMORY", "ESTIMATE"]);

/** "<publication>@<measurement>": e.g. "nccl/topo.h@SM90_NVLINK_BW", "nccl#1127@p2p-disabled-latency". */
export const SourceId = z.string().regex(/^[^@\s]+(@\S+)?$/, "a source id: <publication>[@<measurement>], no spaces");

export const Param = z.strictObject({
  value: z.number().finite(),
  unit: z.string().min(1),
  /** Where the number comes from, in words: the reference note section and its primary source. */
  source: z.string().min(1),
  /** The same, machine-readable, so a test can check no parameter comes from the target it predicts. */
  sourceId: SourceId.optional(),
  status: ParamStatus,
});

const paramShape = Object.fromEntries(PARAM_NAMES.map((n) => [n, Param.optional()])) as Record<ParamName, z.ZodOptional<typeof Param>>;

export const CalibrationFile = z.strictObject({
  $schema: z.string().optional(),
  name: z.string().min(1),
  description: z.string().min(1),
  /** The topology (data/topologies/<name>.json) this calibration describes, if one machine. */
  topology: z.string().optional(),
  params: z.strictObject(paramShape),
});

/** Which machines a platform profile describes: a CPU vendor and x86 families, models or PCIe generations. */
export const PlatformMatch = z.strictObject({
  vendor: z.enum(["intel", "amd", "hygon", "arm", "other"]),
  families: z.array(z.number().int().min(0)).optional(),
  models: z.array(z.number().int().min(0)).optional(),
  /** When the input gives no model: the root ports' highest PCIe generation this platform stands for. */
  pcieGens: z.array(z.number().int().min(1).max(6)).optional(),
});

export const PlatformFile = z.strictObject({
  $schema: z.string().optional(),
  name: z.string().min(1),
  description: z.string().min(1),
  /** Other names a topology's `platform` may use (a system such as "dgx-h100"). */
  aliases: z.array(z.string().min(1)).default([]),
  match: PlatformMatch,
  params: z.strictObject(paramShape),
});

export type CalibrationFileSpec = z.output<typeof CalibrationFile>;
export type PlatformSpec = z.output<typeof PlatformFile>;
export type ParamSpec = z.output<typeof Param>;

/** A full parameter set: default.json, a platform profile and one named file. */
export interface Calibration {
  name: string;
  topology?: string;
  params: Record<ParamName, ParamSpec>;
  /** Parameters the named file (or an override) set: the platform profile leaves them alone. */
  explicit: ParamName[];
  /** The platform profiles the machine may match (data/calibration/platforms/). */
  platforms: PlatformSpec[];
  /** The platform profile applied, once resolved for a machine (platform.ts). */
  platform?: string;
  /** When present, every parameter the model reads is added (the calibration-discipline test and the
   *  validation table's "parameters used" column read it). */
  reads?: Set<ParamName>;
}

function parseWith<S extends z.ZodType>(schema: S, raw: unknown, source: string): z.output<S> {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue.path.map(String).join(".") || "(root)";
    let value: unknown = raw;
    for (const k of issue.path) value = (value as Record<string | number, unknown> | undefined)?.[k as string];
    throw new InputError(field, value, issue.message, source);
  }
  return parsed.data;
}

function checkUnits(params: Partial<Record<ParamName, ParamSpec>>, source: string): void {
  for (const name of PARAM_NAMES) {
    const p = params[name];
    if (p && p.unit !== PARAM_UNITS[name]) throw new InputError(`params.${name}.unit`, p.unit, `unit must be "${PARAM_UNITS[name]}"`, source);
  }
}

/** Checks one parsed calibration file: shape (strict) and each parameter's unit. */
export function parseCalibration(raw: unknown, source: string): CalibrationFileSpec {
  const spec = parseWith(CalibrationFile, raw, source);
  checkUnits(spec.params, source);
  return spec;
}

/** Checks one platform profile file. */
export function parsePlatform(raw: unknown, source: string): PlatformSpec {
  const spec = parseWith(PlatformFile, raw, source);
  checkUnits(spec.params, source);
  return spec;
}

/** Combines default.json with an override file (its parameters replace the defaults and are kept
 *  from the platform profile) and the platform profiles the machine may match. */
export function mergeCalibration(base: CalibrationFileSpec, over?: CalibrationFileSpec, platforms: PlatformSpec[] = []): Calibration {
  const params = {} as Record<ParamName, ParamSpec>;
  const explicit: ParamName[] = [];
  for (const name of PARAM_NAMES) {
    const p = over?.params[name] ?? base.params[name];
    if (!p) throw new InputError(`params.${name}`, undefined, "default calibration must define every parameter", base.name);
    params[name] = p;
    if (over?.params[name]) explicit.push(name);
  }
  const cal: Calibration = { name: over?.name ?? base.name, params, explicit, platforms };
  const topology = over?.topology ?? base.topology;
  if (topology) cal.topology = topology;
  return cal;
}

/** The value of one parameter. */
export function param(cal: Calibration, name: ParamName): number {
  cal.reads?.add(name);
  return cal.params[name].value;
}

/** A copy of `cal` that records the parameters the model reads from it (in `reads`). */
export function trackReads(cal: Calibration): Calibration {
  return { ...cal, reads: new Set() };
}

/** A copy of `cal` with some values replaced (for sweeps); the source says "override" and the
 *  platform profile no longer touches them. */
export function withParams(cal: Calibration, values: Partial<Record<ParamName, number>>): Calibration {
  const params = { ...cal.params };
  const explicit = new Set(cal.explicit);
  for (const [k, v] of Object.entries(values) as [ParamName, number][]) {
    if (!(k in PARAM_UNITS)) throw new InputError("params", k, "unknown calibration parameter");
    if (!Number.isFinite(v)) throw new InputError(`params.${k}`, v, "must be a finite number");
    params[k] = { value: v, unit: PARAM_UNITS[k], source: "override", sourceId: "override", status: "ESTIMATE" };
    explicit.add(k);
  }
  return { ...cal, params, explicit: [...explicit] };
}
