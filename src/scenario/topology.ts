// Models: how a scenario's `topology` becomes the devices the memory model runs: a builtin name,
// a path relative to the scenario file, or an inline object, built by the fabric layer; every
// endpoint with `zoneDevice` becomes a DeviceSpec. Leaves out: everything of the fabric the
// memory model does not use yet (BARs, routing: issue 5).
import { existsSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { builtinTopology } from "../fabric/builtin.js";
import { buildFabric } from "../fabric/build.js";
import { loadTopologyFile } from "../fabric/load.js";
import type { Fabric } from "../fabric/types.js";
import type { DeviceSpec } from "../devices/device.js";
import { BUILTIN_TOPOLOGY_NAMES } from "../fabric/builtin.js";

/** Resolves `topology` of a scenario read from `scenarioPath` (undefined for in-memory scenarios). */
export function resolveTopology(topology: string | Record<string, unknown>, scenarioPath?: string): Fabric {
  if (typeof topology !== "string") return buildFabric(topology, scenarioPath ? `${scenarioPath}: topology` : "topology");
  const path = resolve(scenarioPath ? dirname(scenarioPath) : ".", topology);
  if (BUILTIN_TOPOLOGY_NAMES.includes(topology) && !existsSync(path)) return builtinTopology(topology);
  return loadTopologyFile(path);
}

/** The endpoints that hand memory to the kernel as ZONE_DEVICE pages. */
export function deviceSpecs(fabric: Fabric): DeviceSpec[] {
  const out: DeviceSpec[] = [];
  for (const f of fabric.functions) {
    if (f.kind !== "endpoint" || !f.zoneDevice) continue;
    out.push({ id: f.id, zoneDevice: f.zoneDevice, memory: f.memory ?? 256 * 1024 * 1024, numaNode: f.numaNode });
  }
  return out;
}
