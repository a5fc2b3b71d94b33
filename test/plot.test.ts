import { describe, expect, it } from "vitest";
import * as Plot from "@observablehq/plot";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
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
  it("renders a standalone SVG with its namespace, and redraws the HTML title and swatches as SVG", () => {
    const svg = svgText(samplePlot("Two bars"));
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).toContain('xmlns="http://www.w3.org/2000/svg"');
    expect(svg).toContain("<title>Two bars</title>");
    expect(svg).toMatch(/<text[^>]*font-weight="bold">Two bars<\/text>/);
    // one square and one label per colour of the legend, above the plot (title 28 px + swatch row 28 px)
    expect(svg.match(/<rect x="\d+(\.\d+)?" y="31" width="15" height="15"/g)?.length).toBe(2);
    expect(svg).toMatch(/<svg[^>]* x="0" y="56"/);
  });

  it("keeps a plain plot as its own svg", () => {
    const plain = Plot.plot({ document: plotDocument(), marks: [Plot.dot([[1, 2]])] }) as unknown as Element;
    const svg = svgText(plain);
    expect(svg).toMatch(/^<svg class="plot-/);
    expect(svg).toContain('xmlns="http://www.w3.org/2000/svg"');
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
      show("two-bars", samplePlot("Two bars"));
      expect(readdirSync(dir).sort()).toEqual(["two-bars.png", "two-bars.svg"]);
      expect(readFileSync(join(dir, "two-bars.svg"), "utf8")).toContain("<svg");
      expect(existsSync(join(dir, "two-bars.png"))).toBe(true);
    } finally {
      delete process.env[FIGURES_ENV];
    }
  });

  it("writes nothing without the figures folder, and rejects names that are not file-safe", () => {
    const cwd = readdirSync(".").length;
    show("quiet", samplePlot());
    expect(readdirSync(".").length).toBe(cwd);
    expect(() => show("../escape", samplePlot())).toThrow(/figure name/);
  });
});
