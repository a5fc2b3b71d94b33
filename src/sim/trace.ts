// Models: export of a simulated timeline in the Chrome trace event format (a JSON object with
// `traceEvents`), which Perfetto and chrome://tracing open: one process per group ("devices",
// "links"), one thread per device or link, complete events ("ph": "X") with ts/dur in microseconds.
// Leaves out: flow arrows and counters tracks.
import { writeFileSync } from "node:fs";

export interface TraceSpan {
  group: "devices" | "links" | "operations";
  track: string;
  name: string;
  startNs: number;
  durNs: number;
  args?: Record<string, string | number>;
}

export interface ChromeTraceEvent {
  name: string;
  ph: "X" | "M";
  pid: number;
  tid: number;
  ts?: number;
  dur?: number;
  cat?: string;
  args?: Record<string, string | number>;
}

export interface ChromeTrace {
  traceEvents: ChromeTraceEvent[];
  displayTimeUnit: "ns" | "ms";
}

const GROUPS = ["devices", "links", "operations"] as const;

/** Builds the trace object: metadata naming each process and thread, then the spans in time order. */
export function chromeTrace(spans: readonly TraceSpan[]): ChromeTrace {
  const events: ChromeTraceEvent[] = [];
  const tids = new Map<string, number>();
  GROUPS.forEach((g, i) => {
    if (!spans.some((s) => s.group === g)) return;
    events.push({ name: "process_name", ph: "M", pid: i + 1, tid: 0, args: { name: g } });
  });
  for (const s of spans) {
    const key = `${s.group}\u0000${s.track}`;
    if (tids.has(key)) continue;
    const pid = GROUPS.indexOf(s.group) + 1;
    const tid = tids.size + 1;
    tids.set(key, tid);
    events.push({ name: "thread_name", ph: "M", pid, tid, args: { name: s.track } });
  }
  const sorted = [...spans].sort((a, b) => a.startNs - b.startNs || (a.track < b.track ? -1 : a.track > b.track ? 1 : 0));
  for (const s of sorted) {
    const ev: ChromeTraceEvent = {
      name: s.name, cat: s.group, ph: "X", pid: GROUPS.indexOf(s.group) + 1, tid: tids.get(`${s.group}\u0000${s.track}`)!,
      ts: s.startNs / 1000, dur: s.durNs / 1000,
    };
    if (s.args) ev.args = s.args;
    events.push(ev);
  }
  return { traceEvents: events, displayTimeUnit: "ns" };
}

/** Writes the trace as JSON to `file`. */
export function writeChromeTrace(file: string, spans: readonly TraceSpan[]): void {
  writeFileSync(file, JSON.stringify(chromeTrace(spans)) + "\n");
}
