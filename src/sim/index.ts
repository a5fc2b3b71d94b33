// Models: the public API of the cost layer (DESIGN §2 `sim`): the link and path model, fair-share
// simulation, HMM/IOMMU operation costs, designs and migrations, calibration parameters and trace
// export. Leaves out: the event engine, histograms and ledger (internals) and reading calibration
// files (scenario/load.ts).
export {
  rawGBps, tlpGBps, completionChunk, writeGBps, readGBps, writeWireBytes, completionWireBytes, requestWireBytes, serialiseNs, checkPcieConfig,
  type PcieGen, type PcieWidth, type PcieLinkConfig,
} from "./pcie-rate.js";
export {
  CalibrationFile, Param, ParamStatus, PARAM_NAMES, PARAM_UNITS, mergeCalibration, parseCalibration, param, withParams,
  type Calibration, type CalibrationFileSpec, type ParamName, type ParamSpec,
} from "./calibration.js";
export { buildLinkGraph, pathBetween, type LinkGraph, type SimLink, type SimPath, type TransferKind, type LinkKind } from "./paths.js";
export { maxMinRates, type FlowSet } from "./fair-share.js";
export { simulate, type Transfer, type TransferResult, type LinkUsage, type SimResult } from "./simulate.js";
export {
  cpuFaultNs, deviceFaultNs, snapshotNs, tlbFlushNs, invalidateNs, migrateNs, dmaMapNs, iotlbReachBytes, iotlbMissProbability, peerMapNs, apertureRemapNs,
  type MigrateCost,
} from "./hmm-costs.js";
export { dmaReadLatencyNs, randomReadGBps } from "./device-read.js";
export { uvmSmartTransferNs, uvmSmartFaultNs } from "./uvmsmart.js";
export { chromeTrace, writeChromeTrace, type ChromeTrace, type ChromeTraceEvent, type TraceSpan } from "./trace.js";
export {
  machine, costTransfer, bounceCopy, smallCopyLatencyNs, compareDesigns,
  type TransferCost, type BounceCost, type DesignComparison,
} from "./designs.js";
export { migrationCost, migrationPath, iommuTranslates, type MigrationCost, type MigrationOptions, type MigrationDirection } from "./migration.js";
