// Models: concurrent transfers on a topology's links over simulated time: each transfer starts at
// its start time, streams at its max-min fair share (recomputed whenever one starts or finishes),
// and completes its fixed path latency after its last byte; per-link bytes and busy time are counted.
// Leaves out: packet-level effects (each transfer is a fluid flow), retries, and host-memory bandwidth.
import { InputError } from "../units/input-error.js";
import { Engine } from "./engine.js";
import { maxMinRates } from "./fair-share.js";
import type { LinkGraph, SimPath } from "./paths.js";
import type { TraceSpan } from "./trace.js";

export interface Transfer {
  path: SimPath;
  bytes: number;
  startNs?: number;
  label?: string;
}

export interface TransferResult {
  label: string;
  startNs: number;
  /** When the last byte left the bottleneck. */
  dataEndNs: number;
  /** dataEndNs + the path's fixed latency. */
  endNs: number;
  /** bytes / (endNs - startNs), GB/s. */
  gbps: number;
}

export interface LinkUsage {
  id: string;
  /** Payload bytes per direction (0: a -> b, 1: b -> a). */
  bytes: [number, number];
  /** Wire bytes (payload + TLP/DLLP overhead) per direction. */
  wireBytes: [number, number];
  /** Time with at least one transfer on the direction, ns. */
  busyNs: [number, number];
}

export interface SimResult {
  transfers: TransferResult[];
  links: LinkUsage[];
  makespanNs: number;
  events: number;
  spans: TraceSpan[];
}

/** Runs the transfers to completion on the links of `graph`. */
export function simulate(graph: LinkGraph, transfers: readonly Transfer[]): SimResult {
  const n = transfers.length;
  const nRes = graph.links.length * 2;
  const capacities = new Float64Array(nRes);
  graph.links.forEach((l, i) => {
    capacities[2 * i] = l.capacityGBps;
    capacities[2 * i + 1] = l.capacityGBps;
  });
  const offsets = new Int32Array(n + 1);
  transfers.forEach((t, i) => {
    if (!(Number.isFinite(t.bytes) && t.bytes > 0)) throw new InputError(`transfers[${i}].bytes`, t.bytes, "must be a positive number of bytes");
    const s = t.startNs ?? 0;
    if (!(Number.isFinite(s) && s >= 0)) throw new InputError(`transfers[${i}].startNs`, t.startNs, "must be a time >= 0");
    offsets[i + 1] = offsets[i] + t.path.resources.length;
  });
  const resources = new Int32Array(offsets[n]);
  const weights = new Float64Array(offsets[n]);
  const caps = new Float64Array(n);
  transfers.forEach((t, i) => {
    t.path.resources.forEach((r, k) => {
      if (r < 0 || r >= nRes) throw new InputError(`transfers[${i}].path.resources[${k}]`, r, "no such link direction in this graph");
      resources[offsets[i] + k] = r;
      weights[offsets[i] + k] = t.path.weights[k];
    });
    caps[i] = t.path.capGBps;
  });
  const active = new Uint8Array(n);
  const set = { count: n, offsets, resources, weights, caps, active };
  const rates = new Float64Array(n);
  const remaining = new Float64Array(n);
  const startAt = new Float64Array(n);
  const dataEnd = new Float64Array(n).fill(-1);
  const scratch = { left: new Float64Array(nRes), load: new Float64Array(nRes), frozen: new Uint8Array(n) };
  const payloadBytes = new Float64Array(nRes);
  const wireBytes = new Float64Array(nRes);
  const busy = new Float64Array(nRes);
  const resLoad = new Float64Array(nRes);
  let last = 0;
  let epoch = 0;
  let running = 0;

  const engine = new Engine(Math.max(16, 2 * n));
  const advance = (now: number): void => {
    const dt = now - last;
    if (dt <= 0) return;
    resLoad.fill(0);
    for (let f = 0; f < n; f++) {
      if (!active[f]) continue;
      const moved = Math.min(remaining[f], rates[f] * dt);
      remaining[f] -= moved;
      for (let k = offsets[f]; k < offsets[f + 1]; k++) {
        // Data directions carry (payload + header)/payload >= 1 wire bytes per byte; read-request
        // directions carry less than 1 and move no payload.
        if (weights[k] >= 1) payloadBytes[resources[k]] += moved;
        wireBytes[resources[k]] += moved * weights[k];
        resLoad[resources[k]] = 1;
      }
    }
    for (let r = 0; r < nRes; r++) if (resLoad[r]) busy[r] += dt;
    last = now;
  };
  const reschedule = (e: Engine): void => {
    maxMinRates(set, capacities, rates, scratch);
    let next = Infinity;
    for (let f = 0; f < n; f++) {
      if (!active[f]) continue;
      if (rates[f] <= 0) throw new InputError(`transfers[${f}].path`, transfers[f].path.to, "transfer gets no bandwidth (zero capacity on its path)");
      next = Math.min(next, remaining[f] / rates[f]);
    }
    epoch++;
    if (next < Infinity) e.after(Math.max(1, next), FINISH, epoch);
  };
  const START = engine.register("transfer-start", (e, f) => {
    advance(e.now);
    active[f] = 1;
    running++;
    reschedule(e);
  });
  const FINISH = engine.register("transfer-progress", (e, ep) => {
    if (ep !== epoch) return; // superseded by a later start or finish
    advance(e.now);
    for (let f = 0; f < n; f++) {
      if (active[f] && remaining[f] <= 1e-6 * Math.max(1, transfers[f].bytes)) {
        active[f] = 0;
        remaining[f] = 0;
        dataEnd[f] = e.now;
        running--;
      }
    }
    if (running > 0) reschedule(e);
  });
  transfers.forEach((t, i) => {
    remaining[i] = t.bytes;
    startAt[i] = Math.ceil(t.startNs ?? 0);
    engine.at(startAt[i], START, i);
  });
  engine.run();

  const results: TransferResult[] = [];
  const spans: TraceSpan[] = [];
  let makespan = 0;
  transfers.forEach((t, i) => {
    const end = dataEnd[i] + Math.ceil(t.path.latencyNs);
    makespan = Math.max(makespan, end);
    const label = t.label ?? `${t.path.from}->${t.path.to}`;
    results.push({ label, startNs: startAt[i], dataEndNs: dataEnd[i], endNs: end, gbps: t.bytes / (end - startAt[i]) });
    const args = { bytes: t.bytes, kind: t.path.kind, class: t.path.topoClass };
    spans.push({ group: "devices", track: t.path.kind === "write" ? t.path.from : t.path.to, name: label, startNs: startAt[i], durNs: end - startAt[i], args });
    for (const r of t.path.resources) {
      const l = graph.links[r >> 1];
      spans.push({ group: "links", track: `${l.id} ${directionName(l.kind, r & 1)}`, name: label, startNs: startAt[i], durNs: dataEnd[i] - startAt[i], args });
    }
  });
  const links: LinkUsage[] = graph.links.map((l, i) => ({
    id: l.id,
    bytes: [payloadBytes[2 * i], payloadBytes[2 * i + 1]],
    wireBytes: [wireBytes[2 * i], wireBytes[2 * i + 1]],
    busyNs: [busy[2 * i], busy[2 * i + 1]],
  }));
  return { transfers: results, links, makespanNs: makespan, events: engine.dispatched, spans };
}

/** PCIe direction 0 is parent -> child (down); other links name their ends' order. */
function directionName(kind: string, dir: number): string {
  if (kind === "pcie") return dir ? "up" : "down";
  return dir ? "b->a" : "a->b";
}
