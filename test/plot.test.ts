import { describe, expect, it } from "vitest";
import * as Plot from "@observablehq/plot";
import { mkdtempSync, readFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { plotDocument, show, svgText, pngFromSvg, FIGURES_ENV } from "../src/plot/index.js";

function samplePlot(title?: string): Element {
  return Plot.plot({
    document: plotDocument(),
    title,
    color: { legend: true },
    marks: [Plot.barY([{ x: "a", y: 3 }, { x: "b", y: 5 }], { x: "x", y: "y", fill: "x" })],
  }) as unknown as Element;
}

describe("plot helpers", () => {
  it("renders a standalone SVG with its namespace and the figure's title", () => {
    const svg = svgText(samplePlot("Two bars"));
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).toContain('xmlns="http://www.w3.org/2000/svg"');
    expect(svg).toContain("<title>Two bars</title>");
  });

  it("rasterises the SVG to a PNG of twice its size", () => {
    const svg = svgText(samplePlot());
    const png = pngFromSvg(svg, 2);
    expect(Array.from(png.slice(1, 4))).toEqual([0x50, 0x4e, 0x47]); // "PNG"
    const width = new DataView(png.buffer, png.byteOffset).getUint32(16);
    expect(width).toBe(2 * 640); // Plot's default width is 640
  });

  it("saves <name>.svg and <name>.png when the runner sets the figures folder", () => {
    const dir = mkdtempSync(join(tmpdir(), "figs-"));
    process.env[FIGURES_ENV] = dir;
    try {
      const shown = show("two-bars", samplePlot("Two bars"));
      expect(shown.files).toEqual([join(dir, "two-bars.svg"), join(dir, "two-bars.png")]);
      expect(readFileSync(join(dir, "two-bars.svg"), "utf8")).toContain("<svg");
      expect(existsSync(join(dir, "two-bars.png"))).toBe(true);
    } finally {
      delete process.env[FIGURES_ENV];
    }
  });

  it("writes nothing without the figures folder, and rejects names that are not file-safe", () => {
    expect(show("quiet", samplePlot()).files).toEqual([]);
    expect(() => show("../escape", samplePlot())).toThrow(/figure name/);
  });
});
