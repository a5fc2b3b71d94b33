#!/usr/bin/env node
// Models: the `p2pdma-lab` command line (DESIGN §4): argument parsing and dispatch to the
// `topo`, `run`, `sweep`, `sweep merge` and `explore` commands, with exit statuses 0 / 1 / 2 (bad input,
// named) and 70 for a broken invariant of the kit itself, never a stack trace; a closed output
// pipe (`topo … | head`) ends quietly with status 0, as Unix tools do. Leaves out: the commands' work (cli/topo.ts, cli/run.ts, cli/sweep.ts, cli/explore.ts).
import { Command, CommanderError } from "commander";
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { InputError } from "../units/input-error.js";
import { CliIo, EXIT_BAD_INPUT, EXIT_INTERNAL, processIo } from "./io.js";
import { topoCommand } from "./topo.js";
import { runCommand } from "./run.js";
import { sweepCommand, sweepMergeCommand } from "./sweep.js";
import { exploreCommand, type ExploreCommandOptions } from "./explore.js";

/** Runs the CLI on `argv` (without node and script) and returns the exit status. */
export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  let status = 0;
  const program = new Command("p2pdma-lab")
    .description("Peer-to-peer DMA under Linux HMM and PCI P2PDMA rules: fabric, memory, scenarios")
    .exitOverride()
    .enablePositionalOptions()
    .configureOutput({ writeOut: io.out, writeErr: io.err });
  program
    .command("topo")
    .description("print a machine's PCIe tree with BARs and windows, then its device-pair P2P matrix")
    .argument("<file>", "topology JSON, `lspci -tv` (+ `lspci -vvv`) text, or hwloc XML")
    .option("--json", "print one JSON object { devices, pairs } (every endpoint pair; with --path, the path)")
    .option("--all", "list chipset functions too (USB, SATA, SMBus, audio, platform functions)")
    .option("--only <roles>", "only devices of these roles, comma-separated (gpu,nic,nvme,accelerator,storage,other), in listings and --json")
    .option("--path <devices...>", "the hops a DMA from the first device to the second's memory BAR takes, with each link")
    .option("--overlay <file>", "apply an overlay JSON { \"devices\": { \"<id or PCI address>\": { memory, zoneDevice, memoryBar, role, name, link, linkCurrent } } }")
    .option("--emit-json", "print the machine as the kit's topology JSON (assumptions and overlay filled in), for editing")
    .option("--pci-ids <file>", "name devices from this pci.ids (default: the system's, or $P2PDMA_LAB_PCI_IDS)")
    .action(async (file: string, opts: { json?: boolean; all?: boolean; only?: string; path?: string[]; overlay?: string; emitJson?: boolean; pciIds?: string }) => {
      status = await topoCommand(file, { ...opts, json: !!opts.json }, io);
    });
  program
    .command("run")
    .description("run a scenario file")
    .argument("<scenario>", "scenario JSON")
    .option("--json", "print the result as JSON")
    .option("--trace <file>", "write a Chrome/Perfetto trace")
    .action(async (file: string, opts: { json?: boolean; trace?: string }) => {
      status = await runCommand(file, { json: !!opts.json, trace: opts.trace }, io);
    });
  const sweep = program
    .command("sweep")
    .description("run a scenario over a grid of values, one row of metrics per point (CSV and JSON)")
    .enablePositionalOptions()
    .argument("<sweep>", "sweep JSON: { scenario, grid, metrics }")
    .option("--csv <file>", "write the rows as CSV (default: CSV on stdout)")
    .option("--json <file>", "write the rows as JSON (what `sweep merge` reads)")
    .option("--workers <n>", "worker threads (default: one per core; 0: in this thread)")
    .option("--shard <K/N>", "run shard K of N: the points whose index % N == K-1")
    .action(async (file: string, opts: { csv?: string; json?: string; workers?: string; shard?: string }) => {
      status = await sweepCommand(file, opts, io);
    });
  sweep
    .command("merge")
    .description("merge the --json outputs of a sweep's shards into the whole sweep's CSV and JSON")
    .argument("<shards...>", "the shards' JSON outputs")
    .option("--csv <file>", "write the merged rows as CSV (default: CSV on stdout)")
    .option("--json <file>", "write the merged rows as JSON")
    .action(async (files: string[], opts: { csv?: string; json?: string }) => {
      status = await sweepMergeCommand(files, opts, io);
    });
  program
    .command("explore")
    .description("explore a P2P client driver's interleavings with the owner's migrations, CPU events and DMA in flight; on a violation print the shrunk scenario")
    .requiredOption("--driver <name|file>", "a builtin driver (odp, pinned, dmabuf, and the broken variants) or a driver module (.js or .ts)")
    .requiredOption("--topology <name|file>", "the machine: a builtin name or a topology file (JSON, lspci text, hwloc XML)")
    .option("--overlay <file>", "apply an overlay JSON to the machine first, e.g. { \"devices\": { \"01:00.0\": { \"zoneDevice\": \"private\" } } } for a GPU whose memory the owner's driver manages with HMM")
    .option("--workload <file>", "workload JSON (owners, client, pages, events, maxEvents, windowNs); default: every event kind on up to 4 pages")
    .option("--runs <n>", "interleavings to run, systematic then random (default 10000)")
    .option("--seed <s>", "seed of the random part (default 1): a seed gives the same report for any --workers")
    .option("--workers <n>", "worker threads (default: one per core; 0: in this thread)")
    .option("--calibration <name|file>", "cost calibration (default: default)")
    .option("--client <device>", "the device whose driver is explored (default: the workload's, else the first NIC)")
    .option("--trace <file>", "where to write the finding's timeline (default: <driver>-finding.trace.json)")
    .option("--json", "print the report as JSON (with the finding's scenario and result)")
    .action(async (opts: ExploreCommandOptions) => {
      status = await exploreCommand(opts, io);
    });
  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : EXIT_BAD_INPUT;
    if (e instanceof InputError) {
      io.err(`p2pdma-lab: ${e.message}\n`);
      return EXIT_BAD_INPUT;
    }
    // Anything else is the kit's own fault (an InternalError or an unexpected exception).
    io.err(`p2pdma-lab: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
    return EXIT_INTERNAL;
  }
  return status;
}

function isEntryPoint(): boolean {
  if (!process.argv[1]) return false;
  try {
    return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  // A reader that goes away (`| head`) is not an error of ours: stop quietly with status 0.
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(0);
    throw e;
  });
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
