// Models: "did you mean": the known names within a small edit distance (Levenshtein: one insert,
// delete or substitution per step) of a name the user got slightly wrong, nearest first.
// Leaves out: transpositions as one step, phonetic or case-folding matches.

/** Edit distance of `a` and `b`, or `max + 1` as soon as it is known to exceed `max`. */
export function editDistance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev = new Int32Array(b.length + 1);
  let cur = new Int32Array(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    let rowMin = i;
    const ca = a.charCodeAt(i - 1);
    for (let j = 1; j <= b.length; j++) {
      const sub = prev[j - 1] + (ca === b.charCodeAt(j - 1) ? 0 : 1);
      const best = Math.min(sub, prev[j] + 1, cur[j - 1] + 1);
      cur[j] = best;
      if (best < rowMin) rowMin = best;
    }
    if (rowMin > max) return max + 1;
    [prev, cur] = [cur, prev];
  }
  return prev[b.length];
}

/** Names in `known` within `maxDistance` edits of `name` (the name itself excluded), nearest first, at most `limit`. */
export function nearNames(name: string, known: Iterable<string>, maxDistance = 2, limit = 5): string[] {
  const near: { name: string; distance: number }[] = [];
  for (const candidate of known) {
    if (candidate === name) continue;
    const distance = editDistance(name, candidate, maxDistance);
    if (distance <= maxDistance) near.push({ name: candidate, distance });
  }
  near.sort((x, y) => x.distance - y.distance || (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
  return [...new Set(near.map((n) => n.name))].slice(0, limit);
}
