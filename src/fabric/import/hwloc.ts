// Models: hwloc XML import. Being written by helper B1.
import { InputError } from "../../units/input-error.js";
export function parseHwlocXml(_text: string, source: string): unknown {
  throw new InputError("file", "hwloc", "the hwloc importer is not available yet", source);
}
