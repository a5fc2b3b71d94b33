// Models: turning a Plot figure into standalone files: SVG text with its namespace, and a PNG
// rasterised by resvg with real fonts (DejaVu from Debian's fonts-dejavu-core when present).
// Leaves out: HTML-only parts of a figure (a legend drawn as HTML swatches is dropped from the PNG).
import { Resvg } from "@resvg/resvg-js";
import { existsSync } from "node:fs";

const SVG_NS = "http://www.w3.org/2000/svg";
const DEJAVU = "/usr/share/fonts/truetype/dejavu";

/** The figure's main <svg> (Plot wraps it in <figure> when it has a title, caption or legend). */
export function mainSvg(el: Element): SVGSVGElement {
  if (el.tagName.toLowerCase() === "svg") return el as SVGSVGElement;
  const svgs = Array.from(el.querySelectorAll("svg")).filter((s) => !s.parentElement?.closest("svg"));
  if (svgs.length === 0) throw new Error("figure has no <svg> element to save");
  // The plot proper is the largest svg; legends are small ones before it.
  return svgs.reduce((a, b) => (area(b) > area(a) ? b : a));
}

function area(svg: Element): number {
  return Number(svg.getAttribute("width") ?? 0) * Number(svg.getAttribute("height") ?? 0);
}

/** Standalone SVG text of a figure: the main svg with xmlns, a white background and the figure's title. */
export function svgText(el: Element): string {
  const svg = mainSvg(el).cloneNode(true) as SVGSVGElement;
  svg.setAttribute("xmlns", SVG_NS);
  const title = el.querySelector("h2")?.textContent;
  const style = svg.getAttribute("style") ?? "";
  svg.setAttribute("style", `${style};background:white`);
  if (title && !svg.querySelector("title")) {
    const t = svg.ownerDocument.createElementNS(SVG_NS, "title");
    t.textContent = title;
    svg.insertBefore(t, svg.firstChild);
  }
  return svg.outerHTML;
}

/** PNG bytes of an SVG text, at `scale` times its size, on white, with DejaVu fonts. */
export function pngFromSvg(svg: string, scale = 2): Uint8Array {
  const fontDirs = existsSync(DEJAVU) ? [DEJAVU] : [];
  const resvg = new Resvg(svg, {
    background: "white",
    fitTo: { mode: "zoom", value: scale },
    font: {
      loadSystemFonts: fontDirs.length === 0,
      fontDirs,
      defaultFontFamily: "DejaVu Sans",
      sansSerifFamily: "DejaVu Sans",
      monospaceFamily: "DejaVu Sans Mono",
    },
  });
  return resvg.render().asPng();
}
