// Models: a user's corrections to an imported machine: `{ "devices": { "<id or PCI address>": {
// memory?, zoneDevice?, memoryBar?, role?, name?, link?, linkCurrent? } }, "linkSpeed"?,
// "platform"? }`, applied to the topology object before the fabric is built (`topo --overlay FILE`,
// a scenario's `topologyOverlay`). A device is named as anywhere else: by id, by PCI address, or
// by short "bb:dd.f" (lookup.ts); `zoneDevice: "none"` takes an assumed ZONE_DEVICE away. Bad input
// is an InputError naming `devices["01:00.0"].memory` and the value; the topology is not changed
// when any entry is refused.
// Leaves out: adding or removing nodes and links (edit the kit JSON that `topo --emit-json` prints).
import { z } from "zod";
import { InputError } from "../units/input-error.js";
import { inputErrorFromZod } from "../units/zod-input-error.js";
import { buildFabric } from "./build.js";
import { lookupNode, unknownNameReason } from "./lookup.js";
import { DeviceRole, LinkStatus, Quantity, type TopologyInput } from "./schema.js";

export const DeviceOverlay = z.strictObject({
  memory: Quantity.optional().describe("Device memory in bytes (a number, \"0x...\" or \"48GiB\"); endpoints only."),
  zoneDevice: z.enum(["private", "coherent", "none"]).optional()
    .describe("How its driver hands device memory to the kernel: ZONE_DEVICE \"private\" or \"coherent\" pages, or \"none\" (memory only behind its BARs); endpoints only."),
  memoryBar: z.number().int().min(0).max(5).optional().describe("Index of the BAR that exposes the memory to peers; endpoints only."),
  role: DeviceRole.optional().describe("What the device is (gpu, nic, nvme, accelerator, storage, nvswitch, hostFunction, other); endpoints only."),
  name: z.string().optional().describe("Human-readable name."),
  link: LinkStatus.optional().describe("The link above the function at its capability (the working speed): { gen, width }."),
  linkCurrent: LinkStatus.optional().describe("The link's state when the machine was read (LnkSta): { gen, width }."),
});

export const Overlay = z.strictObject({
  $schema: z.string().optional().describe("Path or URL of a JSON Schema (for editors)."),
  devices: z.record(z.string().min(1), DeviceOverlay).default({})
    .describe("Corrections per device, keyed by topology id or PCI address (\"dddd:bb:dd.f\" or \"bb:dd.f\")."),
  linkSpeed: z.enum(["capability", "current"]).optional()
    .describe("Which link speed models the machine: \"capability\" (default) or \"current\" (the state the dump shows)."),
  platform: z.string().optional().describe("Named platform for the cost model, replacing what the import found."),
});

export type OverlayInput = z.input<typeof Overlay>;
export type OverlaySpec = z.output<typeof Overlay>;

/** Fields only an endpoint has. */
const ENDPOINT_ONLY = ["memory", "zoneDevice", "memoryBar", "role"] as const;

/** Checks `overlay`'s shape; InputError naming the field (under `source`) otherwise. */
export function parseOverlay(overlay: unknown, source = "overlay"): OverlaySpec {
  const r = Overlay.safeParse(overlay);
  if (r.success) return r.data;
  throw inputErrorFromZod(r.error, overlay, { root: "(overlay)", discriminator: "kind", source, schema: Overlay });
}

/**
 * The topology object `input` with `overlay` applied (a new object; `input` is not changed). Device
 * names are resolved on the built topology, so every way of naming a device works; an unknown name,
 * or an endpoint field on a bridge, is an InputError naming the overlay entry. `changed`, when
 * given, receives the fields set per device id.
 */
export function applyOverlay(input: unknown, overlay: unknown, source = "overlay", topologySource?: string, changed?: Map<string, string[]>): TopologyInput {
  const spec = parseOverlay(overlay, source);
  const fabric = buildFabric(input, topologySource);
  const out = structuredClone(input) as TopologyInput & { nodes: Record<string, unknown>[] };
  for (const [name, patch] of Object.entries(spec.devices)) {
    const field = `devices[${JSON.stringify(name)}]`;
    const node = lookupNode(fabric, name, { field, source });
    if (!node) throw new InputError(field, name, unknownNameReason(fabric, name, `no device with this id or PCI address in topology "${fabric.name}"`), source);
    if (node.kind === "hostBridge" || node.kind === "nvswitch") throw new InputError(field, name, `is a ${node.kind}, not a PCI function`, source);
    const target = out.nodes[node.index];
    for (const key of ENDPOINT_ONLY) {
      if (patch[key] !== undefined && node.kind !== "endpoint") throw new InputError(`${field}.${key}`, patch[key], `"${node.id}" is a ${node.kind}; ${key} is for endpoints`, source);
    }
    const fields = Object.entries(patch).filter(([, value]) => value !== undefined).map(([key]) => key);
    changed?.set(node.id, [...(changed.get(node.id) ?? []), ...fields]);
    for (const [key, value] of Object.entries(patch)) {
      if (value === undefined) continue;
      if (key === "zoneDevice" && value === "none") delete target.zoneDevice;
      else target[key] = value;
    }
  }
  if (spec.linkSpeed !== undefined) out.linkSpeed = spec.linkSpeed;
  if (spec.platform !== undefined) out.platform = spec.platform;
  return out;
}
