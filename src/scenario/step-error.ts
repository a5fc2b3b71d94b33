// Models: how every step reports failure (DESIGN §4): a step handler throws StepError with the
// message that becomes the step's `error` (errno name first when the kernel would fail the call,
// else the field path and value); the run records it and goes on with the next step.
// Leaves out: bad input found before a run starts (InputError) and broken invariants (InternalError).
export class StepError extends Error {
  override readonly name = "StepError";

  constructor(message: string) {
    // A step's failure is an outcome, not a bug: no stack trace is captured (runs fail steps often).
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(message);
    Error.stackTraceLimit = limit;
  }
}
