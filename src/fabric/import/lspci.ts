// Models: `lspci -tv` (+ `lspci -vvv`) import. Being written by helper B1.
import { InputError } from "../../units/input-error.js";
export function parseLspciText(_text: string, source: string): unknown {
  throw new InputError("file", "lspci", "the lspci importer is not available yet", source);
}
