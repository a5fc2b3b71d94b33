// Models: the one kind of error the kit raises for bad user input (a topology, a dump, a
// scenario). It names the offending field path and value so the CLI can print it and exit 2.
// Leaves out: errors inside a scenario step, which are results, not exceptions.

/** Bad input: `field` is a dotted path (`nodes[3].bars[0].size`), `value` what was found. */
export class InputError extends Error {
  readonly field: string;
  readonly value: unknown;
  constructor(field: string, value: unknown, reason: string, source?: string) {
    const where = source ? `${source}: ` : "";
    super(`${where}${field}: ${reason} (value: ${formatValue(value)})`);
    this.name = "InputError";
    this.field = field;
    this.value = value;
  }
}

/** Short printable form of an offending value: long strings and objects are cut. */
export function formatValue(value: unknown): string {
  let text: string;
  if (typeof value === "string") text = JSON.stringify(value);
  else if (typeof value === "number") {
    text = Number.isInteger(value) && Math.abs(value) >= 0x10000 ? `0x${value.toString(16)}` : String(value);
  } else if (value === undefined) text = "missing";
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = String(value);
    }
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
