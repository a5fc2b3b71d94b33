// Models: `p2pdma-lab topo FILE [--json]` (DESIGN §4): loads a topology (kit JSON, lspci text or
// hwloc XML), prints the PCI tree and the device-pair matrix, or with --json exactly
// { "devices": [...], "pairs": [...] }. Bad input throws InputError, which main.ts reports (exit 2).
// Leaves out: argument parsing (main.ts).
import { loadTopologyFile } from "../fabric/load.js";
import { pairMatrix } from "../fabric/pairs.js";
import { renderMatrix, renderTree } from "../fabric/render.js";
import { EXIT_OK, type CliIo } from "./io.js";

export async function topoCommand(file: string, opts: { json: boolean }, io: CliIo): Promise<number> {
  const fabric = loadTopologyFile(file, { onWarning: (w) => io.err(`p2pdma-lab: warning: ${w.message}\n`) });
  const matrix = pairMatrix(fabric);
  if (opts.json) {
    io.out(JSON.stringify({ devices: matrix.devices, pairs: matrix.pairs }) + "\n");
  } else {
    io.out(renderTree(fabric));
    io.out("\n");
    io.out(renderMatrix(fabric, 8, matrix));
  }
  return EXIT_OK;
}
