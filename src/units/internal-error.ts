// Models: the kit's own invariant broken (the event engine asked to go back in time, a cost that is
// not a finite number, a ledger inconsistency): a bug in the kit, never bad input. The CLI reports
// it as an internal error and exits 70 (EX_SOFTWARE). Leaves out: recovery (a run stops).
export class InternalError extends Error {
  override readonly name = "InternalError";
}
