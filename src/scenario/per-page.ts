// Models: per-page results as the run's JSON carries them: the worst-case characters a page's
// number or snapshot name takes (to reserve room before a step runs, RunContext.reservePerPage),
// and the conversion of a typed array of page values into the plain array the result holds
// (small integers as such, so the JSON writer takes its fast path). Leaves out: printing (cli/).
import { snapshotByteName } from "./snapshot-format.js";

/** Characters of the longest JSON number ("-1.2345678901234567e-308") plus its comma. */
export const VALUE_CHARS = 25;

/** Characters of the longest snapshot entry name, quoted, plus its comma. */
export const ENTRY_CHARS = (() => {
  let n = 0;
  for (let b = 0; b < 256; b++) n = Math.max(n, snapshotByteName(b).length);
  return n + 3;
})();

/** The values of `data` as a plain array (packed: filled before it is written); integral values become small integers. */
export function toNumbers(data: Float64Array): number[] {
  const out = new Array<number>(data.length).fill(0);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    const s = v | 0;
    out[i] = s === v ? s : v;
  }
  return out;
}
