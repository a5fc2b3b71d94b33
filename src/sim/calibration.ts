// Models: the cost model's parameters as calibration files (data/calibration/*.json): every number is
// `{ value, unit, source, status }`, status saying whether it was READ in a source, DERIVED from READ
// numbers, recalled from MEMORY, or an ESTIMATE. A machine file overrides part of default.json.
// Leaves out: reading files (scenario/load.ts); per-device parameter sets (one value per machine);
// units are fixed per parameter.
import { z } from "zod";
import { InputError } from "../units/input-error.js";

/** Every parameter the cost model reads, with its unit. */
export const PARAM_UNITS = {
  // PCIe (costs.md §1)
  pcieMps: "B", pcieMrrs: "B", flitHeaderBytes: "B", pcieDefaultGen: "gen", pcieDefaultWidth: "lanes",
  switchHopNs: "ns", rootComplexHopNs: "ns", deviceReadRttNs: "ns", hostReadLineNs: "ns",
  readOutstandingBytes: "B", hostDmaEfficiency: "ratio", rcP2pFactor: "ratio",
  // NVLink and the socket interconnect (costs.md §4)
  nvlink1GBps: "GB/s", nvlink2GBps: "GB/s", nvlink3GBps: "GB/s", nvlink4GBps: "GB/s", nvlink5GBps: "GB/s",
  nvlinkHopNs: "ns", socketGBps: "GB/s", socketHopNs: "ns",
  // API-level copy latencies (costs.md §2.1, §6.1)
  copyLaunchNs: "ns", hostStagingSyncNs: "ns",
  // HMM path (costs.md §3, §6.2)
  cpuFaultNs: "ns", deviceFaultBatchNs: "ns", deviceFaultPageNs: "ns", faultBatchMax: "faults",
  snapshotPageNs: "ns", notifierCallbackNs: "ns", deviceTlbInvalidateNs: "ns", invlpgNs: "ns",
  tlbFlushCeilingPages: "pages", ipiShootdownNs: "ns", migrateBatchMax: "pages", migrateSetupNs: "ns",
  migratePageNs: "ns", migrateFinalizeNs: "ns",
  // IOMMU (costs.md §5, §6.3)
  dmaMapNs: "ns", dmaMapSgNs: "ns", dmaMapSgEntries: "entries", dmaUnmapNs: "ns", iommuPageBytes: "B",
  iotlbEntries: "entries", iotlbMissNs: "ns", iotlbWalkers: "walks", peerMapSetupNs: "ns", apertureRemapNs: "ns",
  // UVMSmart-compatible mode (costs.md §3.1)
  uvmsSpeedA: "GiB/s", uvmsSpeedB: "1/KB", uvmsHalveBytes: "B", uvmsFaultCycles: "cycles", uvmsClockMHz: "MHz",
} as const;

export type ParamName = keyof typeof PARAM_UNITS;
export const PARAM_NAMES = Object.keys(PARAM_UNITS) as ParamName[];

export const ParamStatus = z.enum(["READ", "DERIVED", "MEMORY", "ESTIMATE"]);

export const Param = z.strictObject({
  value: z.number().finite(),
  unit: z.string().min(1),
  /** Where the number comes from: the reference note section and its primary source. */
  source: z.string().min(1),
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
export type CalibrationFileSpec = z.output<typeof CalibrationFile>;
export type ParamSpec = z.output<typeof Param>;

/** A full parameter set: default.json overlaid by one machine file. */
export interface Calibration {
  name: string;
  topology?: string;
  params: Record<ParamName, ParamSpec>;
}

/** Checks one parsed file: shape (strict) and each parameter's unit. */
export function parseCalibration(raw: unknown, source: string): CalibrationFileSpec {
  const parsed = CalibrationFile.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue.path.map(String).join(".") || "(root)";
    let value: unknown = raw;
    for (const k of issue.path) value = (value as Record<string | number, unknown> | undefined)?.[k as string];
    throw new InputError(field, value, issue.message, source);
  }
  for (const name of PARAM_NAMES) {
    const p = parsed.data.params[name];
    if (p && p.unit !== PARAM_UNITS[name]) {
      throw new InputError(`params.${name}.unit`, p.unit, `unit must be "${PARAM_UNITS[name]}"`, source);
    }
  }
  return parsed.data;
}

/** Combines default.json with an override file (its parameters replace the defaults). */
export function mergeCalibration(base: CalibrationFileSpec, over?: CalibrationFileSpec): Calibration {
  const params = {} as Record<ParamName, ParamSpec>;
  for (const name of PARAM_NAMES) {
    const p = over?.params[name] ?? base.params[name];
    if (!p) throw new InputError(`params.${name}`, undefined, "default calibration must define every parameter", base.name);
    params[name] = p;
  }
  const cal: Calibration = { name: over?.name ?? base.name, params };
  const topology = over?.topology ?? base.topology;
  if (topology) cal.topology = topology;
  return cal;
}

/** The value of one parameter. */
export function param(cal: Calibration, name: ParamName): number {
  return cal.params[name].value;
}

/** A copy of `cal` with some values replaced (for sweeps); the source says "override". */
export function withParams(cal: Calibration, values: Partial<Record<ParamName, number>>): Calibration {
  const params = { ...cal.params };
  for (const [k, v] of Object.entries(values) as [ParamName, number][]) {
    if (!(k in PARAM_UNITS)) throw new InputError("params", k, "unknown calibration parameter");
    if (!Number.isFinite(v)) throw new InputError(`params.${k}`, v, "must be a finite number");
    params[k] = { value: v, unit: PARAM_UNITS[k], source: "override", status: "ESTIMATE" };
  }
  return { ...cal, params };
}
