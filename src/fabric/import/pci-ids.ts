// Models: the PCI ID database (pci.ids, the file lspci names devices from: /usr/share/misc/pci.ids on
// Debian, /usr/share/hwdata/pci.ids on Fedora) as lookups both ways: ids → names, for dumps that give
// ids (hwloc XML, `lspci -n`, lspci's "Device 14a4" for ids its own copy did not know), and names →
// ids, for dumps that give names only (`lspci -tv` without -nn). Format (pci.ids header): a vendor
// line "vvvv  Name", its device lines "\tdddd  Name", subsystem lines "\t\tssss ssss  Name"; a class
// line "C cc  Name", its subclass lines "\tss  Name", programming interfaces "\t\tpi  Name"; "#" comments.
// Leaves out: subsystem and programming-interface names (lspci -tv does not print them).

export interface PciIds {
  /** Vendor id → vendor name. */
  vendors: Map<string, string>;
  /** "vvvv:dddd" → device name. */
  devices: Map<string, string>;
  /** Class code "ccss" → subclass name (or the class name for "cc00" when it has no subclass line). */
  classes: Map<string, string>;
  /** Vendor names, longest first (the reverse lookup takes the longest name a text starts with). */
  vendorNames: [string, string][];
  /** "vvvv:Device name" → device id. */
  deviceIds: Map<string, string>;
}

const VENDOR_RE = /^([0-9a-f]{4}) {2}(.+)$/;
const DEVICE_RE = /^\t([0-9a-f]{4}) {2}(.+)$/;
const CLASS_RE = /^C ([0-9a-f]{2}) {2}(.+)$/;
const SUBCLASS_RE = /^\t([0-9a-f]{2}) {2}(.+)$/;

/** Parses pci.ids text; lines it does not know are skipped (the file grows new kinds of lines). */
export function parsePciIds(text: string): PciIds {
  const db: PciIds = { vendors: new Map(), devices: new Map(), classes: new Map(), vendorNames: [], deviceIds: new Map() };
  let vendor: string | undefined;
  let klass: string | undefined;
  for (const raw of text.split("\n")) {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (line === "" || line.startsWith("#") || line.startsWith("\t\t")) continue;
    let m: RegExpExecArray | null;
    if ((m = VENDOR_RE.exec(line))) {
      vendor = m[1];
      klass = undefined;
      db.vendors.set(vendor, m[2]);
    } else if ((m = CLASS_RE.exec(line))) {
      klass = m[1];
      vendor = undefined;
      db.classes.set(`${klass}00`, m[2]);
    } else if (vendor !== undefined && (m = DEVICE_RE.exec(line))) {
      db.devices.set(`${vendor}:${m[1]}`, m[2]);
      const key = `${vendor}:${m[2]}`;
      if (!db.deviceIds.has(key)) db.deviceIds.set(key, m[1]);
    } else if (klass !== undefined && (m = SUBCLASS_RE.exec(line))) {
      db.classes.set(`${klass}${m[1]}`, m[2]);
    }
  }
  db.vendorNames = [...db.vendors].map(([id, name]): [string, string] => [name, id]).sort((a, b) => b[0].length - a[0].length);
  return db;
}

/** "Vendor Device" as lspci prints a function's name, when the database knows the ids. */
export function pciIdsName(db: PciIds, vendor: string, device: string): string | undefined {
  const v = db.vendors.get(vendor);
  const d = db.devices.get(`${vendor}:${device}`);
  return v !== undefined && d !== undefined ? `${v} ${d}` : undefined;
}

/** Vendor and device ids of a name lspci printed ("NVIDIA Corporation AD102GL [RTX 6000 Ada Generation]"). */
export function pciIdsOfName(db: PciIds, name: string): { vendor?: string; device?: string } {
  const hit = db.vendorNames.find(([vendorName]) => name.startsWith(`${vendorName} `));
  if (!hit) return {};
  const deviceName = name.slice(hit[0].length + 1).trim();
  return { vendor: hit[1], device: db.deviceIds.get(`${hit[1]}:${deviceName}`) };
}

/** The class code of a class name lspci printed ("3D controller" → "0302"). */
export function pciIdsClassCode(db: PciIds, className: string): string | undefined {
  const wanted = className.trim().toLowerCase();
  for (const [code, name] of db.classes) if (name.toLowerCase() === wanted) return code;
  return undefined;
}
