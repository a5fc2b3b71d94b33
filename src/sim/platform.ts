// Models: which platform a machine is, for the cost model (data/calibration/platforms/): a topology's
// named `platform`, else the boot CPU's vendor, x86 family and model, else its vendor and family with
// the highest PCIe generation of its links (a Gen5 Intel host is Sapphire Rapids class). The profile's
// parameters (socket link, memory, root complex) replace the defaults, except those a named
// calibration file set itself. Leaves out: mixed machines (one profile per machine, from the boot CPU).
import type { Fabric, HostCpuState as HostCpu } from "../fabric/types.js";
import { InputError } from "../units/input-error.js";
import { PARAM_NAMES, type Calibration, type PlatformSpec } from "./calibration.js";

/** The highest PCIe generation any link of the machine is capable of (0 when none says). */
function highestGen(fabric: Fabric): number {
  let gen = 0;
  for (const f of fabric.functions) if (f.link && f.link.gen > gen) gen = f.link.gen;
  return gen;
}

function matchesCpu(p: PlatformSpec, cpu: HostCpu, gen: number): boolean {
  const m = p.match;
  if (m.vendor !== cpu.vendor) return false;
  if (m.families && (cpu.family === undefined || !m.families.includes(cpu.family))) return false;
  if (cpu.model !== undefined && m.models) return m.models.includes(cpu.model);
  // No model given: the generation of the machine's links stands for the CPU's era.
  return m.pcieGens !== undefined && m.pcieGens.includes(gen);
}

/** The platform profile a machine matches, or undefined (the defaults stand). */
export function platformOf(platforms: readonly PlatformSpec[], fabric: Fabric): PlatformSpec | undefined {
  if (fabric.platform !== undefined) {
    const named = platforms.find((p) => p.name === fabric.platform || p.aliases.includes(fabric.platform!));
    if (!named) {
      const known = platforms.flatMap((p) => [p.name, ...p.aliases]).sort();
      throw new InputError("platform", fabric.platform, `not a known platform (known: ${known.join(", ")})`);
    }
    return named;
  }
  const gen = highestGen(fabric);
  return platforms.find((p) => matchesCpu(p, fabric.machineCpu, gen));
}

/** The calibration for one machine: the platform profile's parameters over the defaults, the named
 *  file's own parameters over both. Idempotent: a resolved calibration resolves from its layers. */
export function forMachine(cal: Calibration, fabric: Fabric): Calibration {
  const layers = cal.platform === undefined ? cal : (cal as ResolvedCalibration).layers;
  const p = platformOf(layers.platforms, fabric);
  if (!p) return layers;
  const params = { ...layers.params };
  const explicit = new Set(layers.explicit);
  for (const name of PARAM_NAMES) {
    const spec = p.params[name];
    if (spec && !explicit.has(name)) params[name] = spec;
  }
  const resolved: ResolvedCalibration = { ...layers, params, platform: p.name, layers };
  return resolved;
}

interface ResolvedCalibration extends Calibration {
  /** The calibration before the platform profile was applied. */
  layers: Calibration;
}
