// Models: the `--json` text of a run written in pieces: exactly JSON.stringify's text, except that
// long arrays of numbers (per-page values) are formatted digit by digit into a reused byte buffer
// and handed out chunk by chunk, so a run with millions of values neither builds one giant string
// nor pays the generic number formatting per value. Handed out as strings, or (writeJsonBytes) as
// the UTF-8 bytes of the reused buffer itself, so that writing to a file descriptor makes no string
// and no copy per chunk. Leaves out: indentation, toJSON methods and replacers (run results are
// plain data).

/** Arrays of numbers at least this long take the digit path. */
const LONG = 256;
/** Bytes collected before they are handed to `out`. */
const CHUNK = 1 << 20;
const NON_ASCII = /[^\x00-\x7f]/;

/** Where the pieces go: strings, or the bytes of the writer's buffer (valid only during the call). */
type Sink = { text: (text: string) => void } | { bytes: (bytes: Uint8Array) => void };

class JsonWriter {
  private readonly buf = Buffer.allocUnsafe(CHUNK + 64);
  private pos = 0;

  constructor(private readonly sink: Sink) {}

  text(s: string): void {
    if (this.pos + s.length > CHUNK) this.flush();
    if (s.length > CHUNK || NON_ASCII.test(s)) {
      this.flush();
      if ("text" in this.sink) this.sink.text(s); // the buffer holds bytes: handed out as it is, in order
      else this.sink.bytes(Buffer.from(s, "utf8"));
      return;
    }
    this.pos += this.buf.write(s, this.pos, "latin1");
  }

  flush(): void {
    if (this.pos > 0) {
      if ("text" in this.sink) this.sink.text(this.buf.toString("latin1", 0, this.pos));
      else this.sink.bytes(this.buf.subarray(0, this.pos));
    }
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
    let pos = this.pos;
    buf[pos++] = 0x5b; // [
    for (let i = 0; i < a.length; i++) {
      if (pos > CHUNK) {
        this.pos = pos;
        this.flush();
        pos = 0;
      }
      if (i > 0) buf[pos++] = 0x2c; // ,
      const v = a[i];
      if ((v | 0) === v) pos = writeInt32(buf, pos, v);
      else {
        this.pos = pos;
        this.text(JSON.stringify(v));
        pos = this.pos;
      }
    }
    this.pos = pos;
    if (this.pos > CHUNK) this.flush();
    buf[this.pos++] = 0x5d; // ]
  }
}

function allNumbers(a: unknown[]): boolean {
  for (let i = 0; i < a.length; i++) if (typeof a[i] !== "number") return false;
  return true;
}

/** The four ASCII digits of each number below 10^4, zero-padded: 4n .. 4n+3 for n. */
const DIGITS4 = new Uint8Array(40000);
for (let n = 0; n < 10000; n++) {
  DIGITS4[4 * n] = 0x30 + Math.floor(n / 1000);
  DIGITS4[4 * n + 1] = 0x30 + (Math.floor(n / 100) % 10);
  DIGITS4[4 * n + 2] = 0x30 + (Math.floor(n / 10) % 10);
  DIGITS4[4 * n + 3] = 0x30 + (n % 10);
}

/** Writes the decimal digits of int32 `v` at `pos`, four at a time; returns the position after them. */
function writeInt32(buf: Buffer, pos: number, v: number): number {
  if (v < 0) {
    if (v === -2147483648) return pos + buf.write("-2147483648", pos, "latin1");
    buf[pos++] = 0x2d; // -
    v = -v;
  }
  if (v < 10000) return writeUpTo4(buf, pos, v);
  if (v < 100000000) {
    const high = (v / 10000) | 0;
    return write4(buf, writeUpTo4(buf, pos, high), v - high * 10000);
  }
  const high = (v / 100000000) | 0;
  const rest = v - high * 100000000;
  const mid = (rest / 10000) | 0;
  return write4(buf, write4(buf, writeUpTo4(buf, pos, high), mid), rest - mid * 10000);
}

/** `v` (0 <= v < 10^4) without leading zeros. */
function writeUpTo4(buf: Buffer, pos: number, v: number): number {
  const d = v << 2;
  if (v >= 1000) return write4(buf, pos, v);
  if (v >= 100) {
    buf[pos] = DIGITS4[d + 1];
    buf[pos + 1] = DIGITS4[d + 2];
    buf[pos + 2] = DIGITS4[d + 3];
    return pos + 3;
  }
  if (v >= 10) {
    buf[pos] = DIGITS4[d + 2];
    buf[pos + 1] = DIGITS4[d + 3];
    return pos + 2;
  }
  buf[pos] = 0x30 + v;
  return pos + 1;
}

/** `v` (0 <= v < 10^4) as exactly four digits. */
function write4(buf: Buffer, pos: number, v: number): number {
  const d = v << 2;
  buf[pos] = DIGITS4[d];
  buf[pos + 1] = DIGITS4[d + 1];
  buf[pos + 2] = DIGITS4[d + 2];
  buf[pos + 3] = DIGITS4[d + 3];
  return pos + 4;
}

/** Writes JSON.stringify(value) followed by `end` through `out`, in pieces. */
export function writeJson(value: unknown, out: (text: string) => void, end = ""): void {
  write(new JsonWriter({ text: out }), value, end);
}

/**
 * Writes the UTF-8 bytes of JSON.stringify(value) followed by `end` through `out`, in pieces; each
 * piece is a view of a reused buffer, to be consumed before `out` returns (written to a file descriptor).
 */
export function writeJsonBytes(value: unknown, out: (bytes: Uint8Array) => void, end = ""): void {
  write(new JsonWriter({ bytes: out }), value, end);
}

function write(w: JsonWriter, value: unknown, end: string): void {
  w.value(value);
  w.text(end);
  w.flush();
}
