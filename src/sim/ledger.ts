// Models: the cost record of one run on one machine: a simulated clock, each operation as a span on
// its device's track (with a per-operation latency histogram), and each set of concurrent transfers
// run on the machine's resources (fair share among them) with per-link-direction bytes and busy time
// accumulated and a span per transfer and per link it loads.
// Leaves out: overlap between operations of different steps (a run's steps are sequential).
import { InternalError } from "../units/internal-error.js";
import { OpStats } from "./histogram.js";
import { directionName, type LinkGraph } from "./link-graph.js";
import { simulate, type SimResult, type Transfer } from "./simulate.js";
import type { TraceSpan } from "./trace.js";

/** Payload bytes and busy time of one link direction. */
export interface LinkDirectionUse {
  bytes: number;
  busyNs: number;
}

export class CostLedger {
  /** Simulated time, ns: the end of everything recorded so far. */
  now = 0;
  readonly spans: TraceSpan[] = [];
  readonly ops = new OpStats();
  private readonly payload: Float64Array;
  private readonly busy: Float64Array;

  constructor(readonly graph: LinkGraph) {
    this.payload = new Float64Array(graph.links.length * 2);
    this.busy = new Float64Array(graph.links.length * 2);
  }

  /** Records operation `name` of `ns` on `track` from `startNs`; returns its end. */
  op(track: string, name: string, ns: number, startNs: number, args?: Record<string, string | number>): number {
    if (!(Number.isFinite(ns) && ns >= 0)) throw new InternalError(`ledger: operation "${name}" of ${ns} ns (an operation takes a finite time >= 0)`);
    if (ns === 0) return startNs;
    this.ops.record(name, ns);
    this.spans.push(args ? { group: "devices", track, name, startNs, durNs: ns, args } : { group: "devices", track, name, startNs, durNs: ns });
    return this.end(startNs + ns);
  }

  /** Runs concurrent transfers from `startNs` on the machine; adds their bytes, busy time and spans. */
  transfers(list: readonly Transfer[], startNs: number): SimResult {
    const sim = simulate(this.graph, list);
    for (let r = 0; r < this.payload.length; r++) {
      this.payload[r] += sim.payloadBytes[r];
      this.busy[r] += sim.busyNs[r];
    }
    list.forEach((t, i) => {
      const label = t.label ?? `${t.path.from}->${t.path.to}`;
      const from = startNs + sim.startNs[i];
      const args = { bytes: t.bytes, kind: t.path.kind, class: t.path.topoClass };
      this.ops.record(label, sim.endNs[i] - sim.startNs[i]);
      this.spans.push({ group: "devices", track: t.path.initiator, name: label, startNs: from, durNs: sim.endNs[i] - sim.startNs[i], args });
      for (const r of t.path.resources) {
        if (r >= this.payload.length) continue;
        const l = this.graph.links[r >> 1];
        this.spans.push({ group: "links", track: `${l.id} ${directionName(l.kind, r & 1)}`, name: label, startNs: from, durNs: sim.dataEndNs[i] - sim.startNs[i], args });
      }
    });
    this.end(startNs + sim.makespanNs);
    return sim;
  }

  /** A span on the run's own track (a step from start to end). */
  mark(track: string, name: string, startNs: number, endNs: number, args?: Record<string, string | number>): void {
    const span: TraceSpan = { group: "operations", track, name, startNs, durNs: endNs - startNs };
    if (args) span.args = args;
    this.spans.push(span);
  }

  /** Payload bytes per link id (both directions), links that moved nothing left out. */
  bytesPerLink(): Record<string, number> {
    const out: Record<string, number> = {};
    this.graph.links.forEach((l, i) => {
      const b = this.payload[2 * i] + this.payload[2 * i + 1];
      if (b > 0) out[l.id] = b;
    });
    return out;
  }

  /** Bytes and busy time per link direction ("down"/"up" for PCIe, "a->b"/"b->a" otherwise). */
  linkUse(): Record<string, Record<string, LinkDirectionUse>> {
    const out: Record<string, Record<string, LinkDirectionUse>> = {};
    this.graph.links.forEach((l, i) => {
      if (this.busy[2 * i] === 0 && this.busy[2 * i + 1] === 0) return;
      const dirs: Record<string, LinkDirectionUse> = {};
      for (const d of [0, 1]) if (this.busy[2 * i + d] > 0) dirs[directionName(l.kind, d)] = { bytes: this.payload[2 * i + d], busyNs: this.busy[2 * i + d] };
      out[l.id] = dirs;
    });
    return out;
  }

  private end(t: number): number {
    if (t > this.now) this.now = t;
    return t;
  }
}
