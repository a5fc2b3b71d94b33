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

const escapeXml = (t: string) => t.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/**
 * Standalone SVG text of a figure. Plot puts a figure's title, subtitle, colour swatches and caption
 * in HTML around the plot's <svg>; they are redrawn here as SVG text and squares above and below it
 * (approximate text widths: DejaVu Sans at 10 px is about 6.5 px per character).
 */
export function svgText(el: Element): string {
  const main = mainSvg(el).cloneNode(true) as SVGSVGElement;
  const width = Number(main.getAttribute("width") ?? 640);
  const height = Number(main.getAttribute("height") ?? 400);
  const title = el.querySelector("h2")?.textContent ?? "";
  const subtitle = el.querySelector("h3")?.textContent ?? "";
  const caption = el.querySelector("figcaption")?.textContent ?? "";
  const swatches = Array.from(el.querySelectorAll("span")).filter((s) => /-swatch$/.test(s.getAttribute("class") ?? ""));
  const parts: string[] = [];
  let y = 0;
  if (title) {
    parts.push(`<text x="0" y="${y + 18}" font-size="15" font-weight="bold">${escapeXml(title)}</text>`);
    y += 28;
  }
  if (subtitle) {
    parts.push(`<text x="0" y="${y + 13}" font-size="12">${escapeXml(subtitle)}</text>`);
    y += 20;
  }
  if (swatches.length) {
    let x = 0;
    for (const s of swatches) {
      const label = s.textContent ?? "";
      // A colour swatch carries `fill` on its <svg>; a symbol swatch draws its mark with `stroke`.
      const sw = s.querySelector("svg");
      const mark = sw?.querySelector("[stroke]:not([stroke=none]), [fill]:not([fill=none])");
      const fill = sw?.getAttribute("fill") ?? mark?.getAttribute("fill") ?? "none";
      const stroke = sw?.getAttribute("stroke") ?? mark?.getAttribute("stroke") ?? "none";
      const w = 21 + label.length * 6.5 + 14;
      if (x > 0 && x + w > width) {
        x = 0;
        y += 22;
      }
      parts.push(`<rect x="${x}" y="${y + 3}" width="15" height="15" fill="${escapeXml(fill)}" stroke="${escapeXml(stroke)}" stroke-width="1.5"/>`);
      parts.push(`<text x="${x + 21}" y="${y + 15}" font-size="10">${escapeXml(label)}</text>`);
      x += w;
    }
    y += 28;
  }
  if (parts.length === 0 && !caption) {
    main.setAttribute("xmlns", SVG_NS);
    return main.outerHTML;
  }
  main.setAttribute("x", "0");
  main.setAttribute("y", String(y));
  const total = y + height + (caption ? 24 : 0);
  if (caption) parts.push(`<text x="0" y="${y + height + 16}" font-size="11">${escapeXml(caption)}</text>`);
  const head = title ? `<title>${escapeXml(title)}</title>` : "";
  return `<svg xmlns="${SVG_NS}" width="${width}" height="${total}" viewBox="0 0 ${width} ${total}" font-family="system-ui, sans-serif">${head}<rect width="100%" height="100%" fill="white"/>${parts.join("")}${main.outerHTML}</svg>`;
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
