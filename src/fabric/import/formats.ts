// Models: the topology formats `p2pdma-lab topo FILE` reads (DESIGN §4), named once for the
// messages about a file that is none of them.
// Leaves out: telling the formats apart (detect.ts).

export type TopologyFormat = "json" | "lspci" | "hwloc";

export const ACCEPTED_FORMATS =
  "accepted: the kit's topology JSON ({ name, nodes, links }), `lspci -tv` text (optionally followed by `lspci -vvv`), or hwloc XML (`lstopo --of xml`)";
