// Models: where a CLI command writes, so commands run the same in-process (tests, notebooks)
// and as the `p2pdma-lab` binary, which can also take bytes for standard output (a large JSON
// result written from a reused buffer, without a string per piece). Leaves out: reading standard input.
import { writeSync } from "node:fs";

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** Writes UTF-8 bytes to the same place as `out`, before returning (the caller reuses them); optional. */
  outBytes?(bytes: Uint8Array): void;
}

/** Exit statuses of DESIGN §4. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_BAD_INPUT = 2;
/** EX_SOFTWARE (sysexits.h): a broken invariant of the kit, never bad input. */
export const EXIT_INTERNAL = 70;

/** Collects output in memory: for tests and for calling the CLI from a notebook. */
export function bufferIo(): CliIo & { stdout: () => string; stderr: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    stdout: () => out.join(""),
    stderr: () => err.join(""),
  };
}

/**
 * Writes `bytes` to standard output at once (a full pipe is waited for). A failure goes to
 * process.stdout's error handlers, as a failed process.stdout.write would (main.ts: EPIPE ends quietly).
 */
function writeStdout(bytes: Uint8Array): void {
  const fd = process.stdout.fd; // process.stdout first: earlier writes are out and fd 1 is set blocking (pipes, TTYs)
  for (let off = 0; off < bytes.length; ) {
    try {
      off += writeSync(fd, bytes, off, bytes.length - off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EAGAIN") continue; // a non-blocking pipe that is full
      process.stdout.emit("error", e);
      return;
    }
  }
}

export const processIo: CliIo = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  outBytes: writeStdout,
};
