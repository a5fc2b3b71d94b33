// Models: calc_map_type_and_dist() of drivers/pci/p2pdma.c (p2pdma.md §2.1-§2.4, recent PCI tree
// post-v7.1): upstream chains with VF→PF replacement, ACS redirect on every device of the path,
// the distance, the host-bridge gate and the warning texts of a verbose (first, uncached) lookup,
// plus which rule decided and why, in the kernel's words (for `topo`: the reason for NOT_SUPPORTED).
// Leaves out: the per-provider map-type cache and the 128-byte bound of the offender list.
import { hasAcsRedirect } from "./acs.js";
import { getFunction, parentBridge } from "./build.js";
import type { Fabric, PciFunction } from "./types.js";
import { cpuSupportsP2pdma, hostBridgeWhitelist } from "./whitelist.js";

export type P2pdmaMapType = "BUS_ADDR" | "THRU_HOST_BRIDGE" | "NOT_SUPPORTED";

/**
 * The rule of calc_map_type_and_dist() that decided: a common upstream device without ACS redirect
 * (BUS_ADDR); cpu_supports_p2pdma() (AMD Zen: THRU_HOST_BRIDGE); host_bridge_whitelist() passing
 * (THRU_HOST_BRIDGE) or failing (NOT_SUPPORTED).
 */
export type P2pdmaRule = "common-upstream-bridge" | "cpu-supports-p2pdma" | "host-bridge-whitelist" | "not-whitelisted";

export interface P2pdmaResult {
  mapType: P2pdmaMapType;
  /** Linux P2PDMA distance, computed for every map type (the pair matrix shows -1 for NOT_SUPPORTED). */
  distance: number;
  /** pci_name() of each device whose ACS redirect forced the host path, in the kernel's order. */
  acsOffenders: string[];
  /** The kernel log lines, each prefixed with the device it is printed against. */
  warnings: string[];
  /** The rule that decided the map type. */
  rule: P2pdmaRule;
  /** Why, in the kernel's words where it has them (its warnings and the whitelist's verdicts). */
  reason: string;
}

/** pci_upstream_bridge(): a VF is replaced by its PF, then the bridge above (null on a root bus). */
export function upstreamBridge(fabric: Fabric, f: PciFunction): PciFunction | null {
  const pf = f.physfn !== undefined ? (fabric.byId.get(f.physfn) as PciFunction) : f;
  return parentBridge(fabric, pf);
}

/** [f, up(f), up(up(f)), …] to the device on the root bus. */
export function upstreamChain(fabric: Fabric, f: PciFunction): PciFunction[] {
  const chain: PciFunction[] = [];
  for (let dev: PciFunction | null = f; dev; dev = upstreamBridge(fabric, dev)) chain.push(dev);
  return chain;
}

/** calc_map_type_and_dist(provider, client, verbose = true). Ids or PCI addresses. */
export function p2pdmaMapType(fabric: Fabric, providerId: string, clientId: string): P2pdmaResult {
  const provider = getFunction(fabric, providerId, "provider");
  const client = getFunction(fabric, clientId, "client");
  const chainP = upstreamChain(fabric, provider);
  const chainC = upstreamChain(fabric, client);
  const offenders: string[] = [];
  const warnings: string[] = [];
  let distance: number;
  let acsRedirects = false;

  let common = -1;
  let distB = -1;
  for (let i = 0; i < chainP.length && common < 0; i++) {
    const a = chainP[i];
    if (hasAcsRedirect(a)) offenders.push(a.address);
    const j = chainC.indexOf(a);
    if (j >= 0) {
      common = i;
      distB = j;
    }
  }
  if (common < 0) {
    // No common upstream device: distance is the sum of both chain lengths; the ACS list is dropped.
    distance = chainP.length + chainC.length;
    offenders.length = 0;
  } else {
    for (let j = 0; j < distB; j++) if (hasAcsRedirect(chainC[j])) offenders.push(chainC[j].address);
    distance = common + distB;
    if (offenders.length === 0) {
      const reason = `${client.address} and ${provider.address} share the upstream device ${chainP[common].address} and no device on the path has ACS redirect (RR, CR or EC): the DMA goes by bus address`;
      return { mapType: "BUS_ADDR", distance, acsOffenders: [], warnings, rule: "common-upstream-bridge", reason };
    }
    warnings.push(`${client.address}: ACS redirect is set between the client and provider (${provider.address})`);
    warnings.push(`${client.address}: to disable ACS redirect for this path, add the kernel parameter: pci=disable_acs_redir=${offenders.join(";")}`);
    acsRedirects = true;
  }
  // Host-bridge gate.
  const why = acsRedirects ? [`ACS redirect is set between the client and provider (${provider.address}) at ${offenders.join(", ")}`] : [`no common upstream bridge`];
  const cpu = fabric.machineCpu;
  if (cpuSupportsP2pdma(fabric)) {
    const reason = [...why, `cpu_supports_p2pdma(): AMD family ${hexFamily(cpu.family ?? 0x17)} (>= 0x17) lets every host-bridge path through`].join("; ");
    return { mapType: "THRU_HOST_BRIDGE", distance, acsOffenders: offenders, warnings, rule: "cpu-supports-p2pdma", reason };
  }
  const verdicts: string[] = [];
  if (hostBridgeWhitelist(fabric, provider, client, { warn: acsRedirects, warnings, verdicts })) {
    return { mapType: "THRU_HOST_BRIDGE", distance, acsOffenders: offenders, warnings, rule: "host-bridge-whitelist", reason: [...why, ...verdicts].join("; ") };
  }
  const failure = `cannot be used for peer-to-peer DMA as the client and provider (${provider.address}) do not share an upstream bridge or whitelisted host bridge`;
  warnings.push(`${client.address}: ${failure}`);
  const notAmd = `cpu_supports_p2pdma() is false (CPU ${cpu.vendor}${cpu.family !== undefined ? ` family ${hexFamily(cpu.family)}` : ""}: only AMD family >= 0x17 passes)`;
  return { mapType: "NOT_SUPPORTED", distance, acsOffenders: offenders, warnings, rule: "not-whitelisted", reason: [...why, notAmd, ...verdicts, failure].join("; ") };
}

function hexFamily(family: number): string {
  return `0x${family.toString(16)}`;
}
