// Models: the builtin topologies a scenario may name instead of a file (DESIGN §4). "dmirror":
// a host with the four test devices of lib/test_hmm.c (two device-private, two device-coherent),
// each with a 64-bit prefetchable BAR over its memory (64 GiB, carved in 256 MiB chunks as used), all under one PCIe switch below one root
// port of an Ice Lake-SP host bridge (8086:09a2 at 00.0), ACS and IOMMU off, so P2P among them
// maps by bus address. Kept as a constant (mirrored in data/topologies/dmirror.json) so it loads
// from src and dist alike. Leaves out: the dmirror driver's behaviour (devices layer).
import { InputError } from "../units/input-error.js";
import { buildFabric } from "./build.js";
import type { TopologyInput } from "./schema.js";
import type { Fabric } from "./types.js";

/**
 * Device memory of each test device: lib/test_hmm.c adds 256 MiB chunks on demand without a limit
 * (dmirror_allocate_chunk), which the model does up to this size, so the machine migrates
 * gigabytes; the BAR covers it all.
 */
const DMIRROR_MEMORY = "64GiB";

const dmirrorDevice = (n: number, zoneDevice: "private" | "coherent"): TopologyInput["nodes"][number] => ({
  kind: "endpoint", id: `dmirror${n}`, bdf: `0000:0${3 + n}:00.0`, parent: `sw0-dn${n}`, class: "1200",
  name: `HMM dmirror test device ${n} (lib/test_hmm.c, ${zoneDevice})`, memory: DMIRROR_MEMORY, zoneDevice,
  bars: [{ index: 0, size: DMIRROR_MEMORY, is64: true, prefetchable: true }],
});

export const DMIRROR_TOPOLOGY: TopologyInput = {
  $schema: "../schema/topology.schema.json",
  name: "dmirror",
  description: "four lib/test_hmm.c test devices under one PCIe switch: dmirror0/1 device-private, dmirror2/3 device-coherent",
  source: "p2pdma-lab builtin (DESIGN.md §4), after the dmirror devices of the kernel's lib/test_hmm.c",
  nodes: [
    { kind: "hostBridge", id: "host0", domain: 0, rootBus: 0, iommu: "off", name: "Ice Lake-SP host bridge" },
    { kind: "endpoint", id: "host0-fn", bdf: "0000:00:00.0", parent: "host0", vendor: "8086", device: "09a2", class: "0600", name: "host bridge function" },
    { kind: "rootPort", id: "rp0", bdf: "0000:00:01.0", parent: "host0", vendor: "8086", device: "347a", class: "0604", name: "PCIe root port" },
    { kind: "switchUpstream", id: "sw0-up", bdf: "0000:01:00.0", parent: "rp0", vendor: "10b5", device: "9781", class: "0604", name: "PCIe switch upstream port" },
    ...[0, 1, 2, 3].map((n): TopologyInput["nodes"][number] => ({
      kind: "switchDownstream", id: `sw0-dn${n}`, bdf: `0000:02:0${n}.0`, parent: "sw0-up", vendor: "10b5", device: "9781", class: "0604",
      name: `PCIe switch downstream port ${n}`,
    })),
    dmirrorDevice(0, "private"),
    dmirrorDevice(1, "private"),
    dmirrorDevice(2, "coherent"),
    dmirrorDevice(3, "coherent"),
  ],
  links: [],
};

const BUILTINS: Record<string, TopologyInput> = { dmirror: DMIRROR_TOPOLOGY };

export const BUILTIN_TOPOLOGY_NAMES = Object.keys(BUILTINS);

/** The builtin topology `name` as a topology object (a copy); InputError for an unknown name. */
export function builtinTopologyInput(name: string): TopologyInput {
  const topology = BUILTINS[name];
  if (!topology) throw new InputError("topology", name, `no builtin topology of this name (builtins: ${BUILTIN_TOPOLOGY_NAMES.join(", ")})`);
  return structuredClone(topology);
}

/** The builtin topology `name` as a Fabric; InputError for an unknown name. */
export function builtinTopology(name: string): Fabric {
  return buildFabric(builtinTopologyInput(name), `builtin:${name}`);
}
