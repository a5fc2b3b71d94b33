// Models: showing a sweep's progress: a bar on a terminal (cli-progress, drawn only when the
// stream is a TTY, so logs and pipes stay clean), and in a tslab notebook one display that is
// rewritten in place (tslab's newDisplay) with a <progress> bar, the points done and failed, and
// the time. Both are `onProgress` callbacks for runSweep.
// Leaves out: progress in Jupyter kernels other than tslab (the notebook display prints nothing there).
import cliProgress from "cli-progress";
import { createRequire } from "node:module";
import type { SweepProgress } from "./run.js";

/** A progress bar on `stream` (stderr), started at the first point; `stop()` ends it. Draws nothing unless the stream is a TTY. */
export function terminalProgress(stream: NodeJS.WriteStream): { onProgress: (p: SweepProgress) => void; stop: () => void } {
  const bar = new cliProgress.SingleBar({
    stream,
    format: "sweep [{bar}] {value}/{total} points | {failed} failed | {duration_formatted} elapsed | eta {eta_formatted}",
    hideCursor: true,
    etaBuffer: 50,
  }, cliProgress.Presets.shades_classic);
  let started = false;
  return {
    onProgress: (p) => {
      if (!started) bar.start(p.total, 0, { failed: 0 });
      started = true;
      bar.update(p.done, { failed: p.failed });
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}

interface TslabDisplay {
  html(s: string): void;
}

/** Milliseconds between two redraws of the notebook display (the last point always redraws). */
const NOTEBOOK_REDRAW_MS = 100;

/**
 * An `onProgress` that keeps one display in a tslab notebook up to date: a bar, points done of
 * the total, failures and elapsed time. Outside a tslab kernel it shows nothing.
 */
export function notebookProgress(label = "sweep"): (p: SweepProgress) => void {
  let display: TslabDisplay | undefined;
  try {
    display = (createRequire(import.meta.url)("tslab") as { newDisplay(): TslabDisplay }).newDisplay();
  } catch {
    display = undefined; // tslab is not installed: not a notebook
  }
  let last = 0;
  return (p) => {
    const now = Date.now();
    if (!display || (p.done < p.total && now - last < NOTEBOOK_REDRAW_MS)) return;
    last = now;
    const text = `${label}: ${p.done}/${p.total} points, ${p.failed} failed, ${(p.elapsedMs / 1000).toFixed(1)} s`;
    try {
      display.html(`<div style="font-family:monospace"><progress value="${p.done}" max="${p.total}" style="width:20em"></progress> ${text}</div>`);
    } catch {
      display = undefined; // "Not ready": tslab is installed but this process is not a kernel
    }
  };
}
