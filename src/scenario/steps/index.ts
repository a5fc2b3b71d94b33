// Models: the table that maps each scenario step kind to its handler (DESIGN §4's step list).
// Leaves out: the handlers (one module per family beside this one).
import { cpuRead, cpuWrite } from "./cpu.js";
import { checkExclusive, deviceRead, deviceWrite, exclusive, flags, migrateToDevice, migrateToSystem, release, snapshot } from "./dmirror.js";
import { fork, mmap, mprotect, munmap } from "./memory.js";
import { dma, peerMap, peerUnmap, resizeBar } from "./p2p.js";
import { parallel } from "./parallel.js";
import { transfer } from "./transfer.js";
import type { StepHandlers } from "./types.js";

export const STEP_HANDLERS: StepHandlers = {
  mmap, munmap, mprotect, fork, cpuRead, cpuWrite,
  deviceRead, deviceWrite, migrateToDevice, migrateToSystem, snapshot, exclusive, checkExclusive, release, flags,
  peerMap, dma, peerUnmap, resizeBar, transfer, parallel,
};

export { Deferred, type StepHandler, type StepHandlers } from "./types.js";
