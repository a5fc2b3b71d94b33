#!/usr/bin/env node
// Writes the hmm selftest replays: for each TEST_F of tools/testing/selftests/mm/hmm-tests.c
// (torvalds/linux 0eaed89c, read through /work/shared/reference/hmm-tests-cases.md §3) and each
// fixture variant, `<case>.<variant>.json` (a pure DESIGN §4 scenario) and
// `<case>.<variant>.expect.json` (what the selftest asserts, step by step; format in README.md).
// Written from the selftest and the scenario contract only, not from the model's source.
// Usage: node test/hmm-selftests/generate.mjs [--check]   (--check: exit 1 if a committed file differs)
import { readFileSync, writeFileSync, readdirSync, unlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const DIR = dirname(fileURLToPath(import.meta.url));
const SOURCE = "tools/testing/selftests/mm/hmm-tests.c (torvalds/linux 0eaed89c)";

/** HMM_BUFFER_SIZE (4 MiB) in 4 KiB pages, and read_pmd_pagesize() (2 MiB) in pages. */
const NPAGES = 1024;
const PMD = 512;
/** Stands for the selftest's `mirror[i] = -i` pattern (a page holds one number in the scenario). */
const MINUS_I = 900000;
/** Stands for the selftest's `ptr[i]++` results (i + 1) where one number per page cannot add. */
const PLUS_ONE = 500001;
/** HMM_DMIRROR_FLAG_FAIL_ALLOC (lib/test_hmm_uapi.h): fail the next device/system page allocation once. */
const FAIL_ALLOC = 1;

const VARIANTS = {
  hmm: {
    private: { d0: "dmirror0", d1: "dmirror1", fixture: "hmm.hmm_device_private" },
    coherent: { d0: "dmirror2", d1: "dmirror3", fixture: "hmm.hmm_device_coherent" },
  },
  hmm2: {
    private: { d0: "dmirror0", d1: "dmirror1", fixture: "hmm2.hmm2_device_private" },
    coherent: { d0: "dmirror2", d1: "dmirror3", fixture: "hmm2.hmm2_device_coherent" },
  },
};

/** Builds one scenario and its expectations. */
class Replay {
  constructor(name, fixture, variant) {
    this.name = name;
    this.fixture = fixture;
    this.variant = variant;
    this.v = VARIANTS[fixture][variant];
    this.steps = [];
    this.expect = [];
    this.omitted = [];
    this.notes = [];
  }
  get coherent() {
    return this.variant === "coherent";
  }
  /** Adds a step; `exp` (optional) records what the selftest asserts about it. */
  step(s, exp) {
    const i = this.steps.push(s) - 1;
    if (exp) this.expect.push({ step: i, op: s.op, ...exp });
    return i;
  }
  mmap(buffer, pages, prot, extra = {}, proc) {
    return this.step(withProc({ op: "mmap", buffer, pages, prot, ...extra }, proc));
  }
  munmap(buffer, range, proc) {
    return this.step(withProc({ op: "munmap", buffer, ...range }, proc));
  }
  mprotect(buffer, prot, range, proc) {
    return this.step(withProc({ op: "mprotect", buffer, ...range, prot }, proc));
  }
  cpuWrite(buffer, value, range, proc) {
    return this.step(withProc({ op: "cpuWrite", buffer, ...range, value }, proc));
  }
  cpuRead(buffer, range, values, assert, topic, proc) {
    return this.step(withProc({ op: "cpuRead", buffer, ...range }, proc), { ok: true, values, assert, topic });
  }
  dev(op, device, buffer, range, exp, extra = {}, proc) {
    return this.step(withProc({ op, device, buffer, ...range, ...extra }, proc), exp);
  }
  fork(child, proc) {
    return this.step(withProc({ op: "fork", child }, proc));
  }
  flags(device, value, assert, topic) {
    this.notes.push("uses the `flags` step (HMM_DMIRROR_FLAGS), which DESIGN §4 does not list yet");
    return this.step({ op: "flags", device, value }, { ok: true, assert, topic });
  }
  omit(part) {
    this.omitted.push(part);
  }
  note(text) {
    this.notes.push(text);
  }
  files() {
    const scenario = { topology: "dmirror", steps: this.steps };
    const exit = this.expect.some((e) => e.ok === false) ? 1 : 0;
    const expect = {
      case: this.name,
      test: `${this.v.fixture}.${this.name}`,
      source: `${SOURCE}, TEST_F(${this.fixture}, ${this.name})`,
      devices: this.fixture === "hmm2" ? { fd0: this.v.d0, fd1: this.v.d1 } : { fd: this.v.d0 },
      exit,
      ...(this.notes.length ? { notes: [...new Set(this.notes)] } : {}),
      ...(this.omitted.length ? { omitted: this.omitted } : {}),
      steps: this.expect,
    };
    return { scenario, expect };
  }
}

function withProc(step, proc) {
  return proc ? { ...step, process: proc } : step;
}
const r = (first, count) => ({ first, count });
const all = (value) => ({ all: value });
const segs = (...s) => ({ segments: s.map(([first, count, value]) => ({ first, count, value })) });
const OK = (cpages, faults, more = {}) => ({ ok: true, cpages, ...(faults === undefined ? {} : { faults }), ...more });
const FAIL = (errno, more = {}) => ({ ok: false, errno, ...more });

// ---------------------------------------------------------------------------------------------
// One function per TEST_F, in the order of hmm-tests.c. `t` is a Replay for one variant.
const CASES = {
  open_close: {
    fixture: "hmm",
    build(t) {
      t.note("the body is empty: open/close of the fixture fd is modelled as the device answering a CHECK_EXCLUSIVE on an empty mirror (returns 0 in lib/test_hmm.c dmirror_check_atomic)");
      t.mmap("a", 1, "rw");
      t.dev("checkExclusive", t.v.d0, "a", {}, { ok: true, assert: "fixture setup ASSERT_GE fd 0, teardown close returns 0", topic: "Simple NULL test of device open/close" });
    },
  },

  anon_read: {
    fixture: "hmm",
    build(t) {
      t.mmap("a", NPAGES, "rw");
      t.cpuWrite("a", "index", r(2, NPAGES - 2));
      t.mprotect("a", "r");
      t.cpuRead("a", r(1, 1), [0], "ASSERT_EQ val 0 after reading page 1", "Populate the CPU page table with a special zero page");
      t.dev("deviceRead", t.v.d0, "a", {}, OK(NPAGES, 1, {
        values: segs([0, 2, 0], [2, NPAGES - 2, "index"]),
        assert: "ret 0; cpages == npages; faults == 1; mirror ints of pages 0-1 are 0, the rest i",
        topic: "Simulate a device reading system memory / Check what the device read",
      }));
    },
  },

  anon_read_prot: {
    fixture: "hmm",
    build(t) {
      t.mmap("a", NPAGES, "rw");
      t.cpuWrite("a", "index");
      t.mprotect("a", "none");
      t.dev("deviceRead", t.v.d0, "a", {}, FAIL("EFAULT", { assert: "ASSERT_EQ ret -EFAULT", topic: "Protect buffer from reading, then device read" }));
      t.mprotect("a", "r");
      t.cpuRead("a", {}, all("index"), "ptr[i] == i for all", "Allow CPU to read the buffer so we can check it");
      t.omit("mirror[i] == -i after the failed READ: the test-side mirror buffer is not part of a scenario (a failed step returns no values)");
    },
  },

  anon_write: {
    fixture: "hmm",
    build(t) {
      t.mmap("a", NPAGES, "rw");
      t.dev("deviceWrite", t.v.d0, "a", {}, OK(NPAGES, 1, { assert: "ret 0; cpages == npages; faults == 1", topic: "Simulate a device writing system memory" }), { value: "index" });
      t.cpuRead("a", {}, all("index"), "ptr[i] == i", "Check what the device wrote");
    },
  },

  anon_write_prot: {
    fixture: "hmm",
    build(t) {
      t.mmap("a", NPAGES, "r");
      t.dev("deviceRead", t.v.d0, "a", r(0, 1), OK(1, 1, { values: [0], assert: "ret 0; cpages == 1; faults == 1", topic: "Simulate a device reading a zero page of memory" }));
      t.dev("deviceWrite", t.v.d0, "a", {}, FAIL("EPERM", { assert: "ASSERT_EQ ret -EPERM", topic: "device write of a read-only mapping" }), { value: "index" });
      t.cpuRead("a", {}, all(0), "ptr[i] == 0", "Check what the device wrote (nothing)");
      t.mprotect("a", "rw");
      t.dev("deviceWrite", t.v.d0, "a", {}, OK(NPAGES, 1, { assert: "ret 0; cpages == npages; faults == 1", topic: "Now allow writing and see that the zero page is replaced" }), { value: "index" });
      t.cpuRead("a", {}, all("index"), "ptr[i] == i", "Check what the device wrote");
    },
  },

  anon_write_child: {
    fixture: "hmm",
    build(t) {
      t.note("the child always opens /dev/hmm_dmirror0 (hmm_open(0)), even in the coherent variant (reference §6 item 15)");
      t.note("use_thp iterations use mmap huge pmd for the PMD-aligned MADV_HUGEPAGE window");
      let n = 0;
      for (const migrate of [0, 1]) {
        for (const thp of [0, 1]) {
          const b = `b${n}`;
          const child = `child${n}`;
          const pages = thp ? PMD : NPAGES;
          const tag = `migrate=${migrate} use_thp=${thp}`;
          t.mmap(b, pages, "rw", thp ? { huge: "pmd" } : {});
          t.cpuWrite(b, "index");
          if (migrate) {
            t.dev("migrateToDevice", t.v.d0, b, {}, OK(pages, undefined, { values: all("index"), assert: `${tag}: ret 0; cpages == npages`, topic: "migrate before fork" }));
          }
          t.fork(child);
          t.cpuRead(b, {}, all("index"), `${tag}: child sees ptr[i] == i`, "Check that we see the parent's values", child);
          // With migrate, the parent's MIGRATE_TO_DEV overwrote the mirror with i, so the child writes i.
          const written = migrate ? "index" : MINUS_I;
          t.dev("deviceWrite", "dmirror0", b, {}, OK(pages, 1, { assert: `${tag}: child fd, ret 0; cpages == npages; faults == 1`, topic: "The child process needs its own mirror to its own mm" }), { value: written }, child);
          if (!migrate) t.cpuRead(b, {}, all(MINUS_I), `${tag}: child ptr[i] == -i`, "Check what the device wrote", child);
          t.cpuRead(b, {}, all("index"), `${tag}: parent ptr[i] == i`, "Check that the parent's buffer did not change");
          t.munmap(b);
          n++;
        }
      }
      t.omit("waitpid/WIFEXITED of the child (a scenario process does not exit)");
      t.omit("child mirror[i] == -i before the write: test-side buffer, not part of a scenario");
    },
  },

  anon_write_child_shared: {
    fixture: "hmm",
    build(t) {
      t.note("the child always opens /dev/hmm_dmirror0 (hmm_open(0)), even in the coherent variant");
      t.mmap("a", NPAGES, "rw", { shared: true });
      t.cpuWrite("a", "index");
      t.fork("child");
      t.cpuRead("a", {}, all("index"), "child ptr[i] == i", "child sees the parent's values", "child");
      t.dev("deviceWrite", "dmirror0", "a", {}, OK(NPAGES, 1, { assert: "ret 0; cpages == npages; faults == 1", topic: "child device write of a shared mapping" }), { value: MINUS_I }, "child");
      t.cpuRead("a", {}, all(MINUS_I), "child ptr[i] == -i", "Check what the device wrote", "child");
      t.cpuRead("a", {}, all(MINUS_I), "parent ptr[i] == -i", "Check that the parent's buffer did change");
      t.omit("waitpid/WIFEXITED of the child");
    },
  },

  anon_write_huge: {
    fixture: "hmm",
    build(t) {
      t.mmap("a", PMD, "rw", { huge: "pmd" });
      t.dev("deviceWrite", t.v.d0, "a", {}, OK(PMD, 1, { assert: "ret 0; cpages == npages; faults == 1", topic: "device write of a THP window" }), { value: "index" });
      t.cpuRead("a", {}, all("index"), "ptr[i] == i", "Check what the device wrote");
    },
  },

  anon_write_hugetlbfs: {
    fixture: "hmm",
    build(t) {
      t.note("MAP_HUGETLB of ALIGN(2 MiB, default huge page size) is written as mmap huge pmd (the contract has no separate hugetlbfs flag)");
      t.mmap("a", PMD, "rw", { huge: "pmd" });
      t.dev("deviceWrite", t.v.d0, "a", {}, OK(PMD, 1, { assert: "ret 0; cpages == npages; faults == 1", topic: "device write of a hugetlbfs page" }), { value: "index" });
      t.cpuRead("a", {}, all("index"), "ptr[i] == i", "Check what the device wrote");
      t.munmap("a");
    },
  },

  file_read: {
    fixture: "hmm",
    build(t) {
      t.note("pwrite of the pattern into the tmpfile is written as CPU writes through the shared file mapping, then mprotect read-only (the selftest maps PROT_READ)");
      t.mmap("a", NPAGES, "rw", { shared: true, file: true });
      t.cpuWrite("a", "index");
      t.mprotect("a", "r");
      t.dev("deviceRead", t.v.d0, "a", {}, OK(NPAGES, 1, { values: all("index"), assert: "ret 0; cpages == npages; faults == 1; mirror[i] == i", topic: "Simulate a device reading system memory (file)" }));
    },
  },

  file_write: {
    fixture: "hmm",
    build(t) {
      t.mmap("a", NPAGES, "rw", { shared: true, file: true });
      t.dev("deviceWrite", t.v.d0, "a", {}, OK(NPAGES, 1, { assert: "ret 0; cpages == npages; faults == 1", topic: "Simulate a device writing system memory (file)" }), { value: "index" });
      t.cpuRead("a", {}, all("index"), "ptr[i] == i", "Check what the device wrote");
      t.omit("pread of the file content: the page cache is what the shared mapping reads");
    },
  },

  migrate: {
    fixture: "hmm",
    build(t) {
      t.mmap("a", NPAGES, "rw");
      t.cpuWrite("a", "index");
      t.dev("migrateToDevice", t.v.d0, "a", {}, OK(NPAGES, undefined, { values: all("index"), assert: "ret 0; cpages == npages; mirror[i] == i", topic: "Migrate memory to device" }));
    },
  },

  migrate_file_private: {
    fixture: "hmm",
    build(t) {
      t.mmap("a", NPAGES, "rw", { file: true });
      t.cpuWrite("a", "index");
      t.dev("migrateToDevice", t.v.d0, "a", {}, OK(NPAGES, undefined, { values: all("index"), assert: "ret 0; cpages == npages; mirror[i] == i", topic: "Migrate private file-backed (COW) memory to device" }));
    },
  },

  migrate_fault: {
    fixture: "hmm",
    build(t) {
      t.mmap("a", NPAGES, "rw");
      t.cpuWrite("a", "index");
      t.dev("migrateToDevice", t.v.d0, "a", {}, OK(NPAGES, undefined, { values: all("index"), assert: "ret 0; cpages == npages; mirror[i] == i", topic: "Migrate memory to device" }));
      t.cpuRead("a", r(0, NPAGES / 2), all("index"), "ptr[i] == i for the first half", "Fault half the pages back to system memory and check them");
      t.dev("migrateToDevice", t.v.d0, "a", {}, OK(NPAGES, undefined, { values: all("index"), assert: "ret 0; cpages == npages; mirror[i] == i", topic: "Migrate memory to the device again" }));
    },
  },

  migrate_release: {
    fixture: "hmm",
    build(t) {
      t.mmap("a", NPAGES, "rw");
      t.cpuWrite("a", "index");
      t.dev("migrateToDevice", t.v.d0, "a", {}, OK(NPAGES, undefined, { values: all("index"), assert: "ret 0; cpages == npages; mirror[i] == i", topic: "Migrate memory to device" }));
      t.dev("release", t.v.d0, "a", {}, { ok: true, assert: "ASSERT_EQ ret 0", topic: "Release device memory" });
      t.cpuRead("a", r(0, NPAGES / 2), all("index"), "ptr[i] == i for the first half", "Fault pages back to system memory and check them");
    },
  },

  migrate_shared: {
    fixture: "hmm",
    build(t) {
      t.mmap("a", NPAGES, "rw", { shared: true });
      t.dev("migrateToDevice", t.v.d0, "a", {}, FAIL("ENOENT", { assert: "ASSERT_EQ ret -ENOENT", topic: "Migrate memory to device (shared anon is not migratable)" }));
    },
  },

  migrate_mixed: {
    fixture: "hmm2",
    build(t) {
      const { d0, d1 } = t.v;
      t.mmap("a", 6, "none");
      t.dev("migrateToDevice", d1, "a", {}, FAIL("EINVAL", { assert: "ASSERT_EQ ret -EINVAL", topic: "Now try to migrate everything to device 1 (PROT_NONE vma)" }));
      t.munmap("a", r(1, 1));
      t.dev("migrateToDevice", d1, "a", r(0, 3), FAIL("EINVAL", { assert: "ASSERT_EQ ret -EINVAL", topic: "Try to migrate a range that the vma does not cover" }));
      t.mprotect("a", "r", r(2, 1));
      t.cpuRead("a", r(2, 1), [0], "val = *ptr + 3 is 3", "Page 2 will be a read-only zero page");
      t.mprotect("a", "rw", r(3, 1));
      t.cpuWrite("a", 3, r(3, 1));
      t.mprotect("a", "r", r(3, 1));
      t.mprotect("a", "rw", r(4, 2));
      t.cpuWrite("a", 3, r(4, 1));
      t.cpuWrite("a", 3, r(5, 1));
      t.dev("migrateToDevice", d1, "a", r(2, 4), OK(4, undefined, { values: [0, 3, 3, 3], assert: "ret 0; cpages == 4", topic: "Now try to migrate pages 2-5 to device 1" }));
      t.dev("migrateToDevice", d0, "a", r(5, 1), FAIL("ENOENT", { assert: "ASSERT_EQ ret -ENOENT", topic: "Page 5 won't be migrated to device 0 because it's on device 1" }));
      t.note("the values of the pages 2-5 migrate are not asserted by the selftest; they follow from its writes (0, 3, 3, 3)");
    },
  },

  migrate_multiple: {
    fixture: "hmm",
    build(t) {
      for (let c = 0; c < 10; c++) {
        const b = `m${c}`;
        t.mmap(b, NPAGES, "rw");
        t.cpuWrite(b, "index");
        t.dev("migrateToDevice", t.v.d0, b, {}, OK(NPAGES, undefined, { values: all("index"), assert: `c=${c}: ret 0; cpages == npages; mirror[i] == i`, topic: "Migrate memory to device" }));
        if (t.coherent) {
          t.dev("migrateToSystem", t.v.d0, b, {}, OK(NPAGES, undefined, { assert: `c=${c}: ret 0; cpages == npages`, topic: "Migrate back to system memory (coherent only)" }));
        }
        t.cpuRead(b, {}, all("index"), `c=${c}: ptr[i] == i`, "Migrate back to system memory and check them");
        t.munmap(b);
      }
    },
  },

  anon_read_multiple: {
    fixture: "hmm",
    build(t) {
      t.note("ptr[i] = i + c is written as the index pattern with the first c pages set to 100000 + c, so every round reads different data");
      for (let c = 0; c < 10; c++) {
        const b = `m${c}`;
        t.mmap(b, NPAGES, "rw");
        t.cpuWrite(b, "index");
        if (c > 0) t.cpuWrite(b, 100000 + c, r(0, c));
        const values = c > 0 ? segs([0, c, 100000 + c], [c, NPAGES - c, "index"]) : all("index");
        t.dev("deviceRead", t.v.d0, b, {}, OK(NPAGES, 1, { values, assert: `c=${c}: ret 0; cpages == npages; faults == 1; mirror[i] == i + c`, topic: "Simulate a device reading system memory" }));
        t.munmap(b);
      }
    },
  },

  anon_teardown: {
    fixture: "hmm",
    build(t) {
      t.note("the munmap thread races the READ; the two orderings are replayed deterministically: even rounds READ first (full success), odd rounds munmap first (the selftest accepts any error; hmm_range_fault gives -EFAULT for the unmapped half)");
      for (let c = 0; c < 10; c++) {
        const b = `m${c}`;
        t.mmap(b, NPAGES, "rw");
        t.cpuWrite(b, "index");
        if (c > 0) t.cpuWrite(b, 100000 + c, r(0, c));
        if (c % 2 === 0) {
          const values = c > 0 ? segs([0, c, 100000 + c], [c, NPAGES - c, "index"]) : all("index");
          t.dev("deviceRead", t.v.d0, b, {}, OK(NPAGES, 1, { values, assert: `c=${c}: if ret == 0: cpages == npages; faults == 1; mirror[i] == i + c`, topic: "Simulate a device reading system memory (before the unmap)" }));
          t.munmap(b, r(NPAGES / 2, NPAGES / 2));
        } else {
          t.munmap(b, r(NPAGES / 2, NPAGES / 2));
          t.dev("deviceRead", t.v.d0, b, {}, FAIL("EFAULT", { assert: `c=${c}: rc != 0 accepted`, topic: "Simulate a device reading system memory (after the unmap)" }));
        }
        t.munmap(b, r(0, NPAGES / 2));
      }
      t.omit("a munmap landing in the middle of the READ (needs threads)");
    },
  },

  mixedmap: {
    fixture: "hmm",
    skip: "needs mmap of the dmirror device file itself (VM_MIXEDMAP), which no scenario step can say",
  },

  snapshot: {
    fixture: "hmm2",
    build(t) {
      const { d0, d1 } = t.v;
      t.mmap("a", 7, "none");
      t.munmap("a", r(1, 1));
      t.mprotect("a", "r", r(2, 1));
      t.cpuRead("a", r(2, 1), [0], "val = *ptr + 3 is 3", "Page 2 will be read-only zero page");
      t.mprotect("a", "rw", r(3, 1));
      t.cpuWrite("a", 3, r(3, 1));
      t.mprotect("a", "r", r(3, 1));
      t.mprotect("a", "rw", r(4, 3));
      t.cpuWrite("a", 3, r(4, 1));
      t.dev("migrateToDevice", d0, "a", r(5, 1), OK(1, undefined, { values: [0], assert: "ret 0; cpages == 1", topic: "Page 5 will be migrated to device 0" }));
      t.dev("migrateToDevice", d1, "a", r(6, 1), OK(1, undefined, { values: [0], assert: "ret 0; cpages == 1", topic: "Page 6 will be migrated to device 1" }));
      const tail = t.coherent ? ["WRITE|DEV_COHERENT_LOCAL", "WRITE|DEV_COHERENT_REMOTE"] : ["WRITE|DEV_PRIVATE_LOCAL", "NONE"];
      t.dev("snapshot", d0, "a", {}, OK(7, undefined, {
        entries: { list: ["ERROR", "ERROR", "READ|ZERO", "READ", "WRITE", ...tail] },
        assert: t.coherent
          ? "m0 m1 PROT_ERROR; m2 ZERO|READ; m3 READ; m4 WRITE; m5 DEV_COHERENT_LOCAL|WRITE; m6 DEV_COHERENT_REMOTE|WRITE"
          : "m0 m1 PROT_ERROR; m2 ZERO|READ; m3 READ; m4 WRITE; m5 DEV_PRIVATE_LOCAL|WRITE; m6 PROT_NONE",
        topic: "Simulate a device snapshotting CPU pagetables / Check what the device saw",
      }));
      t.note("the migrate read-back values are not asserted by the selftest; pages 5 and 6 were never written, so they read 0");
    },
  },

  compound: {
    fixture: "hmm",
    build(t) {
      t.note("MAP_HUGETLB of a 2 MiB default huge page is written as mmap huge pmd");
      t.mmap("a", PMD, "rw", { huge: "pmd" });
      t.cpuWrite("a", "index");
      t.dev("snapshot", t.v.d0, "a", {}, OK(PMD, undefined, { entries: all("WRITE|PMD"), assert: "ret 0; cpages == npages; every m[i] == WRITE | PMD", topic: "Check what the device saw (huge page, writable)" }));
      t.mprotect("a", "r");
      t.dev("snapshot", t.v.d0, "a", {}, OK(PMD, undefined, { entries: all("READ|PMD"), assert: "ret 0; cpages == npages; every m[i] == READ | PMD", topic: "Check what the device saw after mprotect(PROT_READ)" }));
      t.munmap("a");
    },
  },

  double_map: {
    fixture: "hmm2",
    build(t) {
      const { d0, d1 } = t.v;
      t.mmap("a", 6, "rw");
      t.cpuWrite("a", "index");
      t.mprotect("a", "r");
      t.dev("deviceRead", d0, "a", {}, OK(6, 1, { values: all("index"), assert: "ret 0; cpages == npages; faults == 1; mirror[i] == i", topic: "Simulate device 0 reading system memory" }));
      t.dev("deviceRead", d1, "a", {}, OK(6, 1, { values: all("index"), assert: "ret 0; cpages == npages; faults == 1; mirror[i] == i", topic: "Simulate device 1 reading system memory" }));
      t.dev("migrateToDevice", d1, "a", {}, OK(6, undefined, { values: all("index"), assert: "ret 0; cpages == npages", topic: "Migrate pages to device 1" }));
      t.dev("deviceRead", d0, "a", {}, OK(6, 1, { values: all("index"), assert: "ret 0; cpages == npages; faults == 1; mirror[i] == i", topic: "and try to read from device 0 / Check what device 0 read" }));
      t.note("the migrate read-back values are not asserted by the selftest (it asserts cpages); they follow from the CPU writes");
    },
  },

  exclusive: {
    fixture: "hmm",
    build(t) {
      t.note("ptr[i]++ is written as a CPU read (== i) then a CPU write of 500001 standing for i + 1");
      t.mmap("a", NPAGES, "rw");
      t.cpuWrite("a", "index");
      t.dev("exclusive", t.v.d0, "a", {}, OK(NPAGES, undefined, { values: all("index"), assert: "ret 0; cpages == npages; mirror[i] == i", topic: "Map memory exclusively for device access" }));
      t.cpuRead("a", {}, all("index"), "ptr[i]++ == i", "Fault pages back to system memory and check them");
      t.cpuWrite("a", PLUS_ONE);
      t.cpuRead("a", {}, all(PLUS_ONE), "ptr[i] == i + 1", "Fault pages back to system memory and check them");
      t.dev("checkExclusive", t.v.d0, "a", {}, { ok: true, assert: "ASSERT_EQ ret 0", topic: "Check atomic access revoked" });
    },
  },

  exclusive_mprotect: {
    fixture: "hmm",
    build(t) {
      t.mmap("a", NPAGES, "rw");
      t.cpuWrite("a", "index");
      t.dev("exclusive", t.v.d0, "a", {}, OK(NPAGES, undefined, { values: all("index"), assert: "ret 0; cpages == npages; mirror[i] == i", topic: "Map memory exclusively for device access" }));
      t.mprotect("a", "r");
      t.dev("deviceWrite", t.v.d0, "a", {}, FAIL("EPERM", { assert: "ASSERT_EQ ret -EPERM", topic: "Simulate a device writing system memory after mprotect(PROT_READ)" }), { value: "index" });
    },
  },

  exclusive_cow: {
    fixture: "hmm",
    build(t) {
      t.note("ptr[i]++ is written as a CPU read (== i) then a CPU write of a per-process number standing for i + 1 (child 500001, parent 500002)");
      t.mmap("a", NPAGES, "rw");
      t.cpuWrite("a", "index");
      t.dev("exclusive", t.v.d0, "a", {}, OK(NPAGES, undefined, { assert: "ret 0; cpages == npages", topic: "Map memory exclusively for device access" }));
      t.fork("child");
      t.cpuRead("a", {}, all("index"), "child ptr[i]++ == i", "Child verifies COW independently", "child");
      t.cpuWrite("a", PLUS_ONE, {}, "child");
      t.cpuRead("a", {}, all("index"), "parent ptr[i]++ == i", "Parent: also increment to verify COW works for both processes");
      t.cpuWrite("a", PLUS_ONE + 1);
      t.cpuRead("a", {}, all(PLUS_ONE), "child ptr[i] == i + 1", "Child verifies COW independently", "child");
      t.cpuRead("a", {}, all(PLUS_ONE + 1), "parent ptr[i] == i + 1", "Parent: also increment to verify COW works for both processes");
      t.omit("waitpid/WIFEXITED/WEXITSTATUS of the child");
    },
  },

  hmm_gup_test: {
    fixture: "hmm",
    build(t) {
      t.mmap("a", 4, "rw");
      t.cpuWrite("a", "index");
      t.dev("migrateToDevice", t.v.d0, "a", {}, OK(4, undefined, { values: all("index"), assert: "ret 0; cpages == npages; mirror[i] == i", topic: "Migrate memory to device" }));
      t.cpuRead("a", {}, all("index"), "ptr[i] == i", "Check again the content on the pages");
      t.omit("the four gup_test ioctls (GUP_BASIC_TEST, GUP_FAST_BENCHMARK, PIN_FAST_BENCHMARK with FOLL_LONGTERM, PIN_LONGTERM_BENCHMARK) and the SNAPSHOT that checks where they left the pages: needs the gup_test debugfs module");
    },
  },

  hmm_cow_in_device: {
    fixture: "hmm",
    build(t) {
      t.mmap("a", 4, "rw");
      t.cpuWrite("a", "index");
      t.dev("migrateToDevice", t.v.d0, "a", {}, OK(4, undefined, { values: all("index"), assert: "ret 0; cpages == npages", topic: "Migrate memory to device" }));
      t.fork("child");
      t.cpuWrite("a", "index");
      t.dev("snapshot", t.v.d0, "a", {}, OK(4, undefined, { entries: all("WRITE"), assert: "ret 0; cpages == npages; every m[i] == PROT_WRITE", topic: "Take snapshot to CPU pagetables (after the parent's COW write)" }));
      t.omit("kill(child, SIGKILL) and waitpid (a scenario process does not exit; the child keeps its COW copies either way)");
    },
  },

  migrate_anon_huge_empty: {
    fixture: "hmm",
    build(t) {
      t.mmap("a", PMD, "r", { huge: "pmd" });
      t.dev("migrateToDevice", t.v.d0, "a", {}, OK(PMD, undefined, { values: all(0), assert: "ret 0; cpages == npages; mirror ints all 0", topic: "Migrate memory to device (empty THP window)" }));
    },
  },

  migrate_anon_huge_zero: {
    fixture: "hmm",
    build(t) {
      t.mmap("a", PMD, "r", { huge: "pmd" });
      t.cpuRead("a", r(0, 1), [0], "val == 0", "Initialize a read-only zero huge page");
      t.dev("migrateToDevice", t.v.d0, "a", {}, OK(PMD, undefined, { values: all(0), assert: "ret 0; cpages == npages; mirror ints all 0", topic: "Migrate memory to device" }));
      t.cpuRead("a", {}, all(0), "ptr[i] == 0", "Fault pages back to system memory and check them");
    },
  },

  migrate_anon_huge_free: {
    fixture: "hmm",
    build(t) {
      t.mmap("a", PMD, "rw", { huge: "pmd" });
      t.cpuWrite("a", "index");
      t.dev("migrateToDevice", t.v.d0, "a", {}, OK(PMD, undefined, { values: all("index"), assert: "ret 0; cpages == npages; mirror[i] == i", topic: "Migrate memory to device" }));
      t.munmap("a");
      t.omit("madvise(MADV_FREE) of the device-resident THP returning 0: no scenario step for madvise (the munmap that follows in hmm_buffer_free is replayed)");
    },
  },

  migrate_anon_huge_fault: {
    fixture: "hmm",
    build(t) {
      t.note("MADV_COLLAPSE of the written window is written as mmap huge pmd");
      t.mmap("a", PMD, "rw", { huge: "pmd" });
      t.cpuWrite("a", "index");
      t.dev("migrateToDevice", t.v.d0, "a", {}, OK(PMD, undefined, { values: all("index"), assert: "ret 0; cpages == npages; mirror[i] == i", topic: "Migrate memory to device" }));
      if (!t.coherent) {
        t.dev("snapshot", t.v.d0, "a", {}, OK(PMD, undefined, { entries: all("WRITE|PMD|DEV_PRIVATE_LOCAL"), assert: "ret 0; cpages == npages; every m[i] == DEV_PRIVATE_LOCAL | WRITE | PMD", topic: "snapshot of the device-private THP (private variant only)" }));
        t.omit("/proc/self/pagemap: every entry PM_SWAP and not present (private variant)");
      }
      t.cpuRead("a", {}, all("index"), "ptr[i] == i", "Fault pages back to system memory and check them");
    },
  },

  migrate_partial_unmap_fault: {
    fixture: "hmm",
    build(t) {
      const unmap = PMD / 2;
      let n = 0;
      for (const thp of [0, 1]) {
        for (const offset of [0, PMD / 4, PMD / 2]) {
          const b = `b${n++}`;
          const tag = `use_thp=${thp} offset=${offset} pages`;
          t.mmap(b, PMD, "rw", thp ? { huge: "pmd" } : {});
          t.cpuWrite(b, "index");
          t.dev("migrateToDevice", t.v.d0, b, {}, OK(PMD, undefined, { values: all("index"), assert: `${tag}: ret 0; cpages == npages; mirror[i] == i`, topic: "Migrate memory to device" }));
          t.munmap(b, r(offset, unmap));
          if (offset > 0) t.cpuRead(b, r(0, offset), all("index"), `${tag}: ptr[i] == i before the hole`, "Fault pages back to system memory and check them");
          if (offset + unmap < PMD) t.cpuRead(b, r(offset + unmap, PMD - offset - unmap), all("index"), `${tag}: ptr[i] == i after the hole`, "Fault pages back to system memory and check them");
          if (offset > 0) t.munmap(b, r(0, offset));
          if (offset + unmap < PMD) t.munmap(b, r(offset + unmap, PMD - offset - unmap));
        }
      }
    },
  },

  migrate_remap_fault: {
    fixture: "hmm",
    skip: "needs mremap (MREMAP_MAYMOVE | MREMAP_FIXED, MREMAP_DONTUNMAP) of device-resident memory, which no scenario step can say",
  },

  migrate_anon_huge_err: {
    fixture: "hmm",
    build(t) {
      t.mmap("a", PMD, "rw", { huge: "pmd" });
      t.cpuWrite("a", "index");
      t.flags(t.v.d0, FAIL_ALLOC, "ret 0", "Migrate memory to device but force a THP allocation error");
      t.dev("migrateToDevice", t.v.d0, "a", {}, OK(PMD, undefined, { values: all("index"), assert: "ret 0; cpages == npages; mirror[i] == i", topic: "Migrate memory to device but force a THP allocation error" }));
      t.cpuRead("a", r(2, 1), [2], "ptr[2048] == 2048 (first int of page 2)", "Try faulting back a single (PAGE_SIZE) page");
      t.munmap("a");
      t.mmap("b", PMD, "rw", { huge: "pmd" });
      t.cpuWrite("b", "index");
      t.dev("migrateToDevice", t.v.d0, "b", {}, OK(PMD, undefined, { values: all("index"), assert: "ret 0; cpages == npages", topic: "Migrate THP to device" }));
      t.flags(t.v.d0, FAIL_ALLOC, "ret 0", "Force an allocation error when faulting back a THP resident in the device");
      t.dev("migrateToSystem", t.v.d0, "b", {}, { ok: true, assert: "ASSERT_EQ ret 0", topic: "migrate the device THP back with the allocation error" });
      t.cpuRead("b", r(2, 1), [2], "ptr[2048] == 2048", "check after migrating back");
    },
  },

  migrate_anon_huge_zero_err: {
    fixture: "hmm",
    build(t) {
      t.mmap("a", PMD, "r", { huge: "pmd" });
      t.flags(t.v.d0, FAIL_ALLOC, "ret 0", "Migrate memory to device but force a THP allocation error");
      t.dev("migrateToDevice", t.v.d0, "a", {}, OK(PMD, undefined, { values: all(0), assert: "ret 0; cpages == npages; mirror ints all 0", topic: "Migrate memory to device but force a THP allocation error" }));
      t.cpuRead("a", r(2, 1), [0], "ptr[2048] == 0", "Try faulting back a single (PAGE_SIZE) page");
      t.munmap("a");
      t.mmap("b", PMD, "r", { huge: "pmd" });
      t.cpuRead("b", r(0, 1), [0], "ptr[0] == 0 (installs the huge zero page)", "Initialize buffer in system memory (zero THP page)");
      t.flags(t.v.d0, FAIL_ALLOC, "ret 0", "Migrate memory to device but force a THP allocation error");
      t.dev("migrateToDevice", t.v.d0, "b", {}, OK(PMD, undefined, { values: all(0), assert: "ret 0; cpages == npages", topic: "Migrate memory to device but force a THP allocation error" }));
      t.cpuRead("b", {}, all(0), "ptr[i] == 0", "Fault the device memory back and check it");
    },
  },

  benchmark_thp_migration: {
    fixture: "hmm",
    build(t) {
      t.note("performance-only case: its one assertion is that every migrate in run_migration_benchmark returns 0; timings are not replayed");
      t.note("sizes below one PMD cannot hold a THP, so their use_thp round is mapped without huge (MADV_HUGEPAGE has no effect there)");
      const sizes = [PMD / 4, PMD / 2, PMD, 2 * PMD, 4 * PMD, 8 * PMD, 128 * PMD];
      let n = 0;
      for (const pages of sizes) {
        for (const thp of [1, 0]) {
          const b = `b${n++}`;
          const tag = `${pages} pages use_thp=${thp}`;
          t.mmap(b, pages, "rw", thp && pages >= PMD ? { huge: "pmd" } : {});
          t.cpuWrite(b, "index");
          for (let i = 0; i <= 5; i++) {
            const round = i === 0 ? "warm-up" : `iteration ${i}`;
            t.dev("migrateToDevice", t.v.d0, b, {}, { ok: true, assert: `${tag} ${round}: run_migration_benchmark returns 0`, topic: "System to device migration" });
            t.dev("migrateToSystem", t.v.d0, b, {}, { ok: true, assert: `${tag} ${round}: run_migration_benchmark returns 0`, topic: "Device to system migration" });
          }
          t.munmap(b);
        }
      }
    },
  },
};

// ---------------------------------------------------------------------------------------------
/** JSON with two-space indent, but a step, a range or a short list of plain values on one line. */
function render(obj) {
  const flat = (v) => v === null || typeof v !== "object" || (Array.isArray(v) ? v : Object.values(v)).every((x) => x === null || typeof x !== "object" || (Array.isArray(x) ? false : Object.values(x).every((y) => typeof y !== "object")));
  const out = (v, indent) => {
    if (v === null || typeof v !== "object") return JSON.stringify(v);
    const one = JSON.stringify(v, null, 1).replace(/\n\s*/g, " ").replace(/\[ /g, "[").replace(/ \]/g, "]").replace(/{ /g, "{ ").replace(/ }/g, " }");
    if (flat(v) && one.length + indent.length <= 110) return one;
    const inner = indent + "  ";
    if (Array.isArray(v)) return `[\n${v.map((x) => inner + out(x, inner)).join(",\n")}\n${indent}]`;
    return `{\n${Object.entries(v).map(([k, x]) => `${inner}${JSON.stringify(k)}: ${out(x, inner)}`).join(",\n")}\n${indent}}`;
  };
  return out(obj, "") + "\n";
}

function main() {
  const check = process.argv.includes("--check");
  const wanted = new Map();
  for (const [name, c] of Object.entries(CASES)) {
    if (c.skip) continue;
    for (const variant of ["private", "coherent"]) {
      const t = new Replay(name, c.fixture, variant);
      c.build(t);
      const { scenario, expect } = t.files();
      wanted.set(`${name}.${variant}.json`, render(scenario));
      wanted.set(`${name}.${variant}.expect.json`, render(expect));
    }
  }
  const skips = Object.fromEntries(Object.entries(CASES).filter(([, c]) => c.skip).map(([n, c]) => [n, { fixture: c.fixture, reason: c.skip }]));
  wanted.set("skipped.json", render(skips));

  const existing = readdirSync(DIR).filter((f) => f.endsWith(".json"));
  let differ = 0;
  for (const [file, text] of wanted) {
    const path = join(DIR, file);
    let old = null;
    try {
      old = readFileSync(path, "utf8");
    } catch {
      old = null;
    }
    if (old === text) continue;
    differ++;
    if (check) console.error(`differs: ${file}`);
    else writeFileSync(path, text);
  }
  for (const f of existing) {
    if (wanted.has(f)) continue;
    differ++;
    if (check) console.error(`stale: ${f}`);
    else unlinkSync(join(DIR, f));
  }
  console.log(`${Object.keys(CASES).length} cases, ${Object.keys(skips).length} skipped, ${wanted.size} files, ${differ} ${check ? "differ" : "written"}`);
  if (check && differ) process.exitCode = 1;
}

main();
