// Models: calc_map_type_and_dist() of drivers/pci/p2pdma.c (p2pdma.md §2.1-§2.4, recent PCI tree
// post-v7.1): upstream chains with VF→PF replacement, ACS redirect on every device of the path,
// the distance, the host-bridge gate and the warning texts of a verbose (first, uncached) lookup.
// Leaves out: the per-provider map-type cache and the 128-byte bound of the offender list.
import { hasAcsRedirect } from "./acs.js";
import { getFunction, parentBridge } from "./build.js";
import type { Fabric, PciFunction } from "./types.js";
import { cpuSupportsP2pdma, hostBridgeWhitelist } from "./whitelist.js";

export type P2pdmaMapType = "BUS_ADDR" | "THRU_HOST_BRIDGE" | "NOT_SUPPORTED";

export interface P2pdmaResult {
  mapType: P2pdmaMapType;
  /** Linux P2PDMA distance, computed for every map type (the pair matrix shows -1 for NOT_SUPPORTED). */
  distance: number;
  /** pci_name() of each device whose ACS redirect forced the host path, in the kernel's order. */
  acsOffenders: string[];
  /** The kernel log lines, each prefixed with the device it is printed against. */
  warnings: string[];
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
    if (offenders.length === 0) return { mapType: "BUS_ADDR", distance, acsOffenders: [], warnings };
    warnings.push(`${client.address}: ACS redirect is set between the client and provider (${provider.address})`);
    warnings.push(`${client.address}: to disable ACS redirect for this path, add the kernel parameter: pci=disable_acs_redir=${offenders.join(";")}`);
    acsRedirects = true;
  }
  // Host-bridge gate.
  if (cpuSupportsP2pdma(fabric) || hostBridgeWhitelist(fabric, provider, client, { warn: acsRedirects, warnings })) {
    return { mapType: "THRU_HOST_BRIDGE", distance, acsOffenders: offenders, warnings };
  }
  warnings.push(`${client.address}: cannot be used for peer-to-peer DMA as the client and provider (${provider.address}) do not share an upstream bridge or whitelisted host bridge`);
  return { mapType: "NOT_SUPPORTED", distance, acsOffenders: offenders, warnings };
}
