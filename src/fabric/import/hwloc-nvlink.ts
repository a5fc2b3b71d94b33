// Models: NVLink as hwloc's NVML backend exports it: the `NVLinkBandwidth` distances matrix (MB/s
// per direction between GPUs, NVSwitches and CPUs), turned into bonded nvlink links (count =
// bandwidth / per-link bandwidth of the GPU's NVLink generation).
// Leaves out: NVSwitch-to-NVSwitch trunks, which NVML does not report (see `trunkLinks`).
import { InputError } from "../../units/input-error.js";
import type { TopologyInput } from "../schema.js";
import { attr, elements, words, type XmlObject } from "./xml-object.js";

type LinkInput = NonNullable<TopologyInput["links"]>[number];

/** What an hwloc object reference (`Type:gp_index`) in the matrix stands for. */
export interface NvlinkObject {
  kind: "pci";
  /** PCI address of the device (a GPU's OSDev resolves to its PCI device). */
  id: string;
  nvswitch: boolean;
}

/** NVLink generation from a GPU model name (P100 1, V100 2, A100 3, H100/H200 4, B100/B200 5). */
export function nvlinkGenOfModel(model: string | undefined): number | undefined {
  if (!model) return undefined;
  if (/\bP100\b/.test(model)) return 1;
  if (/\bV100/.test(model)) return 2;
  if (/\bA100|\bA800|\bA30\b/.test(model)) return 3;
  if (/\bH100|\bH200|\bH800|\bGH200|\bH20\b/.test(model)) return 4;
  if (/\bB100|\bB200|\bGB200|\bB300/.test(model)) return 5;
  return undefined;
}

/** Per-link, per-direction NVLink bandwidth in MB/s by generation, as hwloc's NVML backend reports it. */
export const NVLINK_MBPS: Readonly<Record<number, number>> = { 1: 20000, 2: 25000, 3: 25000, 4: 25000, 5: 50000 };

interface Matrix {
  objects: string[];
  values: number[];
}

/** Reads the NVLinkBandwidth matrix of an hwloc v2 `<topology>` (homogeneous or hetero form). */
function readMatrix(top: XmlObject, source: string): Matrix | undefined {
  const all = [...elements(top, "distances2"), ...elements(top, "distances2hetero")];
  const distances = all.find((element) => attr(element, "name") === "NVLinkBandwidth");
  if (!distances) return undefined;
  const n = Number(attr(distances, "nbobjs"));
  if (!Number.isInteger(n) || n < 1) throw new InputError("distances NVLinkBandwidth.nbobjs", attr(distances, "nbobjs"), "not a count of objects", source);
  let objects = words(distances, "indexes");
  const type = attr(distances, "type");
  if (type !== undefined) objects = objects.map((o) => `${type}:${o}`); // homogeneous form: gp indexes of one type
  const values = words(distances, "u64values").map(Number);
  if (objects.length !== n || values.length !== n * n || values.some((v) => !Number.isFinite(v) || v < 0)) {
    throw new InputError("distances NVLinkBandwidth", `${objects.length} indexes, ${values.length} values`, `expected ${n} indexes and ${n}x${n} values`, source);
  }
  return { objects, values };
}

/**
 * nvlink links from the NVLinkBandwidth matrix. Pairs whose row and column disagree take the larger
 * value; CPU entries (NVLink-C2C, POWER9) are skipped: the schema links GPUs and NVSwitches only.
 */
export function nvlinkTopology(
  top: XmlObject,
  byGp: Map<string, NvlinkObject>,
  modelOf: Map<string, string | undefined>,
  source: string,
): { links: LinkInput[]; notes: string[] } {
  const matrix = readMatrix(top, source);
  if (!matrix) return { links: [], notes: [] };
  const n = matrix.objects.length;
  const resolved = matrix.objects.map((o) => {
    if (/^(Package|Machine|NUMANode|PU|Core):/.test(o)) return undefined;
    const hit = byGp.get(o);
    if (!hit) throw new InputError("distances NVLinkBandwidth.indexes", o, "names no PCI or OS device of this file", source);
    return hit;
  });
  const links: LinkInput[] = [];
  const switchGpus = new Map<string, string[]>(); // nvswitch id → GPUs linked to it
  let switchToSwitch = false;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const a = resolved[i];
      const b = resolved[j];
      const mbps = Math.max(matrix.values[i * n + j], matrix.values[j * n + i]);
      if (!a || !b || mbps === 0) continue;
      const gen = nvlinkGenOfModel(modelOf.get(a.id)) ?? nvlinkGenOfModel(modelOf.get(b.id));
      const perLink = NVLINK_MBPS[gen ?? 2];
      const count = Math.max(1, Math.round(mbps / perLink));
      const ida = a.nvswitch ? `nvswitch-${a.id}` : a.id;
      const idb = b.nvswitch ? `nvswitch-${b.id}` : b.id;
      links.push({ kind: "nvlink", a: ida, b: idb, count, ...(gen ? { gen } : {}) });
      if (a.nvswitch && b.nvswitch) switchToSwitch = true;
      else if (a.nvswitch) push(switchGpus, ida, b.id);
      else if (b.nvswitch) push(switchGpus, idb, a.id);
    }
  }
  const notes = [`NVLink from hwloc's NVLinkBandwidth matrix: ${links.length} bonded links.`];
  if (!switchToSwitch) {
    const trunks = trunkLinks(switchGpus, links);
    if (trunks.length) {
      links.push(...trunks);
      notes.push(
        `NVML reports no NVSwitch-to-NVSwitch links; the NVSwitches form two equal baseboards with disjoint GPUs (DGX-2/HGX-2 layout), ` +
          `so each switch is joined to its peer on the other baseboard (by PCI address order) with as many links as it has to GPUs ` +
          `(DGX-2: 8 GPU ports + 8 trunk ports + 2 unused of 18; WikiChip nvidia/nvswitch, NVIDIA blog "NVSwitch Accelerates NVIDIA DGX-2").`,
      );
    }
  }
  return { links, notes };
}

/**
 * Baseboard trunks for a two-baseboard NVSwitch system. Applies only when the switches split into
 * exactly two groups of equal size, each group linked to one GPU set, the sets disjoint.
 */
function trunkLinks(switchGpus: Map<string, string[]>, links: LinkInput[]): LinkInput[] {
  const groups = new Map<string, string[]>();
  for (const [sw, gpus] of switchGpus) push(groups, [...gpus].sort().join(","), sw);
  if (groups.size !== 2) return [];
  const [[gpusA, swA], [gpusB, swB]] = [...groups.entries()];
  const setA = new Set(gpusA.split(","));
  if (swA.length !== swB.length || gpusB.split(",").some((g) => setA.has(g))) return [];
  const a = [...swA].sort();
  const b = [...swB].sort();
  return a.map((sw, k) => {
    const gpuLinks = links.filter((l) => l.kind === "nvlink" && (l.a === sw || l.b === sw)).reduce((s, l) => s + ((l as { count?: number }).count ?? 1), 0);
    const gen = links.find((l) => l.kind === "nvlink" && (l.a === sw || l.b === sw) && "gen" in l) as { gen?: number } | undefined;
    return { kind: "nvlink" as const, a: sw, b: b[k], count: gpuLinks, ...(gen?.gen ? { gen: gen.gen } : {}) };
  });
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
