// Models: "show this figure": displayed inline when running in a tslab kernel, and written to
// notebooks/figures/<name>.svg and .png when the notebook runner (P2PDMA_LAB_FIGURES) asks for it.
// Leaves out: interactive figures; tslab is found from this package's own node_modules.
import { mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { pngFromSvg, svgText } from "./render.js";

/** Environment variable naming the folder where headless runs save figures. */
export const FIGURES_ENV = "P2PDMA_LAB_FIGURES";

interface TslabDisplay {
  html(s: string): void;
}

function tslabDisplay(): TslabDisplay | undefined {
  try {
    const tslab = createRequire(import.meta.url)("tslab") as { display: TslabDisplay };
    return tslab.display;
  } catch {
    return undefined; // tslab is not installed: not a notebook
  }
}

/**
 * Shows a Plot figure (the element Plot.plot returns) in tslab, and saves `<name>.svg` and
 * `<name>.png` under $P2PDMA_LAB_FIGURES when that is set (headless notebook runs). Returns
 * nothing, so that a notebook cell ending in `show(...)` prints no value.
 */
export function show(name: string, figure: Element): void {
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) {
    throw new Error(`figure name must be lower-case letters, digits and '-': ${JSON.stringify(name)}`);
  }
  const dir = process.env[FIGURES_ENV];
  if (dir) {
    mkdirSync(dir, { recursive: true });
    const svg = svgText(figure);
    const svgPath = join(dir, `${name}.svg`);
    const pngPath = join(dir, `${name}.png`);
    writeFileSync(svgPath, svg);
    writeFileSync(pngPath, pngFromSvg(svg));
  }
  const display = tslabDisplay();
  if (display) {
    try {
      display.html(figure.outerHTML);
    } catch {
      // "Not ready": tslab is installed but this process is not a kernel (tests, CLI).
    }
  }
}
