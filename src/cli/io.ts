// Models: where a CLI command writes, so commands run the same in-process (tests, notebooks)
// and as the `p2pdma-lab` binary, which can also take bytes for standard output (a large JSON
// result written from a reused buffer, without a string per piece). Leaves out: reading standard input.
import { writeSync } from "node:fs";

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** Writes UTF-8 bytes to the same place as `out`, done with them on return (the caller reuses them); optional. */
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

/** A word to sleep on (Atomics.wait) while a full pipe drains. */
const nap = new Int32Array(new SharedArrayBuffer(4));

/**
 * Writes `bytes` to standard output before returning; a failure goes to process.stdout's error
 * handlers, as a failed process.stdout.write's would (main.ts ends quietly on EPIPE). A full pipe
 * (standard output is non-blocking) is waited for by sleeping, 50 us at first, longer while the
 * reader stays away, never by spinning. Bytes go behind whatever process.stdout still holds.
 */
function writeStdout(bytes: Uint8Array): void {
  const out = process.stdout;
  if (out.writableLength > 0) {
    out.write(Buffer.from(bytes)); // a copy: the caller reuses its buffer
    return;
  }
  let waitMs = 0.05;
  for (let off = 0; off < bytes.length; ) {
    try {
      off += writeSync(out.fd, bytes, off, bytes.length - off);
      waitMs = 0.05;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EAGAIN") {
        out.emit("error", e);
        return;
      }
      Atomics.wait(nap, 0, 0, waitMs);
      waitMs = Math.min(waitMs * 2, 20);
    }
  }
}

export const processIo: CliIo = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  outBytes: writeStdout,
};
