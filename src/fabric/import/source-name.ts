// Models: the topology name an importer gives a dump: its file name without directory and the
// dump-kind extensions (`.lspci.txt`, `.hwloc.xml`, `.txt`, `.xml`, `.json`).
// Leaves out: names read from inside a dump (hwloc's DMI product name is used by hwloc.ts itself).

export function topologyName(source: string): string {
  const base = source.split(/[\\/]/).pop() || source;
  const name = base.replace(/(\.(lspci|hwloc|lstopo|topo))?\.(txt|xml|json)$/i, "");
  return name || "imported";
}
