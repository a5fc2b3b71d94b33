// Models: the public API of the cost layer (DESIGN §2 `sim`): the machine's resources and paths,
// fair-share simulation, the transfer designs, HMM/IOMMU operation costs and migrations, platform
// profiles, calibration parameters and trace export. Leaves out: the event engine, histograms and
// ledger (internals) and reading calibration files (scenario/load.ts).
export {
  rawGBps, tlpGBps, completionChunk, writeGBps, readGBps, writeWireBytes, completionWireBytes, requestWireBytes, serialiseNs, checkPcieConfig,
  type PcieGen, type PcieWidth, type PcieLinkConfig,
} from "./pcie-rate.js";
export {
  CalibrationFile, PlatformFile, Param, ParamStatus, SourceId, PARAM_NAMES, PARAM_UNITS, mergeCalibration, parseCalibration, parsePlatform, param, trackReads, withParams,
  type Calibration, type CalibrationFileSpec, type PlatformSpec, type ParamName, type ParamSpec,
} from "./calibration.js";
export { forMachine, platformOf } from "./platform.js";
export { deviceClassOf, launchNs, mpsCap, portGBps, readTags, type DeviceClass } from "./devices.js";
export { buildLinkGraph, type LinkGraph, type SimLink, type LinkKind } from "./link-graph.js";
export { pathBetween, packetNs, iommuTranslates, type SimPath, type PathHop, type TransferKind } from "./paths.js";
export { fillRates, type ClassSet } from "./fair-share.js";
export { simulate, type Transfer, type SimResult } from "./simulate.js";
export {
  cpuFaultNs, deviceFaultNs, faultBatchSize, snapshotNs, tlbFlushNs, invalidateNs, migrateNs, dmaMapNs, iotlbReachBytes, iotlbMissProbability, peerMapNs, apertureRemapNs, otherCpus,
  type MigrateCost,
} from "./hmm-costs.js";
export { dmaReadLatencyNs, randomReadGBps } from "./device-read.js";
export { uvmSmartTransferNs, uvmSmartFaultNs } from "./uvmsmart.js";
export { chromeTrace, writeChromeTrace, type ChromeTrace, type ChromeTraceEvent, type TraceSpan } from "./trace.js";
export {
  planDesign, costDesign, costTransfer, bounceCopy, smallCopyLatencyNs, compareDesigns, machine, DesignRefused,
  type DesignName, type DesignRequest, type DesignPlan, type DesignCost, type DesignComparison, type TransferCost,
} from "./designs.js";
export { migrationCost, migrationPath, soloGBps, type MigrationCost, type MigrationOptions, type MigrationDirection } from "./migration.js";
export {
  ValidationEntry, Probe, parseValidationEntry, measuredValue, probeValue, relativeError, errorSummary, paramStatuses,
  type ValidationEntrySpec, type ProbeSpec,
} from "./validation.js";
