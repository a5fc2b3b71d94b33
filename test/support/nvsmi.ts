// Models: the device matrix that `nvidia-smi topo -m` prints, as a map of unordered device pairs to
// classes (X, NV#, PIX, PXB, PHB, NODE, SYS, SOC), plus the `| name | dddd:bb:dd.f |` table of a
// machine's source.md that maps matrix names (GPU0, NIC1, mlx5_0) to PCI functions.
// Leaves out: the CPU / NUMA affinity columns and the legend.

export const NVSMI_CLASS = /^(X|NV\d+|PIX|PXB|PHB|NODE|SYS|SOC)$/;

export interface NvsmiMatrix {
  /** Column names, in header order (devices only). */
  columns: string[];
  /** Row names present (a published excerpt may have fewer rows than columns). */
  rows: string[];
  /** Class per unordered pair, key `pairKey(a, b)`. */
  classes: Map<string, string>;
}

/** Key of an unordered pair of names or addresses. */
export function pairKey(a: string, b: string): string {
  return a < b ? `${a}|${b}` : `${b}|${a}`;
}

/**
 * Parses `nvidia-smi topo -m` text. The header is the first line whose first token names a device
 * (GPU<n>, NIC<n>, mlx5_<n>, ...); device columns stop at "CPU" / "NUMA". Each following line that starts
 * with a column name is a row; a blank line or "Legend:" ends the matrix. The two cells of a pair
 * must agree when both rows are present.
 */
export function parseNvsmiTopo(text: string): NvsmiMatrix {
  const lines = text.split(/\r?\n/);
  const head = lines.findIndex((l) => /^\s+(GPU\d+|NIC\d+|mlx\d+_\d+)\b/.test(l));
  if (head < 0) throw new Error("nvidia-smi topo -m: no header row of device names");
  const tokens = lines[head].trim().split(/\s+/);
  const stop = tokens.findIndex((t) => t === "CPU" || t === "NUMA");
  const columns = stop < 0 ? tokens : tokens.slice(0, stop);
  const rows: string[] = [];
  const classes = new Map<string, string>();
  for (let k = head + 1; k < lines.length; k++) {
    const line = lines[k].trim();
    if (line === "" || line.startsWith("Legend")) break;
    const cells = line.split(/\s+/);
    const name = cells[0];
    if (!columns.includes(name)) throw new Error(`nvidia-smi topo -m line ${k + 1}: row ${name} is not a column`);
    rows.push(name);
    for (let j = 0; j < columns.length; j++) {
      const cell = cells[1 + j];
      if (cell === undefined) throw new Error(`nvidia-smi topo -m line ${k + 1}: row ${name} has no cell for ${columns[j]}`);
      if (!NVSMI_CLASS.test(cell)) throw new Error(`nvidia-smi topo -m line ${k + 1}: ${JSON.stringify(cell)} is not a class`);
      if (columns[j] === name) {
        if (cell !== "X") throw new Error(`nvidia-smi topo -m line ${k + 1}: diagonal of ${name} is ${cell}`);
        continue;
      }
      const key = pairKey(name, columns[j]);
      const seen = classes.get(key);
      if (seen !== undefined && seen !== cell) {
        throw new Error(`nvidia-smi topo -m: ${name}/${columns[j]} reads ${cell} one way and ${seen} the other`);
      }
      classes.set(key, cell);
    }
  }
  if (rows.length === 0) throw new Error("nvidia-smi topo -m: header without rows");
  return { columns, rows, classes };
}

/**
 * Reads the "matrix name → PCI function" table of a source.md: rows `| GPU0 | 0000:c1:00.0 | ... |`
 * (a name may carry a suffix in parentheses, e.g. `NIC0 (mlx5_0)`). A row whose second cell is not a
 * PCI address maps the name to null (listed, but not in the topology).
 */
export function parseNameMap(markdown: string): Map<string, string | null> {
  const map = new Map<string, string | null>();
  for (const line of markdown.split(/\r?\n/)) {
    const m = /^\|\s*([A-Za-z][\w]*\d)(?:\s*\([^)]*\))?\s*\|\s*([^|]*?)\s*\|/.exec(line);
    if (!m || m[1] === "matrix") continue;
    const addr = /^[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-1][0-9a-fA-F]\.[0-7]$/.test(m[2]) ? m[2].toLowerCase() : null;
    map.set(m[1], addr);
  }
  return map;
}

/** The published pairs whose two names both map to PCI functions, with their addresses. */
export function mappedPairs(
  matrix: NvsmiMatrix,
  names: Map<string, string | null>,
): { a: string; b: string; nameA: string; nameB: string; class: string }[] {
  const out: { a: string; b: string; nameA: string; nameB: string; class: string }[] = [];
  for (const [key, cls] of matrix.classes) {
    const [nameA, nameB] = key.split("|");
    if (!names.has(nameA) || !names.has(nameB)) throw new Error(`no row for ${names.has(nameA) ? nameB : nameA} in the name table`);
    const a = names.get(nameA);
    const b = names.get(nameB);
    if (a && b) out.push({ a, b, nameA, nameB, class: cls });
  }
  return out.sort((x, y) => pairKey(x.a, x.b).localeCompare(pairKey(y.a, y.b)));
}
