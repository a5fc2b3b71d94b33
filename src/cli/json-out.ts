// Models: the `--json` text of a run written in pieces: exactly JSON.stringify's text, except that
// long arrays of numbers (per-page values) are formatted digit by digit into a reused byte buffer
// and handed out chunk by chunk, so a run with millions of values neither builds one giant string
// nor pays the generic number formatting per value. Leaves out: indentation, toJSON methods and
// replacers (run results are plain data).

/** Arrays of numbers at least this long take the digit path. */
const LONG = 256;
/** Bytes collected before they are handed to `out`. */
const CHUNK = 1 << 20;
const NON_ASCII = /[^\x00-\x7f]/;

class JsonWriter {
  private readonly buf = Buffer.allocUnsafe(CHUNK + 64);
  private pos = 0;

  constructor(private readonly out: (text: string) => void) {}

  text(s: string): void {
    if (this.pos + s.length > CHUNK) this.flush();
    if (s.length > CHUNK || NON_ASCII.test(s)) {
      // Long, or not ASCII (the buffer holds bytes): handed out as it is, in order.
      this.flush();
      this.out(s);
      return;
    }
    this.pos += this.buf.write(s, this.pos, "latin1");
  }

  flush(): void {
    if (this.pos > 0) this.out(this.buf.toString("latin1", 0, this.pos));
    this.pos = 0;
  }

  value(v: unknown): void {
    if (Array.isArray(v)) {
      if (v.length >= LONG && allNumbers(v)) this.numbers(v as number[]);
      else this.array(v);
    } else if (v !== null && typeof v === "object") this.object(v as Record<string, unknown>);
    else this.text(JSON.stringify(v) ?? "null");
  }

  private array(a: unknown[]): void {
    this.text("[");
    for (let i = 0; i < a.length; i++) {
      if (i > 0) this.text(",");
      const x = a[i];
      if (x === undefined || typeof x === "function" || typeof x === "symbol") this.text("null");
      else this.value(x);
    }
    this.text("]");
  }

  private object(o: Record<string, unknown>): void {
    this.text("{");
    let first = true;
    for (const k of Object.keys(o)) {
      const x = o[k];
      if (x === undefined || typeof x === "function" || typeof x === "symbol") continue;
      this.text(first ? `${JSON.stringify(k)}:` : `,${JSON.stringify(k)}:`);
      first = false;
      this.value(x);
    }
    this.text("}");
  }

  /** `[n,n,...]`: 32-bit integers as digits, anything else as JSON.stringify writes it. */
  private numbers(a: number[]): void {
    const buf = this.buf;
    buf[this.pos++] = 0x5b; // [
    for (let i = 0; i < a.length; i++) {
      if (this.pos > CHUNK) this.flush();
      if (i > 0) buf[this.pos++] = 0x2c; // ,
      const v = a[i];
      if ((v | 0) === v) this.pos = writeInt32(buf, this.pos, v);
      else this.text(JSON.stringify(v));
    }
    if (this.pos > CHUNK) this.flush();
    buf[this.pos++] = 0x5d; // ]
  }
}

function allNumbers(a: unknown[]): boolean {
  for (let i = 0; i < a.length; i++) if (typeof a[i] !== "number") return false;
  return true;
}

/** Writes the decimal digits of int32 `v` at `pos`; returns the position after them. */
function writeInt32(buf: Buffer, pos: number, v: number): number {
  if (v < 0) {
    if (v === -2147483648) return pos + buf.write("-2147483648", pos, "latin1");
    buf[pos++] = 0x2d; // -
    v = -v;
  }
  let len = 1;
  for (let t = 10; len < 10 && v >= t; t *= 10) len++;
  let p = pos + len;
  do {
    const q = (v / 10) | 0;
    buf[--p] = 0x30 + (v - q * 10);
    v = q;
  } while (v > 0);
  return pos + len;
}

/** Writes JSON.stringify(value) followed by `end` through `out`, in pieces. */
export function writeJson(value: unknown, out: (text: string) => void, end = ""): void {
  const w = new JsonWriter(out);
  w.value(value);
  w.text(end);
  w.flush();
}
