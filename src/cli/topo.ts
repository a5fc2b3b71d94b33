// Models: `p2pdma-lab topo FILE` (DESIGN §4): loads a topology (kit JSON, lspci text or hwloc XML),
// applies an overlay (--overlay FILE), and prints one of:
//  - the PCI tree, the devices (chipset functions left out unless --all), what the import assumed,
//    and the pair matrix and list (roles, names, slowest link, the rule and NOT_SUPPORTED's reason);
//  - with --json: { "devices": [...], "pairs": [...] }: every endpoint pair as DESIGN §4 asks
//    (chipset functions included), each pair grown with both ends' roles and names, the slowest link
//    of its path (capability and current), the rule that decided and its reason; notes and warnings
//    go to stderr;
//  - with --path A B: the hops a DMA from A to B's memory BAR takes, with each link (--json: the path);
//  - with --emit-json: the kit's topology JSON of the machine, assumptions and overlay filled in,
//    for editing.
// --only gpu,nic,... restricts every listing and --json to devices of those roles. Bad input throws
// InputError, which main.ts reports (exit 2).
// Leaves out: argument parsing (main.ts).
import { memoryBarOf } from "../devices/bar-aperture.js";
import { buildFabric, getFunction } from "../fabric/build.js";
import { dmaPath, renderDmaPath } from "../fabric/dma-path.js";
import type { ImportNote } from "../fabric/import/warnings.js";
import { readOverlayFile, readTopologyFile } from "../fabric/load.js";
import { applyOverlay } from "../fabric/overlay.js";
import { matrixDevices, pairMatrix } from "../fabric/pairs.js";
import { readPciIdsFile } from "../fabric/pci-ids-file.js";
import { renderDevices, renderMatrix, renderNotes, renderTree } from "../fabric/render.js";
import { DeviceRole } from "../fabric/schema.js";
import type { DeviceRole as Role, Fabric } from "../fabric/types.js";
import { platformProfiles } from "../scenario/load.js";
import { platformOf } from "../sim/platform.js";
import { InputError } from "../units/input-error.js";
import { EXIT_OK, type CliIo } from "./io.js";

export interface TopoOptions {
  json: boolean;
  /** Show chipset functions in the human listing. */
  all?: boolean;
  /** Comma-separated roles. */
  only?: string;
  /** [from, to]: print the DMA path from `from` to `to`'s memory BAR. */
  path?: string[];
  /** An overlay JSON file. */
  overlay?: string;
  /** Print the kit's topology JSON. */
  emitJson?: boolean;
  /** A pci.ids file (default: the system's). */
  pciIds?: string;
}

export async function topoCommand(file: string, opts: TopoOptions, io: CliIo): Promise<number> {
  const notes: ImportNote[] = [];
  const only = parseOnly(opts.only);
  const input = readTopologyFile(file, {
    onWarning: (w) => io.err(`p2pdma-lab: warning: ${w.message}\n`),
    onNote: (n) => notes.push(n),
    ...(opts.pciIds ? { pciIds: readPciIdsFile(opts.pciIds, "--pci-ids") } : {}),
  });
  const changed = new Map<string, string[]>();
  const topology = opts.overlay ? applyOverlay(input, readOverlayFile(opts.overlay), opts.overlay, file, changed) : input;
  const fabric = buildFabric(topology, file);
  // A named platform must be one the cost model has a profile for (run and explore refuse it too);
  // the profiles are read only then.
  if (fabric.platform !== undefined) platformOf(platformProfiles(), fabric);
  const current = notes.filter((n) => !(changed.get(n.field) ?? []).some((k) => k === "memory" || k === "zoneDevice"));
  const toStderr = () => current.forEach((n) => io.err(`p2pdma-lab: note: ${n.message}\n`));
  if (opts.emitJson) {
    toStderr();
    io.out(JSON.stringify(topology, null, 2) + "\n");
    return EXIT_OK;
  }
  if (opts.path) return pathCommand(fabric, opts.path, opts.json, io);
  if (opts.json) {
    toStderr();
    const matrix = pairMatrix(fabric, { only });
    io.out(JSON.stringify({ devices: matrix.devices, pairs: matrix.pairs }) + "\n");
    return EXIT_OK;
  }
  const shown = matrixDevices(fabric, { only, chipset: !!opts.all });
  const leftOut = matrixDevices(fabric, { only }).length - shown.length;
  io.out(renderTree(fabric));
  io.out("\n");
  io.out(renderDevices(fabric, shown, leftOut));
  const assumed = renderNotes(current);
  if (assumed) io.out(`\n${assumed}`);
  io.out("\n");
  io.out(renderMatrix(fabric, 8, pairMatrix(fabric, { only, chipset: !!opts.all })));
  return EXIT_OK;
}

function pathCommand(fabric: Fabric, ends: string[], json: boolean, io: CliIo): number {
  if (ends.length !== 2) throw new InputError("--path", ends.join(" "), "takes two devices: the one issuing the DMA, and the one whose memory BAR it reaches (--path A B)");
  const target = getFunction(fabric, ends[1], "--path");
  const bar = memoryBarOf(target) ?? [...target.bars].sort((x, y) => y.size - x.size)[0];
  if (!bar) throw new InputError("--path", ends[1], `"${target.id}" has no BAR a DMA could reach`);
  const path = dmaPath(fabric, ends[0], ends[1], bar);
  io.out(json ? `${JSON.stringify(path)}\n` : renderDmaPath(fabric, path));
  return EXIT_OK;
}

/** `--only gpu,nic,nvme` as a set of roles; InputError naming an unknown role. */
function parseOnly(only: string | undefined): Set<Role> | undefined {
  if (only === undefined) return undefined;
  const roles = new Set<Role>();
  for (const word of only.split(",").map((w) => w.trim()).filter(Boolean)) {
    const r = DeviceRole.safeParse(word);
    if (!r.success) throw new InputError("--only", word, `not a device role (roles: ${DeviceRole.options.join(", ")})`);
    roles.add(r.data);
  }
  if (roles.size === 0) throw new InputError("--only", only, `names no role (roles: ${DeviceRole.options.join(", ")})`);
  return roles;
}
