// Checks, one test each, the dmirror / HMM invariants that the hmm selftests rely on without
// asserting them directly (reference/hmm-tests-cases.md §2 and the §6 checklist; reference/hmm-semantics.md
// §8), plus the CLI's handling of bad scenario input (DESIGN §4). Scenarios are in test/hmm-invariants/;
// each runs through `p2pdma-lab run FILE --json` in-process, like test/hmm-selftests/selftests.test.ts.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { expand, field, firstMismatch, normFlags, runScenario, snapshotStrings } from "./hmm-selftests/replay.js";
import type { Descriptor, RunOutput, ScenarioStep } from "./hmm-selftests/replay.js";

const DIR = join(dirname(fileURLToPath(import.meta.url)), "hmm-invariants");

interface Want {
  ok?: boolean;
  errno?: string;
  cpages?: number;
  faults?: number;
  values?: Descriptor;
  entries?: Descriptor;
  /** A piece of text the step's error must contain (bad-input checks). */
  mentions?: string[];
}

const L = "WRITE|DEV_PRIVATE_LOCAL";

/**
 * Runs `name` and checks the listed steps; every step not listed must succeed. Returns the output
 * for extra checks. `exit` is the expected exit status (1 when a listed step fails).
 */
async function check(name: string, want: Record<number, Want>, exit = Object.values(want).some((w) => w.ok === false) ? 1 : 0): Promise<RunOutput> {
  const file = join(DIR, `${name}.json`);
  const scenario = JSON.parse(readFileSync(file, "utf8")) as { steps: ScenarioStep[] };
  const { code, out, stdout, stderr } = await runScenario(file);
  expect(out, `${name}: --json output is not JSON (exit ${code}): ${stderr || stdout.slice(0, 400)}`).not.toBeNull();
  const run = out as RunOutput;
  expect(run.steps.length, `${name}: one output step per scenario step`).toBe(scenario.steps.length);
  const pages = new Map<string, number>();
  for (let i = 0; i < scenario.steps.length; i++) {
    const step = scenario.steps[i];
    if (step.op === "mmap") pages.set(step.buffer as string, step.pages as number);
    const got = run.steps[i];
    const w = want[i] ?? {};
    const where = `${name} step ${i} ${step.op}`;
    expect(got.op, where).toBe(step.op);
    const ok = w.ok ?? true;
    expect(got.ok, `${where}: ${got.ok ? "succeeded" : `failed: ${got.error}`}`).toBe(ok);
    if (w.errno) expect(got.error ?? "", `${where}: errno`).toMatch(new RegExp(`^${w.errno}\\b`));
    for (const m of w.mentions ?? []) expect(got.error ?? "", `${where}: error names ${m}`).toContain(m);
    if (w.cpages !== undefined) expect(field(got.result, "cpages"), `${where}: cpages`).toBe(w.cpages);
    if (w.faults !== undefined) expect(field(got.result, "faults"), `${where}: faults`).toBe(w.faults);
    const first = step.first ?? 0;
    const count = step.count ?? (pages.get(step.buffer as string) ?? 0) - first;
    if (w.values) {
      const values = field(got.result, "values") as unknown[];
      const wanted = expand(w.values, first, count);
      const at = firstMismatch(values ?? [], wanted);
      expect(at, `${where}: values differ at page ${first + at}: got ${JSON.stringify(values?.[at])}, want ${JSON.stringify(wanted[at])}`).toBe(-1);
    }
    if (w.entries) {
      const entries = snapshotStrings(got.result) ?? [];
      const wanted = expand(w.entries, first, count);
      const at = firstMismatch(entries, wanted, normFlags);
      expect(at, `${where}: snapshot differs at page ${first + at}: got ${JSON.stringify(entries[at])}, want ${JSON.stringify(wanted[at])}`).toBe(-1);
    }
  }
  expect(code, `${name}: exit status`).toBe(exit);
  expect(run.violations, `${name}: no violations`).toEqual([]);
  return run;
}

describe("dmirror mirror lifetime (hmm-tests-cases.md §2.4, §6 items 1-2)", () => {
  it("a CPU write to a page mapped writable changes no PTE, so the mirror survives and the device sees the new data with 0 faults", async () => {
    await check("mirror-survives-cpu-write", {
      2: { cpages: 8, faults: 1, values: { all: "index" } },
      // No invalidation: the mirror points at the same struct page (test_hmm dmirror_do_read copies from it).
      4: { cpages: 8, faults: 0, values: { segments: [{ first: 0, count: 4, value: 77 }, { first: 4, count: 4, value: "index" }] } },
      // Entries faulted from writable PTEs carry the WRITE tag (dmirror_do_fault), so a write needs no fault.
      5: { cpages: 8, faults: 0 },
      6: { values: { all: 55 } },
    });
  });

  it("a CPU write that replaces the zero page (COW break, MMU_NOTIFY_CLEAR) clears that page's mirror entry: the next device read takes one fault round", async () => {
    await check("cow-break-clears-mirror", {
      1: { values: { all: 0 } },
      2: { cpages: 8, faults: 1, values: { all: 0 } },
      3: { cpages: 8, faults: 0 },
      // §6 item 11 / §2.2: the shared zero page snapshots as ZERO|READ (0x11).
      4: { cpages: 8, entries: { all: "READ|ZERO" } },
      6: { cpages: 8, faults: 1, values: { segments: [{ first: 0, count: 1, value: 9 }, { first: 1, count: 7, value: 0 }] } },
      7: { entries: { segments: [{ first: 0, count: 1, value: "WRITE" }, { first: 1, count: 7, value: "READ|ZERO" }] } },
      // Zero-page entries are read-only: a device write must fault (one round) and replace them.
      8: { cpages: 8, faults: 1 },
      9: { entries: { all: "WRITE" } },
      10: { values: { all: 4 } },
    });
  });

  it("fork write-protects the parent's COW pages (MMU_NOTIFY_PROTECTION_PAGE) and clears its mirror: the second device read after fork has faults 1", async () => {
    await check("fork-write-protects-parent", {
      2: { cpages: 8, faults: 1 },
      3: { cpages: 8, faults: 0 },
      5: { cpages: 8, entries: { all: "READ" } },
      6: { cpages: 8, faults: 1, values: { all: "index" } },
      // The write fault breaks COW in the parent; the child keeps the old data (anon_write_child's rule).
      7: { cpages: 8, faults: 1 },
      8: { entries: { all: "WRITE" } },
      9: { values: { all: "index" } },
      10: { values: { all: 5 } },
    });
  });

  it("a device's own migration does not clear its mirror (MIGRATE event with its own owner is skipped), another device's migration does", async () => {
    await check("own-migration-keeps-mirror", {
      2: { cpages: 8, faults: 1 },
      3: { cpages: 8 },
      // dmirror_interval_invalidate ignores MIGRATE with owner == its device; finalize_and_map refills pt.
      4: { cpages: 8, faults: 0, values: { all: "index" } },
      7: { cpages: 8, faults: 1 },
      8: { cpages: 8 },
      9: { cpages: 8, faults: 1, values: { all: "index" } },
      12: { cpages: 8, faults: 1 },
      13: { cpages: 8 },
      14: { cpages: 8, faults: 0, values: { all: "index" } },
    });
  });

  it("another device's migrate_vma invalidates this device's mirror over its whole range, even where it moves nothing", async () => {
    await check("foreign-migrate-clears-range", {
      2: { cpages: 8, values: { all: "index" } },
      3: { cpages: 8, faults: 0 },
      // dmirror1's MIGRATE_TO_SYS collects none of dmirror0's pages, but migrate_vma_collect fires
      // MMU_NOTIFY_MIGRATE (owner dmirror1) over [start, end) first, and dmirror0 erases that range.
      4: { cpages: 0 },
      // The pages are still dmirror0's, so SELECT_SYSTEM collects nothing and the read-back misses page 0.
      5: { ok: false, errno: "ENOENT" },
      6: { entries: { all: L } },
      // hmm_range_fault returns this device's own private pages without migrating them: one round.
      7: { cpages: 8, faults: 1, values: { all: "index" } },
      8: { cpages: 8, values: { all: "index" } },
    });
  });

  it("faults counts fault rounds, not pages: 1 for a fresh 1024-page range, 1 for a half-mirrored range, 0 for a mirrored one", async () => {
    await check("faults-count-rounds", {
      2: { cpages: 512, faults: 1 },
      // dmirror_read: copy 512 present pages, -ENOENT at page 512, one dmirror_fault from there, copy the rest.
      3: { cpages: 1024, faults: 1, values: { all: "index" } },
      4: { cpages: 1024, faults: 0 },
      5: { cpages: 50, faults: 0, values: { all: "index" } },
      // 1024 untouched pages need many hmm_range_fault chunks but one round.
      7: { cpages: 1024, faults: 1, values: { all: 0 } },
      8: { cpages: 1024, faults: 1 },
      9: { cpages: 1024, faults: 0 },
      10: { values: { all: 3 } },
    });
  });
});

describe("snapshot vocabulary across devices (hmm-tests-cases.md §2.2, §6 items 9-12)", () => {
  it("another device's private page snapshots as NONE (not DEV_PRIVATE_REMOTE); a device READ faults it back to RAM via its owner", async () => {
    await check("foreign-private-is-none", {
      2: { cpages: 4, values: { all: "index" } },
      3: { cpages: 4, entries: { all: "NONE" } },
      4: { cpages: 4, entries: { all: L } },
      5: { cpages: 4, faults: 1, values: { all: "index" } },
      6: { entries: { all: "WRITE" } },
      7: { entries: { all: "WRITE" } },
    });
  });

  it("a coherent page of another device snapshots as DEV_COHERENT_REMOTE|WRITE (0x52) and is read in place, without migration", async () => {
    await check("coherent-remote", {
      2: { cpages: 4 },
      3: { cpages: 4, entries: { all: "WRITE|DEV_COHERENT_REMOTE" } },
      4: { cpages: 4, entries: { all: "WRITE|DEV_COHERENT_LOCAL" } },
      5: { cpages: 4, faults: 1, values: { all: "index" } },
      6: { entries: { all: "WRITE|DEV_COHERENT_LOCAL" } },
    });
  });

  it("a CPU touch migrates a device-private page back (and erases its mirror entry) but reads a coherent page in place", async () => {
    await check("cpu-touch-private-vs-coherent", {
      6: { values: [0] },
      7: { values: [0] },
      8: { entries: ["WRITE", L, L, L] },
      9: { entries: { all: "WRITE|DEV_COHERENT_LOCAL" } },
      // test_hmm dmirror_devmem_fault_alloc_and_copy: xa_erase of the faulted page's entry.
      10: { cpages: 4, faults: 1, values: { all: "index" } },
      11: { cpages: 4, faults: 0, values: { all: "index" } },
    });
  });
});

describe("migrate_vma counters (hmm-tests-cases.md §2.7-2.8, §6 items 3-4)", () => {
  it("cpages of MIGRATE_TO_DEV is the mirror read-back: pages already on the device count, and so do fresh pages of a read-only hole", async () => {
    await check("migrate-cpages-readback", {
      2: { cpages: 4, values: { all: "index" } },
      3: { cpages: 8, values: { all: "index" } },
      5: { cpages: 8, values: { all: 0 } },
    });
  });

  it("one page owned by another device fails the whole migrate with ENOENT at the read-back, but the other pages did move", async () => {
    await check("migrate-foreign-page-enoent", {
      2: { cpages: 1 },
      3: { ok: false, errno: "ENOENT" },
      4: { entries: [L, L, L, L, L, "NONE", L, L] },
      5: { entries: ["NONE", "NONE", "NONE", "NONE", "NONE", L, "NONE", "NONE"] },
      6: { cpages: 1 },
      7: { cpages: 8, values: { all: "index" } },
      8: { values: { all: "index" } },
    });
  });

  it("cpages of MIGRATE_TO_SYS counts only this device's pages that moved", async () => {
    await check("migrate-to-system-cpages", {
      2: { cpages: 4 },
      3: { cpages: 0 },
      4: { cpages: 4 },
      5: { cpages: 0 },
      6: { entries: { all: "WRITE" } },
      7: { cpages: 8, faults: 1, values: { all: "index" } },
    });
  });
});

describe("errno rules (hmm-tests-cases.md §2.3, §6 items 7-8)", () => {
  it("npages 0 is EINVAL for every command, from the generic ioctl checks (unaligned addresses cannot be written: ranges are in pages)", async () => {
    const einval: Want = { ok: false, errno: "EINVAL" };
    await check("npages-zero-einval", { 1: einval, 2: einval, 3: einval, 4: einval, 5: einval, 6: einval, 7: einval, 8: einval });
  });

  it("PROT_NONE: READ and WRITE give EFAULT, MIGRATE gives EINVAL, SNAPSHOT succeeds with ERROR; a hole behaves the same and pte_none is NONE", async () => {
    await check("prot-none-and-holes", {
      1: { ok: false, errno: "EFAULT" },
      2: { ok: false, errno: "EFAULT" },
      3: { ok: false, errno: "EINVAL" },
      4: { ok: false, errno: "EINVAL" },
      5: { cpages: 4, entries: { all: "ERROR" } },
      8: { cpages: 4, entries: ["NONE", "ERROR", "ERROR", "NONE"] },
      9: { ok: false, errno: "EFAULT" },
      10: { ok: false, errno: "EINVAL" },
      // dmirror_migrate_to_device migrates VMA by VMA: page 0's VMA (zero page left by the failed
      // READ's fault) moved before the hole gave EINVAL, and finalize_and_map mirrored it.
      11: { cpages: 1, faults: 0, values: [0] },
      12: { entries: ["WRITE|DEV_PRIVATE_LOCAL", "ERROR", "ERROR", "NONE"] },
    });
  });

  it("a read-only VMA refuses a device WRITE with EPERM and a READ maps the zero page; shared anon memory is not migratable (ENOENT)", async () => {
    await check("read-only-and-shared", {
      1: { ok: false, errno: "EPERM" },
      2: { cpages: 4, faults: 1, values: { all: 0 } },
      3: { entries: { all: "READ|ZERO" } },
      6: { ok: false, errno: "ENOENT" },
      7: { ok: false, errno: "ENOENT" },
      8: { cpages: 4, faults: 1, values: { all: "index" } },
      9: { entries: { all: "WRITE" } },
    });
  });
});

describe("RELEASE and EXCLUSIVE (hmm-tests-cases.md §2.11-2.12, §6 items 16-17)", () => {
  it("RELEASE ignores its range and evicts every page of the device, in every process, and no other device's", async () => {
    await check("release-evicts-device", {
      6: { cpages: 8, values: { all: 7 } },
      7: { cpages: 8 },
      10: { cpages: 8 },
      // b was COW-shared with the child when it moved, so its device entries (and the PTEs the
      // eviction restores from them) are read-only; the child's own copy of a was writable.
      12: { entries: { all: "READ" } },
      13: { entries: { all: "WRITE" } },
      14: { entries: { all: L } },
      15: { values: { all: "index" } },
      16: { values: { all: 7 } },
      17: { values: { all: "index" } },
      18: { cpages: 8, values: { all: "index" } },
    });
  });

  it("EXCLUSIVE entries are ATOMIC, not WRITE: CHECK_EXCLUSIVE is EPERM until CPU access, a device write or mprotect removes them", async () => {
    await check("exclusive-atomic-entries", {
      2: { cpages: 4, values: { all: "index" } },
      3: { ok: false, errno: "EPERM" },
      // hmm_range_fault reports a device-exclusive entry as not present (hmm-semantics.md §8 item 3).
      4: { entries: { all: "NONE" } },
      5: { values: [0] },
      6: { ok: false, errno: "EPERM" },
      8: { entries: ["WRITE", "NONE", "NONE", "NONE"] },
      9: { cpages: 4, faults: 1 },
      11: { values: { all: 6 } },
      14: { cpages: 4 },
    });
  });
});

describe("bad scenario input through the CLI (DESIGN §4)", () => {
  it("a step naming an unknown device fails (exit 1) with the device named, and the run goes on", async () => {
    await check("bad-unknown-device", { 1: { ok: false, mentions: ["dmirror9"] }, 2: { values: { all: 0 } } });
  });

  it("a range past the buffer's end and an unknown buffer fail their step, naming the field and value", async () => {
    const run = await check("bad-range", { 1: { ok: false, mentions: ["count"] }, 2: { ok: false, mentions: ["zz"] } });
    expect(run.steps[1].error).toMatch(/4/);
  });

  it("an unknown op is bad input: exit 2 naming steps[1].op and the value", async () => {
    const { code, stderr, stdout } = await runScenario(join(DIR, "bad-unknown-op.json"));
    expect(code).toBe(2);
    expect(stderr + stdout).toContain("steps[1].op");
    expect(stderr + stdout).toContain("deviceFrobnicate");
  });

  it("an unknown field in a step is bad input: exit 2 naming the field", async () => {
    const { code, stderr, stdout } = await runScenario(join(DIR, "bad-unknown-field.json"));
    expect(code).toBe(2);
    expect(stderr + stdout).toContain("steps[0]");
    expect(stderr + stdout).toContain("colour");
  });
});
