// Models: the devices layer's public API: the device hardware model and the dmirror driver.
export * from "./device.js";
export * from "./dmirror.js";
