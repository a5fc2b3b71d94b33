// Models: the warnings channel of the topology readers. Input that is careless but readable (a dump
// saved without its last newline, a BAR lspci printed without a size, -vvv blocks missing for some
// functions) is accepted, and each thing the reader worked around or left out becomes one
// TopologyWarning: typed like an InputError (source, field, value, reason) with the message derived.
// A caller that wants them passes `{ onWarning }` (ImportOptions) to parseTopologyText /
// parseTopologyBytes / readTopologyFile / loadTopologyFile; without it they are not reported.
// Assumptions about devices (memory the dump does not state) go the same way to `onNote`.
// Leaves out: deciding what is a warning and what is an error (each reader does, and says why).
import { formatValue } from "../../units/input-error.js";
import type { PciIds } from "./pci-ids.js";

export interface TopologyWarning {
  source: string;
  /** Where in the input: `line 12`, `line 4 column 9`, `file`. */
  field: string;
  value: unknown;
  reason: string;
  /** `source: field: reason (value: …)`, as an InputError message reads. */
  message: string;
}

/** What an importer assumed about one device (its memory, how its driver hands it to the kernel). */
export type ImportNote = TopologyWarning;

export interface ImportOptions {
  /** Called once per warning, in input order. */
  onWarning?: (warning: TopologyWarning) => void;
  /** Called once per assumption an importer made about a device (field: the device id). */
  onNote?: (note: ImportNote) => void;
  /** The PCI ID database to name devices from (and read ids from names); null or absent: the dump's
   *  names only. (readTopologyFile fills in the system's when this is absent, fabric/pci-ids-file.ts.) */
  pciIds?: PciIds | null;
}

/** Reports one warning through `options` (nothing when the caller did not ask for warnings). */
export function warn(options: ImportOptions | undefined, source: string, field: string, value: unknown, reason: string): void {
  options?.onWarning?.({ source, field, value, reason, message: `${source}: ${field}: ${reason} (value: ${formatValue(value)})` });
}

/** Reports one assumption through `options` (nothing when the caller did not ask for notes). */
export function note(options: ImportOptions | undefined, source: string, device: string, value: unknown, reason: string): void {
  options?.onNote?.({ source, field: device, value, reason, message: `${source}: ${device}: ${reason} (value: ${formatValue(value)})` });
}
