// Models: the tree art of `lspci -tv` (pciutils ls-tree.c): root buses `[dddd:bb]`, functions
// `dd.f` with optional secondary bus ranges `-[bb-bb]`, branches `+-`/`\-`/`-+-`, single-child
// chains `----`, continuation columns `|`, and the device name after two spaces.
// Leaves out: anything after the tree (the -vvv blocks, read by lspci-vvv.ts).
import { InputError } from "../../units/input-error.js";

export interface TreeRoot {
  domain: number;
  bus: number;
  functions: TreeFunction[];
  /** 1-based line of the `[dddd:bb]` token. */
  line: number;
}

export interface TreeFunction {
  /** "dddd:bb:dd.f" */
  address: string;
  domain: number;
  bus: number;
  device: number;
  fn: number;
  /** Secondary and subordinate bus when the tree shows a range (the function is a bridge). */
  range?: { secondary: number; subordinate: number };
  /** Text after the address: "Vendor Device", possibly with " [vvvv:dddd]" (-nn). */
  name: string;
  children: TreeFunction[];
  line: number;
}

export interface LspciTree {
  roots: TreeRoot[];
  /** Index of the first line after the tree. */
  endLine: number;
}

type Parent = { kind: "top" } | { kind: "root"; root: TreeRoot } | { kind: "fn"; fn: TreeFunction };

const ROOT_RE = /\[(?:([0-9a-fA-F]{4}):)?([0-9a-fA-F]{2})\]/y;
const FN_RE = /([0-9a-fA-F]{2})\.([0-7])/y;
const RANGE_RE = /-\[([0-9a-fA-F]{2})(?:-([0-9a-fA-F]{2}))?\]/y;

/** True when a line belongs to the tree art (starts with a tree character). */
export function isTreeLine(line: string): boolean {
  return (/^[ |+\\-]/.test(line) && /[[\].]/.test(line)) || /^\[(?:[0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}\]-/.test(line);
}

/** Parses the `lspci -tv` tree at the start of `lines`; throws InputError naming line and column. */
export function parseLspciTree(lines: readonly string[], source: string, firstLine = 1): LspciTree {
  const roots: TreeRoot[] = [];
  const top: Parent = { kind: "top" };
  const branches = new Map<number, Parent>();
  const seen = new Set<string>();
  let n = 0;
  for (; n < lines.length; n++) {
    const text = lines[n].replace(/\s+$/, "");
    if (text === "") break;
    if (!isTreeLine(text)) break;
    parseLine(text, n + firstLine, n === 0);
  }
  if (roots.length === 0) {
    throw new InputError(`line ${firstLine}`, lines[0] ?? "", "no `lspci -tv` root bus `[dddd:bb]` found", source);
  }
  return { roots, endLine: n };

  function fail(line: number, col: number, text: string, reason: string): never {
    throw new InputError(`line ${line} column ${col + 1}`, text.slice(Math.max(0, col - 10), col + 30), `lspci -tv: ${reason}`, source);
  }

  function parseLine(text: string, line: number, first: boolean): void {
    let i = 0;
    let current: Parent | undefined;
    while (i < text.length) {
      const c = text[i];
      if (c === " " || c === "|") {
        i++;
        continue;
      }
      if ((c === "+" || c === "\\") && text[i + 1] === "-") {
        const parent = branches.get(i);
        if (!parent) fail(line, i, text, "branch with no open parent in this column");
        [i, current] = parseNode(text, i + 2, line, parent);
        continue;
      }
      if (c === "[" && first && current === undefined) {
        // Some copies of the output lose the leading "-" of a single root bus: "[0000:00]-+-00.0".
        [i, current] = parseNode(text, i, line, top);
        continue;
      }
      if (c === "-") {
        const from = current ?? (i === 0 && first ? top : undefined);
        if (!from) fail(line, i, text, "connector with nothing before it");
        let j = i;
        while (text[j] === "-") j++;
        if (text[j] === "+") {
          branches.set(j, from);
          j++;
          while (text[j] === "-") j++;
        }
        if (j >= text.length) {
          if (from.kind !== "fn" || !from.fn.range) fail(line, i, text, "dangling connector");
          return; // an empty bridge: `-[bb]--`
        }
        [i, current] = parseNode(text, j, line, from);
        continue;
      }
      fail(line, i, text, `unexpected character ${JSON.stringify(c)}`);
    }
  }

  /** Parses a root bus or a function at `at`; returns where it ends and the node as a parent. */
  function parseNode(text: string, at: number, line: number, parent: Parent): [number, Parent] {
    ROOT_RE.lastIndex = at;
    const r = ROOT_RE.exec(text);
    if (r) {
      if (parent.kind !== "top") fail(line, at, text, "a root bus `[dddd:bb]` below another node");
      const root: TreeRoot = { domain: r[1] ? parseInt(r[1], 16) : 0, bus: parseInt(r[2], 16), functions: [], line };
      const key = `${root.domain}:${root.bus}`;
      if (roots.some((x) => `${x.domain}:${x.bus}` === key)) fail(line, at, text, "root bus listed twice");
      roots.push(root);
      return [ROOT_RE.lastIndex, { kind: "root", root }];
    }
    FN_RE.lastIndex = at;
    const f = FN_RE.exec(text);
    if (!f) fail(line, at, text, "expected a root bus `[dddd:bb]` or a function `dd.f`");
    if (parent.kind === "top") fail(line, at, text, "a function outside any root bus");
    const device = parseInt(f[1], 16);
    if (device > 0x1f) fail(line, at, text, `device number ${f[1]} above 1f`);
    const fn = parseInt(f[2], 10);
    let domain: number;
    let bus: number;
    if (parent.kind === "root") {
      domain = parent.root.domain;
      bus = parent.root.bus;
    } else {
      if (!parent.fn.range) fail(line, at, text, "a function below a function that has no bus range");
      domain = parent.fn.domain;
      bus = parent.fn.range.secondary;
    }
    let i = FN_RE.lastIndex;
    let range: TreeFunction["range"];
    RANGE_RE.lastIndex = i;
    const g = RANGE_RE.exec(text);
    if (g) {
      const secondary = parseInt(g[1], 16);
      const subordinate = g[2] ? parseInt(g[2], 16) : secondary;
      if (subordinate < secondary || secondary <= bus) fail(line, i, text, `bad bus range [${g[1]}-${g[2] ?? g[1]}] below bus ${hex2(bus)}`);
      range = { secondary, subordinate };
      i = RANGE_RE.lastIndex;
    }
    let name = "";
    if (text[i] === " ") {
      name = text.slice(i).trim();
      i = text.length;
    }
    const address = `${hex4(domain)}:${hex2(bus)}:${hex2(device)}.${fn}`;
    if (seen.has(address)) fail(line, at, text, `function ${address} listed twice`);
    seen.add(address);
    const node: TreeFunction = { address, domain, bus, device, fn, range, name, children: [], line };
    if (parent.kind === "root") parent.root.functions.push(node);
    else parent.fn.children.push(node);
    return [i, { kind: "fn", fn: node }];
  }
}

export function hex2(n: number): string {
  return n.toString(16).padStart(2, "0");
}

export function hex4(n: number): string {
  return n.toString(16).padStart(4, "0");
}
