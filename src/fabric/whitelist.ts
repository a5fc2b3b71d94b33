// Models: the host-bridge gate of drivers/pci/p2pdma.c (p2pdma.md §3): cpu_supports_p2pdma(),
// pci_host_bridge_dev() and the pci_p2pdma_whitelist[] table, following the recent PCI tree read
// for the note (post-v7.1, commit cd2698d76c31: Intel incl. QAT/DSA/IAA, Google, NVIDIA, Zhaoxin).
// Leaves out: non-x86 builds (where cpu_supports_p2pdma is always false, as for vendor "arm").
import type { Fabric, HostBridge, PciFunction } from "./types.js";

const REQ_SAME_HOST_BRIDGE = 1;
const ANY = "*";

/** pci_p2pdma_whitelist[] in table order: [vendor, device, flags]. */
export const P2PDMA_WHITELIST: readonly (readonly [string, string, number])[] = [
  ["8086", "3c00", REQ_SAME_HOST_BRIDGE],
  ["8086", "3c01", REQ_SAME_HOST_BRIDGE],
  ["8086", "2f00", REQ_SAME_HOST_BRIDGE],
  ["8086", "2f01", REQ_SAME_HOST_BRIDGE],
  ["8086", "2030", 0],
  ["8086", "2031", 0],
  ["8086", "2032", 0],
  ["8086", "2033", 0],
  ["8086", "2020", 0],
  ["8086", "09a2", 0],
  ["8086", "0b25", 0], // DSA SPR0
  ["8086", "0cfe", 0], // IAX SPR0
  ["8086", "11fb", 0], // DSA GNRD
  ["8086", "1212", 0], // DSA DMR
  ["8086", "1216", 0], // IAA DMR
  ["8086", "4940", 0], // QAT 4xxx
  ["8086", "4942", 0], // QAT 401xx
  ["8086", "4944", 0], // QAT 402xx
  ["8086", "4946", 0], // QAT 420xx
  ["8086", "4948", 0], // QAT 6xxx
  ["1ae0", ANY, 0], // Google SoCs
  ["10de", "2f95", 0],
  ["10de", "2f96", 0],
  ["10de", "2f97", 0],
  ["10de", "2f98", 0],
  ["1d17", "1003", REQ_SAME_HOST_BRIDGE],
  ["1d17", "1005", REQ_SAME_HOST_BRIDGE],
  ["1d17", "1006", REQ_SAME_HOST_BRIDGE],
  ["1d17", "1007", REQ_SAME_HOST_BRIDGE],
  ["1d17", "1008", 0],
];

/** cpu_supports_p2pdma(): x86 AMD with family >= 0x17 (Zen); Hygon is a different vendor. */
export function cpuSupportsP2pdma(fabric: Fabric): boolean {
  const cpu = fabric.machineCpu;
  return cpu.vendor === "amd" && (cpu.family ?? 0x17) >= 0x17;
}

/** pci_host_bridge_dev(): the first device on the root bus, if it is devfn 00.0 or a Root Port. */
export function hostBridgeDev(fabric: Fabric, host: HostBridge): PciFunction | null {
  const first = host.children[0];
  if (first === undefined) return null;
  const func = fabric.byId.get(first) as PciFunction;
  return func.devfn === 0 || func.kind === "rootPort" ? func : null;
}

/** Whether a whitelist miss is reported (the kernel's `warn`, set when ACS redirect forced the
 *  host path), where the kernel log lines go, and (for explanations) what each host bridge examined
 *  decided, whether or not the kernel prints it. */
export interface WhitelistWarn {
  warn: boolean;
  warnings: string[];
  verdicts?: string[];
}

/** __host_bridge_whitelist(): the first matching entry decides. Pushes the warning on a miss. */
function hostBridgeWhitelisted(fabric: Fabric, host: HostBridge, sameHostBridge: boolean, log: WhitelistWarn): boolean {
  const root = hostBridgeDev(fabric, host);
  if (!root) {
    log.verdicts?.push(`host bridge ${host.id}: the first device on its root bus is neither 00.0 nor a root port, so pci_host_bridge_dev() finds none to look up`);
    return false;
  }
  const ids = `${root.vendor ?? "????"}:${root.device ?? "????"}`;
  for (const [vendor, device, flags] of P2PDMA_WHITELIST) {
    if (vendor !== root.vendor || (device !== ANY && device !== root.device)) continue;
    const ok = !(flags & REQ_SAME_HOST_BRIDGE) || sameHostBridge;
    log.verdicts?.push(ok
      ? `host bridge ${ids} (${root.address}) is in pci_p2pdma_whitelist[]`
      : `host bridge ${ids} (${root.address}) is whitelisted only for peers below the same host bridge (REQ_SAME_HOST_BRIDGE)`);
    return ok;
  }
  if (log.warn) log.warnings.push(`${root.address}: Host bridge not in P2PDMA whitelist: ${ids}`);
  log.verdicts?.push(`Host bridge not in P2PDMA whitelist: ${ids} (${root.address})`);
  return false;
}

/** host_bridge_whitelist(a, b, warn): same host bridge → one lookup; else both, left to right. */
export function hostBridgeWhitelist(fabric: Fabric, a: PciFunction, b: PciFunction, log: WhitelistWarn): boolean {
  const hostA = fabric.byId.get(a.hostBridge) as HostBridge;
  const hostB = fabric.byId.get(b.hostBridge) as HostBridge;
  if (hostA === hostB) return hostBridgeWhitelisted(fabric, hostA, true, log);
  return hostBridgeWhitelisted(fabric, hostA, false, log) && hostBridgeWhitelisted(fabric, hostB, false, log);
}
