// Models: where a CLI command writes, so commands run the same in-process (tests, notebooks)
// and as the `p2pdma-lab` binary. Leaves out: reading standard input.

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
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

export const processIo: CliIo = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
};
