// Models: how every step reports failure (DESIGN §4): a step handler throws StepError with the
// message that becomes the step's `error` (errno name first when the kernel would fail the call,
// else the field path and value); the run records it and goes on with the next step.
// Leaves out: bad input found before a run starts (InputError) and broken invariants (InternalError).
export class StepError extends Error {
  override readonly name = "StepError";
}
