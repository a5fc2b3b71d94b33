// Models: sizes, addresses and page arithmetic as plain JS numbers (DESIGN §3: no bigint on hot
// paths), parsed at the edges from numbers, hex strings ("0xfb000000") or sizes ("64GiB").
// Leaves out: 64-bit wraparound arithmetic (bus offsets stay within ±2^53 here).

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;
export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;
export const TiB = 1024 * GiB;

const UNITS: Record<string, number> = {
  "": 1, b: 1,
  k: KiB, kb: KiB, kib: KiB,
  m: MiB, mb: MiB, mib: MiB,
  g: GiB, gb: GiB, gib: GiB,
  t: TiB, tb: TiB, tib: TiB,
};

/**
 * Parses a size or address: a safe non-negative integer, "0x..." hex, or a decimal with a binary
 * unit ("256MiB", "32G", "4 KiB"). Units are powers of 1024, as lspci prints them.
 * Returns undefined when the text is not of that form or the result is not a safe integer.
 */
export function parseQuantity(input: number | string): number | undefined {
  if (typeof input === "number") {
    return Number.isSafeInteger(input) && input >= 0 ? input : undefined;
  }
  const text = input.trim();
  let value: number;
  if (/^0x[0-9a-f]+$/i.test(text)) {
    if (text.length > 2 + 14) return undefined; // more than 56 bits cannot be a safe integer
    value = parseInt(text.slice(2), 16);
  } else {
    const m = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i.exec(text);
    if (!m) return undefined;
    const unit = UNITS[m[2].toLowerCase()];
    if (unit === undefined) return undefined;
    value = Number(m[1]) * unit;
  }
  return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

export function isPowerOfTwo(n: number): boolean {
  return n > 0 && Number.isSafeInteger(n) && Math.log2(n) % 1 === 0;
}

/** Rounds `n` up to a multiple of the power of two `align`. */
export function alignUp(n: number, align: number): number {
  return Math.ceil(n / align) * align;
}

export function isAligned(n: number, align: number): boolean {
  return n % align === 0;
}

/** "256MiB", "32GiB", "4KiB", or bytes when not a whole binary unit. */
export function formatSize(bytes: number): string {
  const units: [number, string][] = [[TiB, "TiB"], [GiB, "GiB"], [MiB, "MiB"], [KiB, "KiB"]];
  for (const [unit, name] of units) {
    if (bytes >= unit && bytes % unit === 0) return `${bytes / unit}${name}`;
  }
  return `${bytes}B`;
}

/** "0x" + lower-case hex, for addresses in text output. */
export function hex(n: number): string {
  return `0x${n.toString(16)}`;
}
