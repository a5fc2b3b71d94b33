// Models: the plotting helpers of the public API (Observable Plot in Node and tslab).
export { plotDocument } from "./dom.js";
export { mainSvg, svgText, pngFromSvg } from "./render.js";
export { show, FIGURES_ENV } from "./show.js";
