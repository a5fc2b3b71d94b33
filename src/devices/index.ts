// Models: the devices layer: the device hardware model, the dmirror driver, BAR apertures, P2P
// client drivers with their IOMMU domains, the DMA safety checker, and the machine that holds them.
export * from "./device.js";
export * from "./dmirror.js";
export * from "./bar-aperture.js";
export * from "./iommu-domain.js";
export * from "./dma-safety.js";
export * from "./client-device.js";
export * from "./device-table.js";
export * from "./machine.js";
