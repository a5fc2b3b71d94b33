// Models: the CPU interconnect an importer assumes between the NUMA nodes of a dump (neither lspci
// nor hwloc describes QPI/UPI or Infinity Fabric links): one socket link per pair of NUMA nodes that
// host bridges or devices report, its bandwidth left to the calibration, so that a transfer between
// sockets can be costed; stated in the topology's description.
// Leaves out: the real link count, width and NUMA distances (an overlay or an edited topology sets them).
import type { TopologyInput } from "../schema.js";

type NodeInput = TopologyInput["nodes"][number];
type LinkInput = NonNullable<TopologyInput["links"]>[number];

/** Socket links joining every two NUMA nodes `nodes` name, and the sentence saying so (none for one node). */
export function assumedSocketLinks(nodes: readonly NodeInput[]): { links: LinkInput[]; note?: string } {
  const numa = [...new Set(nodes.flatMap((n) => ("numaNode" in n && n.numaNode !== undefined ? [n.numaNode] : [])))].sort((a, b) => a - b);
  const links: LinkInput[] = [];
  for (let i = 0; i < numa.length; i++) {
    for (let j = i + 1; j < numa.length; j++) links.push({ kind: "socket", a: numa[i], b: numa[j], name: "assumed: the dump does not describe the CPU interconnect" });
  }
  if (links.length === 0) return { links };
  return { links, note: `Socket links assumed between NUMA nodes ${numa.join(", ")} (one per pair; bandwidth from the calibration), as the dump does not describe the CPU interconnect.` };
}
