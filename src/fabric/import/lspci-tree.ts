// Models: the tree art of `lspci -tv` (pciutils ls-tree.c show_tree_bridge/show_tree_bus): root
// buses `[dddd:bb]`, functions `dd.f` with optional secondary bus ranges `-[bb-bb]`, branches
// `+-`/`\-` under a fork `-+-` (every fork ends with a `\-`), single-child chains `----`, an empty
// bridge's `-[bb]--`, continuation columns `|`, and the device name after two spaces. A tree whose
// forks do not all end, or a connector with nothing after it, is refused: the dump was cut.
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
  functionNumber: number;
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

type Parent = { kind: "top" } | { kind: "root"; root: TreeRoot } | { kind: "function"; func: TreeFunction };

const ROOT_RE = /\[(?:([0-9a-fA-F]{4}):)?([0-9a-fA-F]{2})\]/y;
const FN_RE = /([0-9a-fA-F]{2})\.([0-7])/y;
const RANGE_RE = /-\[([0-9a-fA-F]{2})(?:-([0-9a-fA-F]{2}))?\]/y;

/** True when a line belongs to the tree art: it starts with a tree character and holds a bus or
 *  function (`[`, `]` or `.`), or is a root bus `[dddd:bb]-` whose leading dash was lost. */
export function isTreeLine(line: string): boolean {
  return (/^[ |+\\-]/.test(line) && /[[\].]/.test(line)) || /^\[(?:[0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}\]-/.test(line);
}

/** A fork `-+-` whose branches hang in one column until the `\-` that ends it. */
interface OpenFork {
  parent: Parent;
  at: TreeLine;
}

/** State of one tree parse: roots so far, the open fork of each branch column. */
interface TreeParse {
  source: string;
  roots: TreeRoot[];
  rootKeys: Set<string>;
  top: Parent;
  forks: Map<number, OpenFork>;
  seen: Set<string>;
}

/** One line being read: its text, 1-based number, and whether it is the tree's first. */
interface TreeLine {
  text: string;
  line: number;
  first: boolean;
}

/** Parses the `lspci -tv` tree at the start of `lines`; throws InputError naming line and column. */
export function parseLspciTree(lines: readonly string[], source: string, firstLine = 1): LspciTree {
  const tree: TreeParse = { source, roots: [], rootKeys: new Set(), top: { kind: "top" }, forks: new Map(), seen: new Set() };
  let n = 0;
  for (; n < lines.length; n++) {
    const text = lines[n].trimEnd();
    if (!isTreeLine(text)) break;
    parseTreeLine(tree, { text, line: n + firstLine, first: n === 0 });
  }
  if (tree.roots.length === 0) {
    throw new InputError(`line ${firstLine}`, lines[0] ?? "", "no `lspci -tv` root bus `[dddd:bb]` found", source);
  }
  checkForksEnded(tree, n + firstLine);
  return { roots: tree.roots, endLine: n };
}

/** ls-tree.c prints the last branch of every fork as `\-`: a fork still open when the tree ends
 *  lost its last branches (the dump was cut inside the tree). */
function checkForksEnded(tree: TreeParse, endLine: number): void {
  for (const [column, fork] of tree.forks) {
    fail(tree, fork.at, column,
      `this fork's last branch \`\\-\` never comes (the tree stops before line ${endLine}): the dump looks cut; save the whole \`lspci -tv\` output again`);
  }
}

function fail(tree: TreeParse, at: TreeLine, col: number, reason: string): never {
  throw new InputError(`line ${at.line} column ${col + 1}`, at.text.slice(Math.max(0, col - 10), col + 30), `lspci -tv: ${reason}`, tree.source);
}

function parseTreeLine(tree: TreeParse, at: TreeLine): void {
  const { text } = at;
  let i = 0;
  let current: Parent | undefined;
  while (i < text.length) {
    const c = text[i];
    if (c === " " || c === "|") {
      i++;
      continue;
    }
    if ((c === "+" || c === "\\") && text[i + 1] === "-") {
      const fork = tree.forks.get(i);
      if (!fork) fail(tree, at, i, "branch with no open parent in this column");
      if (c === "\\") tree.forks.delete(i); // the fork's last branch
      if (i + 2 >= text.length) fail(tree, at, i, "branch with nothing after it: the dump looks cut");
      [i, current] = parseNode(tree, at, i + 2, fork.parent);
      continue;
    }
    if (c === "[" && at.first && current === undefined) {
      // Some copies of the output lose the leading "-" of a single root bus: "[0000:00]-+-00.0".
      [i, current] = parseNode(tree, at, i, tree.top);
      continue;
    }
    if (c === "-") {
      const next = parseConnector(tree, at, i, current);
      if (!next) return;
      [i, current] = next;
      continue;
    }
    fail(tree, at, i, `unexpected character ${JSON.stringify(c)}`);
  }
}

/** A connector `--`, `-+-` or `----` at `i` leading to the next node; undefined for the `--` that
 *  ends the line of an empty bridge (`-[bb]--`, ls-tree.c show_tree_bus of a bus without devices).
 *  A `+` opens a fork: a branch column below it. */
function parseConnector(tree: TreeParse, at: TreeLine, i: number, current: Parent | undefined): [number, Parent] | undefined {
  const { text } = at;
  const from = current ?? (i === 0 && at.first ? tree.top : undefined);
  if (!from) fail(tree, at, i, "connector with nothing before it");
  let j = i;
  while (text[j] === "-") j++;
  const fork = text[j] === "+";
  if (fork) {
    tree.forks.set(j, { parent: from, at });
    j++;
    while (text[j] === "-") j++;
  }
  if (j >= text.length) {
    const emptyBridge = !fork && j - i === 2 && from.kind === "function" && from.func.range !== undefined;
    if (!emptyBridge) fail(tree, at, i, "connector with nothing after it: the dump looks cut");
    return undefined;
  }
  return parseNode(tree, at, j, from);
}

/** Parses a root bus or a function at `col`; returns where it ends and the node as a parent. */
function parseNode(tree: TreeParse, at: TreeLine, col: number, parent: Parent): [number, Parent] {
  ROOT_RE.lastIndex = col;
  const r = ROOT_RE.exec(at.text);
  if (r) return parseRoot(tree, at, col, parent, r);
  return parseFunction(tree, at, col, parent);
}

function parseRoot(tree: TreeParse, at: TreeLine, col: number, parent: Parent, r: RegExpExecArray): [number, Parent] {
  if (parent.kind !== "top") fail(tree, at, col, "a root bus `[dddd:bb]` below another node");
  const root: TreeRoot = { domain: r[1] ? parseInt(r[1], 16) : 0, bus: parseInt(r[2], 16), functions: [], line: at.line };
  const key = `${root.domain}:${root.bus}`;
  if (tree.rootKeys.has(key)) fail(tree, at, col, "root bus listed twice");
  tree.rootKeys.add(key);
  tree.roots.push(root);
  return [ROOT_RE.lastIndex, { kind: "root", root }];
}

function parseFunction(tree: TreeParse, at: TreeLine, col: number, parent: Parent): [number, Parent] {
  const { text } = at;
  FN_RE.lastIndex = col;
  const f = FN_RE.exec(text);
  if (!f) fail(tree, at, col, "expected a root bus `[dddd:bb]` or a function `dd.f`");
  if (parent.kind === "top") fail(tree, at, col, "a function outside any root bus");
  const device = parseInt(f[1], 16);
  if (device > 0x1f) fail(tree, at, col, `device number ${f[1]} above 1f`);
  const functionNumber = parseInt(f[2], 10);
  const { domain, bus } = busOf(tree, at, col, parent);
  const [afterRange, range] = parseRange(tree, at, FN_RE.lastIndex, bus);
  let i = afterRange;
  let name = "";
  if (text[i] === " ") {
    name = text.slice(i).trim();
    i = text.length;
  }
  const address = `${hex4(domain)}:${hex2(bus)}:${hex2(device)}.${functionNumber}`;
  if (tree.seen.has(address)) fail(tree, at, col, `function ${address} listed twice`);
  tree.seen.add(address);
  const node: TreeFunction = { address, domain, bus, device, functionNumber, range, name, children: [], line: at.line };
  if (parent.kind === "root") parent.root.functions.push(node);
  else parent.func.children.push(node);
  return [i, { kind: "function", func: node }];
}

/** The bus a function below `parent` sits on: the root bus, or the bridge's secondary bus. */
function busOf(tree: TreeParse, at: TreeLine, col: number, parent: Exclude<Parent, { kind: "top" }>): { domain: number; bus: number } {
  if (parent.kind === "root") return { domain: parent.root.domain, bus: parent.root.bus };
  if (!parent.func.range) fail(tree, at, col, "a function below a function that has no bus range");
  return { domain: parent.func.domain, bus: parent.func.range.secondary };
}

/** An optional bus range `-[bb]` or `-[bb-bb]` at `col` (the function is a bridge). */
function parseRange(tree: TreeParse, at: TreeLine, col: number, bus: number): [number, TreeFunction["range"]] {
  RANGE_RE.lastIndex = col;
  const g = RANGE_RE.exec(at.text);
  if (!g) return [col, undefined];
  const secondary = parseInt(g[1], 16);
  const subordinate = g[2] ? parseInt(g[2], 16) : secondary;
  if (subordinate < secondary || secondary <= bus) fail(tree, at, col, `bad bus range [${g[1]}-${g[2] ?? g[1]}] below bus ${hex2(bus)}`);
  return [RANGE_RE.lastIndex, { secondary, subordinate }];
}

export function hex2(n: number): string {
  return n.toString(16).padStart(2, "0");
}

export function hex4(n: number): string {
  return n.toString(16).padStart(4, "0");
}
