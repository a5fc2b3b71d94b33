// Models: the scenario's P2P steps (DESIGN §4, issue 5): peerMap, dma and peerUnmap run by the
// client driver of the named endpoint in the step's process, with their results (pages per
// path, map types, DMA addresses, values). Leaves out: the dmirror ioctls' own `p2p` flag
// (runner.ts passes it to the dmirror driver).
import type { Mm } from "../memory/address-space.js";
import { errnoName } from "../memory/errno.js";
import type { P2pMachine } from "../devices/p2p-system.js";
import { InputError } from "../units/input-error.js";
import { hex, PAGE_SIZE } from "../units/size.js";
import type { StepSpec } from "./schema.js";

type P2pStep = Extract<StepSpec, { op: "peerMap" | "dma" | "peerUnmap" }>;

/** Runs one P2P step on pages [start, start+count) (buffer page `first` onwards); a string is the step's error. */
export function execP2pStep(
  machine: P2pMachine, step: P2pStep, mm: Mm, start: number, count: number, first: number, at: (f: string) => string,
): { result: Record<string, unknown> } | { error: string } {
  let client;
  try {
    client = machine.client(step.device);
  } catch (e) {
    if (e instanceof InputError) return { error: `${at("device")}: unknown device ${JSON.stringify(step.device)} (no PCI function of this id in the topology)` };
    throw e;
  }
  const where = (page: number | undefined) => (page === undefined ? "" : ` at page ${page - start + first} (${hex(page * PAGE_SIZE)})`);
  const mirror = client.open(mm);
  switch (step.op) {
    case "peerMap": {
      if (step.policy !== undefined) client.policy = step.policy;
      if (step.fallback !== undefined) client.fallback = step.fallback;
      const r = mirror.peerMap(start, count, (step.access ?? "rw") === "rw");
      if (r.ret !== 0) return { error: `${errnoName(r.ret)}: peerMap failed${where(r.page)}: ${r.reason}` };
      const result: Record<string, unknown> = { cpages: r.cpages, faults: r.faults, paths: r.paths, mapTypes: r.mapTypes };
      if (r.local > 0) result.local = r.local;
      if (r.bounced > 0) result.bounced = r.bounced;
      if (r.pagePaths.length > 0) {
        result.pagePaths = r.pagePaths;
        result.addresses = r.addresses;
      }
      return { result };
    }
    case "dma": {
      const write = step.value !== undefined;
      const v = step.value;
      const r = mirror.dma(start, count, write, (k) => (v === "index" ? first + k : (v as number)));
      if (r.ret !== 0) return { error: `${errnoName(r.ret)}: dma ${write ? "write" : "read"} failed${where(r.page)} after ${r.cpages} pages: ${r.reason}` };
      return { result: write ? { cpages: r.cpages } : { cpages: r.cpages, values: r.values } };
    }
    case "peerUnmap":
      return { result: { cpages: mirror.peerUnmap(start, count) } };
  }
}
