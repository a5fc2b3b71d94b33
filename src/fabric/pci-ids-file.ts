// Models: finding the system's PCI ID database, as lspci does (pciutils' PCI_IDS_DIR: Debian ships
// /usr/share/misc/pci.ids, Fedora and Arch /usr/share/hwdata/pci.ids), or the file the environment
// variable P2PDMA_LAB_PCI_IDS names ("none" turns it off), read once per path.
// Leaves out: compressed pci.ids.gz and the online pci-ids lookup (lspci -q).
import { existsSync, readFileSync } from "node:fs";
import { InputError } from "../units/input-error.js";
import { parsePciIds, type PciIds } from "./import/pci-ids.js";

/** Where distributions install pci.ids, in the order they are tried. */
export const PCI_IDS_PATHS: readonly string[] = ["/usr/share/misc/pci.ids", "/usr/share/hwdata/pci.ids", "/usr/share/pci.ids", "/usr/local/share/pci.ids"];

/** The environment variable naming a pci.ids file, or "none" for no database. */
export const PCI_IDS_ENV = "P2PDMA_LAB_PCI_IDS";

const cache = new Map<string, PciIds>();

/** The database in `path`; an unreadable file is an InputError naming `field` and the path. */
export function readPciIdsFile(path: string, field = "pci.ids"): PciIds {
  const hit = cache.get(path);
  if (hit) return hit;
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? "error";
    throw new InputError(field, path, code === "ENOENT" ? "no such file" : `cannot be read (${code})`);
  }
  const db = parsePciIds(text);
  if (db.vendors.size === 0) throw new InputError(field, path, "holds no vendor lines: not a pci.ids file");
  cache.set(path, db);
  return db;
}

/** The system's database: $P2PDMA_LAB_PCI_IDS, else the first of PCI_IDS_PATHS that exists; none when absent. */
export function systemPciIds(env: NodeJS.ProcessEnv = process.env, paths: readonly string[] = PCI_IDS_PATHS): PciIds | undefined {
  const named = env[PCI_IDS_ENV];
  if (named !== undefined && named !== "") return named === "none" ? undefined : readPciIdsFile(named, PCI_IDS_ENV);
  const found = paths.find((p) => existsSync(p));
  return found ? readPciIdsFile(found) : undefined;
}
