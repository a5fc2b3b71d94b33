// Tests for the scenario file's contract beyond the steps themselves: the emitted JSON Schema
// describes every field (editors show it), every step takes a `comment` and an `expect`, and
// `expect` decides the run's verdict (DESIGN §4: exit 0 when every step met it) while `ok` keeps
// saying what happened.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { bufferIo } from "../src/cli/io.js";
import { main } from "../src/cli/main.js";
import { runFailure, runPassed } from "../src/scenario/results.js";
import { defineScenario, ERRNO_NAMES, Scenario, Step } from "../src/scenario/schema.js";
import { InputError } from "../src/units/input-error.js";
import { runObject } from "./support/run.js";

type Json = { [k: string]: unknown };

/** Every property (as "path.to.prop") of every object schema in `node` that has no description. */
function undescribed(node: unknown, path: string, out: string[]): string[] {
  if (Array.isArray(node)) node.forEach((n, i) => undescribed(n, `${path}[${i}]`, out));
  else if (node !== null && typeof node === "object") {
    const o = node as Json;
    if (o.properties && typeof o.properties === "object") {
      for (const [k, v] of Object.entries(o.properties as Json)) {
        const op = ((v as Json).const as string | undefined) ?? "";
        if (typeof (v as Json).description !== "string" || ((v as Json).description as string).length < 10) out.push(`${path}.${k}${op && ` (${op})`}`);
      }
    }
    for (const [k, v] of Object.entries(o)) undescribed(v, `${path}.${k}`, out);
  }
  return out;
}

const stepOps = (schema: Json) =>
  ((((schema.properties as Json).steps as Json).items as Json).oneOf as Json[]).map((s) => ((s.properties as Json).op as Json).const);

describe("scenario JSON Schema", () => {
  const schema = z.toJSONSchema(Scenario, { io: "input", unrepresentable: "any" }) as Json;

  it("describes every property of the scenario and of every step", () => {
    expect(undescribed(schema, "scenario", [])).toEqual([]);
    expect(stepOps(schema)).toEqual(Step.options.map((o) => o.shape.op.value));
  });

  it("the walk finds a property without a description", () => {
    const bare = z.toJSONSchema(z.strictObject({ a: z.number().describe("a described number"), b: z.string() })) as Json;
    expect(undescribed(bare, "x", [])).toEqual(["x.b"]);
  });

  it("is emitted to data/schema/scenario.schema.json with the topology schema for inline topologies", () => {
    const file = JSON.parse(readFileSync("data/schema/scenario.schema.json", "utf8")) as Json;
    expect(file.title).toBe("p2pdma-lab scenario");
    expect(((file.properties as Json).topology as Json).anyOf).toContainEqual({ $ref: "topology.schema.json" });
    expect(stepOps(file)).toEqual(stepOps(schema));
    expect(undescribed(file, "file", [])).toEqual([]);
  });
});

describe("comment, description and expect", () => {
  it("every step kind takes a comment and an expect; the scenario takes $schema and a description", () => {
    for (const member of Step.options) {
      expect(Object.keys(member.shape), member.shape.op.value).toEqual(expect.arrayContaining(["comment", "expect"]));
    }
    const spec = Scenario.parse({
      $schema: "../data/schema/scenario.schema.json", description: "two steps", topology: "dmirror",
      steps: [{ op: "mmap", buffer: "a", pages: 1, comment: "one page", expect: "ok" }],
    });
    expect(spec.description).toBe("two steps");
    expect(spec.steps[0]).toMatchObject({ comment: "one page", expect: "ok" });
  });

  it("expect is \"ok\" or an errno name the kit reports; anything else is bad input naming the field", () => {
    expect(ERRNO_NAMES).toEqual(expect.arrayContaining(["EFAULT", "EINVAL", "EPERM", "ENOENT", "EBUSY", "ENOMEM"]));
    expect(() => runObject({ topology: "dmirror", steps: [{ op: "mmap", buffer: "a", pages: 1, expect: "EFALT" }] }))
      .toThrow(InputError);
    expect(() => runObject({ topology: "dmirror", steps: [{ op: "mmap", buffer: "a", pages: 1, expect: "EFALT" }] }))
      .toThrow(/steps\[0\]\.expect: .*\(value: "EFALT"\)/);
  });

  // A CPU read of a PROT_NONE page faults: handle_mm_fault refuses the access (mm/memory.c), and the
  // kit reports the EFAULT the selftests see as SIGSEGV.
  const mm = { op: "mmap", buffer: "a", pages: 2, prot: "none" };

  it("a step that fails as expected keeps ok:false and its error, is met, and the run passes", () => {
    const r = runObject({ topology: "dmirror", steps: [mm, { op: "cpuRead", buffer: "a", expect: "EFAULT" }] });
    expect(r.steps[1]).toMatchObject({ op: "cpuRead", ok: false, expected: "EFAULT", met: true });
    expect(r.steps[1].error).toMatch(/^EFAULT: CPU read of page 0/);
    expect(runPassed(r)).toBe(true);
    expect(runFailure(r)).toBeUndefined();
  });

  it("a step that succeeds against its expectation keeps its result and fails the run: expected EFAULT, got ok", () => {
    const r = runObject({ topology: "dmirror", steps: [{ ...mm, prot: "rw" }, { op: "cpuRead", buffer: "a", expect: "EFAULT" }] });
    expect(r.steps[1]).toEqual({ op: "cpuRead", ok: true, result: { values: [0, 0] }, expected: "EFAULT", met: false, error: "expected EFAULT, got ok" });
    expect(runPassed(r)).toBe(false);
    expect(runFailure(r)).toBe("steps[1] (cpuRead): expected EFAULT, got ok");
  });

  it("a failure against \"ok\" or against another errno says what was expected and what came", () => {
    const r = runObject({ topology: "dmirror", steps: [mm, { op: "cpuRead", buffer: "a", expect: "ok" }, { op: "cpuRead", buffer: "a", expect: "EINVAL" }] });
    expect(r.steps[1].error).toMatch(/^expected ok, got EFAULT: CPU read of page 0/);
    expect(r.steps[2].error).toMatch(/^expected EINVAL, got EFAULT: /);
    expect(r.steps.slice(1).map((s) => [s.ok, s.met])).toEqual([[false, false], [false, false]]);
  });

  it("a failure without an errno (an unknown buffer) never meets an errno expectation", () => {
    const r = runObject({ topology: "dmirror", steps: [{ op: "cpuRead", buffer: "b", expect: "EFAULT" }] });
    expect(r.steps[0]).toMatchObject({ ok: false, met: false });
    expect(r.steps[0].error).toMatch(/^expected EFAULT, got steps\[0\]\.buffer: unknown buffer "b"/);
  });

  it("without expect the outcome is unchanged, and a failed step fails the run", () => {
    const r = runObject({ topology: "dmirror", steps: [mm, { op: "cpuRead", buffer: "a" }] });
    expect(Object.keys(r.steps[1])).toEqual(["op", "ok", "error"]);
    expect(runPassed(r)).toBe(false);
  });

  it("defineScenario returns its argument (typed for completion) and runs as a plain object", () => {
    const spec = { topology: "dmirror", steps: [{ op: "mmap" as const, buffer: "a", pages: 1 }] };
    expect(defineScenario(spec)).toBe(spec);
    expect(runObject(defineScenario(spec)).steps[0].ok).toBe(true);
  });
});

describe("p2pdma-lab run with expect", () => {
  const dir = mkdtempSync(join(tmpdir(), "p2pdma-expect-"));
  const run = async (name: string, steps: unknown[]) => {
    const path = join(dir, name);
    writeFileSync(path, JSON.stringify({ topology: "dmirror", steps }));
    const io = bufferIo();
    return { code: await main(["run", path], io), out: io.stdout() };
  };

  it("exits 0 when every expectation was met, even where a step failed as expected", async () => {
    const { code, out } = await run("met.json", [{ ...mm(), expect: "ok" }, { op: "cpuRead", buffer: "a", expect: "EFAULT" }]);
    expect(code).toBe(0);
    expect(out).toMatch(/ 1 cpuRead\s+ok\s+failed as expected: EFAULT: CPU read/);
  });

  it("exits 1 when an expectation was missed, and the listing says what was expected", async () => {
    const { code, out } = await run("missed.json", [{ ...mm(), prot: "rw" }, { op: "cpuRead", buffer: "a", expect: "EFAULT" }]);
    expect(code).toBe(1);
    expect(out).toMatch(/ 1 cpuRead\s+FAIL expected EFAULT, got ok/);
  });

  function mm() {
    return { op: "mmap", buffer: "a", pages: 2, prot: "none" };
  }
});
