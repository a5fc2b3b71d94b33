// Models: turning scenario input (a file's bytes, or an object) into a checked ScenarioSpec; every
// problem is an InputError naming the file, the field path (`steps[3].op`) and the value.
// Leaves out: reading standard input.
import { readFileSync } from "node:fs";
import { InputError } from "../units/input-error.js";
import { inputErrorFromZod } from "../units/zod-input-error.js";
import { Scenario, ScenarioSpec } from "./schema.js";

/** Validates a parsed scenario object. */
export function parseScenario(input: unknown, source?: string): ScenarioSpec {
  const r = Scenario.safeParse(input);
  if (r.success) return r.data;
  throw inputErrorFromZod(r.error, input, { root: "(root)", discriminator: "op", source });
}

/** Reads and validates a scenario file: unreadable, binary, or malformed JSON is an InputError. */
export function readScenarioFile(file: string): ScenarioSpec {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? "error";
    throw new InputError("file", file, code === "ENOENT" ? "no such file" : `cannot be read (${code})`);
  }
  if (bytes.includes(0)) throw new InputError("file", file, "is binary, not a JSON scenario", file);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new InputError("file", file, "is not UTF-8 text", file);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    const msg = (e as Error).message;
    const truncated = /end of (JSON|data)|Unterminated/i.test(msg);
    throw new InputError("(json)", text.length > 40 ? `${text.slice(-40)}` : text, `${truncated ? "truncated JSON" : "malformed JSON"}: ${msg}`, file);
  }
  return parseScenario(json, file);
}

