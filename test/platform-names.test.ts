// The importers' table of platforms (src/fabric/import/platforms.ts) and the cost model's platform
// profiles (data/calibration/platforms/) speak one vocabulary: every platform an import can name is
// a profile the cost model knows, so an imported machine is costed by its platform, never refused.
import { describe, expect, it } from "vitest";
import { KNOWN_PLATFORMS } from "../src/fabric/import/platforms.js";
import { platformProfiles } from "../src/scenario/load.js";

describe("platform names", () => {
  it("every platform an importer names is a cost-model profile (by name or alias)", () => {
    const known = new Set(platformProfiles().flatMap((p) => [p.name, ...p.aliases]));
    const named = [...new Set(KNOWN_PLATFORMS.flatMap((k) => (k.platform ? [k.platform] : [])))];
    expect(named.length).toBeGreaterThan(5);
    expect(named.filter((n) => !known.has(n))).toEqual([]);
  });
});
