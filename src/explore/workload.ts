// Models: what the explorer puts a driver through: a buffer whose pages an owner device holds as
// device-private memory, the driver's device peer-mapping it, and a handful of things that may
// happen while the mapping is made and used (the owner migrating pages back or reclaiming its
// memory, the CPU touching or unmapping them, fork, mprotect, the driver's own DMA in flight, maps
// and unmaps), each at a time offset from the mapping's start, so that every ordering between the
// driver's preemption points and those events can be tried. A case is plain data; it becomes a
// scenario (scenario JSON that `p2pdma-lab run` replays) with the driver named for its device.
// Leaves out: several processes' buffers and more than one client device per case.
import { z } from "zod";
import type { Fabric } from "../fabric/types.js";
import { inputErrorFromZod } from "../units/zod-input-error.js";
import { InputError } from "../units/input-error.js";
import { builtScenario } from "../scenario/parse.js";
import type { ScenarioSpec } from "../scenario/schema.js";

export const EVENT_KINDS = [
  "dmaRead", "dmaWrite", "peerMap", "peerUnmap", "cpuRead", "cpuWrite", "migrateToSystem", "migrateToDevice", "munmap", "fork", "mprotect", "release",
] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

export const Workload = z.strictObject({
  $schema: z.string().optional().describe("The JSON Schema this file follows (for editors)."),
  description: z.string().optional().describe("What the workload exercises, for the reader."),
  owners: z.array(z.string().min(1)).min(1).optional()
    .describe("Devices whose device-private memory holds the buffer (one per case); default: every ZONE_DEVICE private endpoint but the client."),
  client: z.string().min(1).optional().describe("The device whose driver is explored; default: the first NIC, else the first endpoint that is not an owner."),
  pages: z.number().int().min(1).max(64).default(4).describe("Largest buffer, in pages (each case takes 1 to this many)."),
  events: z.array(z.enum(EVENT_KINDS)).min(1).default([...EVENT_KINDS]).describe("The kinds of events a case may contain."),
  maxEvents: z.number().int().min(1).max(16).default(4).describe("Most events in one case."),
  windowNs: z.number().int().min(1).default(6000).describe("Events fall within this many ns of the mapping's start."),
}).describe("An explorer workload: the buffer, the devices and the events that interleave with the driver.");
export type WorkloadSpec = z.output<typeof Workload>;

/** Checks a workload object; bad input names the field and value. */
export function parseWorkload(input: unknown, source = "workload"): WorkloadSpec {
  const r = Workload.safeParse(input ?? {});
  if (r.success) return r.data;
  throw inputErrorFromZod(r.error, input, { root: "(workload)", discriminator: "kind", source, schema: Workload });
}

/** One event of a case: what happens, how long after the mapping starts, on which pages. */
export interface CaseEvent {
  kind: EventKind;
  offsetNs: number;
  first: number;
  count: number;
}

/** One explored run: the owner, the buffer's size, the events, the seed for same-time ties. */
export interface ExploreCase {
  owner: string;
  pages: number;
  events: CaseEvent[];
  seed: number;
}

/** The devices a workload uses on a machine. */
export interface WorkloadDevices {
  owners: string[];
  client: string;
}

/** When the peer mapping starts: after the setup steps (a buffer of a few pages migrates in tens of µs). */
export const MAP_START_NS = 1_000_000;

/** The workload's owners and client on `fabric`, defaults filled; bad names are InputErrors. */
export function workloadDevices(w: WorkloadSpec, fabric: Fabric, client?: string): WorkloadDevices {
  const ids = new Set(fabric.functions.map((f) => f.id));
  const privateMem = fabric.functions.filter((f) => f.kind === "endpoint" && f.zoneDevice === "private").map((f) => f.id);
  const endpoints = fabric.functions.filter((f) => f.kind === "endpoint" && f.role !== "hostFunction");
  const who = client ?? w.client ?? endpoints.find((f) => f.role === "nic")?.id ?? endpoints.find((f) => !privateMem.includes(f.id))?.id;
  if (who === undefined || !ids.has(who)) throw new InputError("client", who ?? null, `not an endpoint of topology "${fabric.name}"`);
  for (const o of w.owners ?? []) if (!privateMem.includes(o)) throw new InputError("owners", o, `not an endpoint with device-private memory in topology "${fabric.name}" (those: ${privateMem.join(", ") || "none"})`);
  const owners = (w.owners ?? privateMem).filter((o) => o !== who);
  if (owners.length === 0) throw new InputError("owners", w.owners ?? [], `topology "${fabric.name}" has no device-private memory besides the client's: nothing to map peer to peer`);
  return { owners, client: who };
}

/** The scenario a case stands for: setup, the mapping at MAP_START_NS, the events, a final DMA and CPU read. */
export function caseScenario(c: ExploreCase, devices: WorkloadDevices, driver: string, topology: string, overlay?: unknown): ScenarioSpec {
  const { client } = devices;
  const owner = c.owner;
  const buffer = "a";
  const steps: Record<string, unknown>[] = [
    { op: "mmap", buffer, pages: c.pages, prot: "rw" },
    { op: "cpuWrite", buffer, value: "index" },
    { op: "migrateToDevice", device: owner, buffer },
    { op: "peerMap", device: client, buffer, at: MAP_START_NS },
  ];
  const events = [...c.events].sort((a, b) => a.offsetNs - b.offsetNs);
  events.forEach((e, k) => {
    const range = { buffer, first: Math.min(e.first, c.pages - 1), count: Math.max(1, Math.min(e.count, c.pages - Math.min(e.first, c.pages - 1))) };
    const at = MAP_START_NS + e.offsetNs;
    const step = eventStep(e.kind, k, range, client, owner);
    steps.push({ ...step, at });
  });
  steps.push({ op: "dma", device: client, buffer }, { op: "cpuRead", buffer });
  const description = `explorer case: driver ${driver} on ${client}, buffer of ${c.pages} page${c.pages === 1 ? "" : "s"} in ${owner}'s memory`;
  // Built to the schema (the explorer's tests parse every kind of case): runs take it unchecked.
  const spec = { description, topology, ...(overlay !== undefined ? { topologyOverlay: overlay } : {}), seed: c.seed, drivers: { [client]: driver }, steps };
  return builtScenario(spec as unknown as ScenarioSpec);
}

function eventStep(kind: EventKind, k: number, range: { buffer: string; first: number; count: number }, client: string, owner: string): Record<string, unknown> {
  switch (kind) {
    case "dmaRead": return { op: "dma", device: client, ...range, async: true };
    case "dmaWrite": return { op: "dma", device: client, ...range, value: 1000 + k, async: true };
    case "peerMap": return { op: "peerMap", device: client, ...range };
    case "peerUnmap": return { op: "peerUnmap", device: client, ...range };
    case "cpuRead": return { op: "cpuRead", ...range };
    case "cpuWrite": return { op: "cpuWrite", ...range, value: 2000 + k };
    case "migrateToSystem": return { op: "migrateToSystem", device: owner, ...range };
    case "migrateToDevice": return { op: "migrateToDevice", device: owner, ...range };
    case "munmap": return { op: "munmap", ...range };
    case "fork": return { op: "fork", child: `child${k}` };
    case "mprotect": return { op: "mprotect", ...range, prot: "r" };
    case "release": return { op: "release", device: owner, buffer: range.buffer };
  }
}
