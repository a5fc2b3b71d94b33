// The builtin P2P client drivers through the driver API, on the explorer machine
// (data/topologies/p2p-three-devices-full-bar.json: gpu0 and nic0 under one switch, BUS_ADDR;
// gpu1 behind another root port, THRU_HOST_BRIDGE by IOVA; every GPU page has a BAR slot) and on
// the property-test machine (p2p-three-devices.json: 2-slot apertures). Each case names the rule
// the design follows and checks what the safety checker and the step results say.
import { describe, expect, it } from "vitest";
import {
  EBUSY, HMM_PFN_ALLOW_P2P, HMM_PFN_REQ_FAULT, type DriverInstance, type HmmRange, type Mm, type IntervalNotifier, type Kernel, type DriverDevice, type P2pDriver,
} from "../src/drivers/index.js";
import { loadScenario } from "../src/scenario/load.js";
import type { RunResult } from "../src/scenario/results.js";
import { runScenario } from "../src/scenario/run.js";

const FULL = "data/topologies/p2p-three-devices-full-bar.json";
const SMALL = "data/topologies/p2p-three-devices.json";

function run(driver: string | P2pDriver, steps: object[], topology = FULL): RunResult {
  const named = typeof driver === "string";
  const input = loadScenario({ topology, steps, ...(named ? { drivers: { nic0: driver } } : {}) });
  return runScenario({ ...input, ...(named ? {} : { drivers: { nic0: driver } }) }).result;
}

/** A buffer of `pages` pages holding 0, 1, 2, ... in `owner`'s device-private memory. */
const inDevice = (owner: string, pages: number) => [
  { op: "mmap", buffer: "a", pages },
  { op: "cpuWrite", buffer: "a", value: "index" },
  { op: "migrateToDevice", device: owner, buffer: "a" },
];

const ok = (r: RunResult, i: number) => {
  const s = r.steps[i];
  if (!s.ok) throw new Error(`step ${i} failed: ${s.error}`);
  return s.result as Record<string, unknown>;
};

describe("DMA in flight (dma async)", () => {
  // hmm-semantics.md §2.2 / §2.5: when the invalidate callback returns the device no longer uses
  // its entries, and the pages are freed only after it: a callback that waits for the DMA fence
  // lets the DMA finish on the old pages before they move.
  const steps = [
    ...inDevice("gpu0", 4),
    { op: "peerMap", device: "nic0", buffer: "a" },
    { op: "dma", device: "nic0", buffer: "a", value: 7, async: true },
    { op: "migrateToSystem", device: "gpu0", buffer: "a", at: 1 },
    { op: "cpuRead", buffer: "a" },
  ];

  it("the correct ODP callback waits for the fence: the migration ends after the DMA, the data moves with the pages", () => {
    const { result: r, trace } = runScenario({ ...loadScenario({ topology: FULL, steps, drivers: { nic0: "odp" } }) });
    expect(r.violations).toEqual([]);
    expect(r.dma).toEqual([{ step: 4, device: "nic0", endNs: expect.any(Number), cpages: 4 }]);
    // The migration was asked for while the DMA was in flight; it began before the DMA ended and
    // finished after it (its invalidation slept on the fence).
    const migration = trace.find((t) => t.track === "steps" && t.args?.step === 5)!;
    expect(migration.startNs).toBeLessThan(r.dma![0].endNs);
    expect(migration.startNs + migration.durNs).toBeGreaterThan(r.dma![0].endNs);
    expect(ok(r, 5)).toMatchObject({ cpages: 4 });
    expect(ok(r, 6).values).toEqual([7, 7, 7, 7]);
    expect(r.counters.peerUnmapsByInvalidation).toBe(4);
  });

  it("the callback's wait is the migration's time: what is left of the DMA after the step's work before the callback, on the CPU track", () => {
    // 256 pages (1 MiB): the write outlasts the notifier round, so the callback sleeps on the fence.
    const long = [...inDevice("gpu0", 256), ...steps.slice(3)];
    const waiting = runScenario(loadScenario({ topology: FULL, steps: long, drivers: { nic0: "odp" } }));
    const racing = runScenario(loadScenario({ topology: FULL, steps: long, drivers: { nic0: "odp-no-fence-wait" } }));
    const wait = waiting.trace.filter((t) => t.name === "dma fence wait");
    expect(wait).toHaveLength(1);
    expect(wait[0].track).toBe("cpu");
    // The kernel model measured the wait from the step's start; the spans before it ran meanwhile.
    const migration = waiting.trace.find((t) => t.track === "steps" && t.args?.step === 5)!;
    const fence = Number(wait[0].args?.fenceNs);
    expect(fence).toBeGreaterThan(wait[0].startNs - migration.startNs);
    expect(wait[0].durNs).toBeCloseTo(fence - (wait[0].startNs - migration.startNs), 6);
    expect(wait[0].durNs).toBeGreaterThan(0);
    expect(racing.trace.some((t) => t.name === "dma fence wait")).toBe(false);
    const time = (o: typeof waiting) => o.result.counters.stepTimesNs[5];
    expect(time(waiting) - time(racing)).toBeCloseTo(wait[0].durNs, 6);
  });

  it("a DMA that ends during the notifier round costs no wait: 4 pages written in less than one callback's time", () => {
    const waiting = runScenario(loadScenario({ topology: FULL, steps, drivers: { nic0: "odp" } }));
    const racing = runScenario(loadScenario({ topology: FULL, steps, drivers: { nic0: "odp-no-fence-wait" } }));
    expect(waiting.trace.some((t) => t.name === "dma fence wait")).toBe(false);
    expect(waiting.result.counters.stepTimesNs[5]).toBe(racing.result.counters.stepTimesNs[5]);
  });

  it("an ODP callback without the fence wait lets the DMA write into pages already given back", () => {
    const r = run("odp-no-fence-wait", steps);
    expect(r.violations.length).toBe(4);
    for (const v of r.violations) {
      expect(v).toMatchObject({ step: 4, device: "nic0", access: "write", code: "empty-bar-slot" });
      expect(v.via).toMatch(/^bus address 0x[0-9a-f]+$/);
    }
    // The writes were lost: the CPU reads what the buffer held before.
    expect(ok(r, 6).values).toEqual([0, 1, 2, 3]);
  });
});

describe("the ODP design and its classic bugs", () => {
  it("re-checks the notifier sequence (hmm-semantics.md §1.7 step 5): a walk overtaken by a CPU fault is redone", () => {
    const race = [
      ...inDevice("gpu0", 2),
      { op: "peerMap", device: "nic0", buffer: "a", at: 1_000_000 },
      { op: "cpuRead", buffer: "a", count: 1, at: 1_000_000 },
      { op: "dma", device: "nic0", buffer: "a" },
    ];
    const good = run("odp", race);
    expect(good.violations).toEqual([]);
    // Page 0 went back to RAM under the walk: the retry maps it there; page 1 stays peer-to-peer.
    expect(ok(good, 3).pagePaths).toEqual(["SYSTEM", "BUS_ADDR"]);
    expect(ok(good, 5).values).toEqual([0, 1]);
    const bad = run("odp-no-seq-recheck", race);
    expect(ok(bad, 3).pagePaths).toEqual(["BUS_ADDR", "BUS_ADDR"]);
    expect(bad.violations).toMatchObject([{ step: 5, code: "empty-bar-slot", address: "0x10000000", access: "read" }]);
  });

  it("unmaps IOVAs inside the callback: a late unmap leaves a stale IOVA that reaches the page after it moved", () => {
    const steps = [
      ...inDevice("gpu1", 2),
      { op: "peerMap", device: "nic0", buffer: "a" },
      { op: "migrateToSystem", device: "gpu1", buffer: "a", count: 1 },
      { op: "dma", device: "nic0", buffer: "a", count: 1 },
    ];
    const good = run("odp", steps);
    expect(ok(good, 3).mapTypes).toEqual({ gpu1: "THRU_HOST_BRIDGE" });
    expect(good.steps[5]).toMatchObject({ ok: false });
    expect(good.steps[5].ok ? "" : good.steps[5].error).toMatch(/^EFAULT: .*no mapping/); // DESIGN §4: not mapped, not a violation
    expect(good.violations).toEqual([]);
    const bad = run("odp-late-iova-unmap", steps);
    expect(bad.violations).toMatchObject([{ step: 5, code: "empty-bar-slot", via: "stale IOVA 0x100000000" }]);
  });

  it("zaps its entries in the callback: one that ignores the invalidation writes through a dead BAR slot", () => {
    const steps = [...inDevice("gpu0", 2), { op: "peerMap", device: "nic0", buffer: "a" }, { op: "migrateToSystem", device: "gpu0", buffer: "a" }, { op: "dma", device: "nic0", buffer: "a", value: 5 }];
    expect(run("odp", steps).violations).toEqual([]);
    expect(run("odp-ignore-invalidation", steps).violations.map((v) => v.code)).toEqual(["empty-bar-slot", "empty-bar-slot"]);
  });

  it("under aperture pressure with nothing to reclaim (aperture fail) takes the migrate fallback, or fails ENOSPC with bounce", () => {
    const migrate = run("odp", [...inDevice("gpu0", 4), { op: "peerMap", device: "nic0", buffer: "a", aperture: "fail" }, { op: "dma", device: "nic0", buffer: "a" }], SMALL);
    expect(ok(migrate, 3).paths).toEqual({ BUS_ADDR: 0, THRU_HOST_BRIDGE: 0, SYSTEM: 4 });
    expect(ok(migrate, 4).values).toEqual([0, 1, 2, 3]);
    const bounce = run("odp", [...inDevice("gpu0", 4), { op: "peerMap", device: "nic0", buffer: "a", aperture: "fail", fallback: "bounce" }], SMALL);
    expect(bounce.steps[3].ok ? "" : bounce.steps[3].error).toMatch(/^ENOSPC: .*no slot to give/);
  });
});

describe("the pinning design", () => {
  const steps = [...inDevice("gpu0", 2), { op: "peerMap", device: "nic0", buffer: "a" }, { op: "migrateToSystem", device: "gpu0", buffer: "a" }, { op: "dma", device: "nic0", buffer: "a" }];

  it("keeps pinned pages where they are: migrate_vma_check_page refuses them (hmm-semantics.md §3.4 step 3)", () => {
    const r = run("pinned", steps);
    expect(ok(r, 3).mapTypes).toEqual({ gpu0: "BUS_ADDR" });
    expect(ok(r, 4)).toMatchObject({ cpages: 0 });
    expect(ok(r, 5).values).toEqual([0, 1]);
    expect(r.violations).toEqual([]);
    expect(r.counters.peerUnmapsByInvalidation).toBe(0);
  });

  it("forbids the CPU the page while pinned: migrate_to_ram cannot move it, the access fails and the data stays", () => {
    const r = run("pinned", [...inDevice("gpu0", 2), { op: "peerMap", device: "nic0", buffer: "a" }, { op: "cpuRead", buffer: "a", count: 1 },
      { op: "peerUnmap", device: "nic0", buffer: "a" }, { op: "cpuRead", buffer: "a" }]);
    expect(r.steps[4].ok ? "" : r.steps[4].error).toMatch(/^EFAULT: CPU read of page 0 .*stays in device memory: migrate_to_ram could not move it/);
    // Unpinned, the page comes back to the CPU as usual.
    expect(ok(r, 6).values).toEqual([0, 1]);
  });

  it("a pin dropped once mapped (no FOLL_LONGTERM) lets the page migrate while mapped: caught as unpinned", () => {
    const r = run("pinned-short-term", steps);
    expect(ok(r, 4)).toMatchObject({ cpages: 2 });
    expect(r.violations.map((v) => v.code)).toEqual(["unpinned", "unpinned"]);
  });

  it("cannot let the owner reclaim BAR slots: more pages than slots fail with ENOSPC, nothing left pinned", () => {
    const r = run("pinned", [...inDevice("gpu0", 3), { op: "peerMap", device: "nic0", buffer: "a" }, { op: "migrateToSystem", device: "gpu0", buffer: "a" }], SMALL);
    expect(r.steps[3].ok ? "" : r.steps[3].error).toMatch(/^ENOSPC: peerMap failed at page 2 .*no slot to give/);
    // The two pages pinned before the refusal were unpinned: all three migrate back.
    expect(ok(r, 4)).toMatchObject({ cpages: 3 });
  });
});

describe("the dma-buf design", () => {
  it("move_notify before the exporter moves the buffer; the next DMA maps it again where it lives now", () => {
    const r = run("dmabuf", [
      ...inDevice("gpu0", 4),
      { op: "peerMap", device: "nic0", buffer: "a" },
      { op: "dma", device: "nic0", buffer: "a", value: 7, async: true },
      { op: "migrateToSystem", device: "gpu0", buffer: "a", at: 1 },
      { op: "dma", device: "nic0", buffer: "a" },
      { op: "cpuRead", buffer: "a" },
    ]);
    expect(r.violations).toEqual([]);
    expect(ok(r, 5)).toMatchObject({ cpages: 4 });
    expect(ok(r, 6).values).toEqual([7, 7, 7, 7]);
    expect(ok(r, 7).values).toEqual([7, 7, 7, 7]);
    expect(r.counters.peerUnmapsByInvalidation).toBe(4);
  });

  it("counts each mapping it makes once: a peerMap of a mapped range makes none, a DMA that maps a moved buffer again makes them", () => {
    const r = run("dmabuf", [
      ...inDevice("gpu0", 4),
      { op: "peerMap", device: "nic0", buffer: "a" },
      { op: "migrateToSystem", device: "gpu0", buffer: "a" },
      { op: "dma", device: "nic0", buffer: "a" },
    ]);
    expect(r.counters.stepCounters.map((c) => c.peerMaps)).toEqual([0, 0, 0, 4, 0, 4]);
    expect(r.counters.peerUnmaps).toBe(4);
    const again = run("odp", [...inDevice("gpu0", 2), { op: "peerMap", device: "nic0", buffer: "a" }, { op: "peerMap", device: "nic0", buffer: "a" }]);
    expect(again.counters.stepCounters.map((c) => c.peerMaps)).toEqual([0, 0, 0, 2, 0]);
  });

  it("attaches only to one exporter's device memory (-EINVAL otherwise)", () => {
    const r = run("dmabuf", [{ op: "mmap", buffer: "a", pages: 2 }, { op: "cpuWrite", buffer: "a", value: "index" }, { op: "peerMap", device: "nic0", buffer: "a" }]);
    expect(r.steps[2].ok ? "" : r.steps[2].error).toMatch(/^EINVAL: .*not one exporter's device memory/);
  });

  it("under aperture pressure gives up its other imports of that exporter (aperturePressure), which map again at their next DMA", () => {
    const r = run("dmabuf", [
      ...inDevice("gpu0", 4),
      { op: "peerMap", device: "nic0", buffer: "a", count: 2 },
      { op: "peerMap", device: "nic0", buffer: "a", first: 2, count: 2 },
      { op: "dma", device: "nic0", buffer: "a", first: 2, count: 2 },
      { op: "dma", device: "nic0", buffer: "a", count: 2 },
      { op: "cpuRead", buffer: "a" },
    ], SMALL);
    expect(ok(r, 5).values).toEqual([2, 3]);
    expect(ok(r, 6).values).toEqual([0, 1]);
    expect(r.violations).toEqual([]);
  });
});

/** An interval notifier over the request's range whose callback only clears the device's entries. */
function clearingNotifier(k: Kernel, dev: DriverDevice, req: { mm: Mm; start: number; npages: number }): IntervalNotifier | number {
  return k.mmuIntervalNotifierInsert(req.mm, req.start, req.npages, {
    invalidate: (n, range, cur) => {
      k.mmuIntervalSetSeq(n, cur);
      dev.table(req.mm).clear(range.start, range.end);
      return true;
    },
  });
}

/** A driver that forgets mmu_interval_read_begin after -EBUSY: its notifier sequence stays stale. */
const staleSeq: P2pDriver = {
  name: "stale-seq",
  create(k: Kernel, dev: DriverDevice): DriverInstance {
    let sub: IntervalNotifier | null = null;
    return {
      *mapRange(req) {
        if (sub === null) {
          const s = clearingNotifier(k, dev, req);
          if (typeof s === "number") return { ret: s, page: req.start, reason: "notifier" };
          sub = s;
        }
        const range: HmmRange = {
          notifier: sub, notifierSeq: k.mmuIntervalReadBegin(sub), start: req.start, end: req.start + req.npages, hmmPfns: new Uint32Array(req.npages),
          defaultFlags: HMM_PFN_REQ_FAULT, pfnFlagsMask: HMM_PFN_ALLOW_P2P, devPrivateOwner: dev.owner,
        };
        for (;;) {
          const ret = yield* k.hmmRangeFault(range);
          if (ret !== -EBUSY) return ret === 0 ? undefined : { ret, page: req.start, reason: "fault" };
        }
      },
      *unmapRange() {},
    };
  },
};

/** A driver whose recheck compares with the sequence of its first walk: once an invalidation
 *  overtook that walk, mmu_interval_read_retry says retry however often it walks again. */
const staleRecheck: P2pDriver = {
  name: "stale-recheck",
  create(k: Kernel, dev: DriverDevice): DriverInstance {
    return {
      *mapRange(req) {
        const sub = clearingNotifier(k, dev, req);
        if (typeof sub === "number") return { ret: sub, page: req.start, reason: "notifier" };
        const first = k.mmuIntervalReadBegin(sub);
        const range: HmmRange = {
          notifier: sub, notifierSeq: first, start: req.start, end: req.start + req.npages, hmmPfns: new Uint32Array(req.npages),
          defaultFlags: HMM_PFN_REQ_FAULT, pfnFlagsMask: HMM_PFN_ALLOW_P2P, devPrivateOwner: dev.owner,
        };
        for (;;) {
          const ret = yield* k.hmmRangeFault(range);
          if (ret !== 0 && ret !== -EBUSY) return { ret, page: req.start, reason: "fault" };
          if (ret === 0 && !k.mmuIntervalReadRetry(sub, first)) return undefined;
          range.notifierSeq = k.mmuIntervalReadBegin(sub);
        }
      },
      *unmapRange() {},
    };
  },
};

/** A driver that sleeps holding its mutex. */
const sleepsLocked: P2pDriver = {
  name: "sleeps-locked",
  create(k: Kernel): DriverInstance {
    const mutex = k.mutexInit();
    return {
      *mapRange() {
        yield* mutex.lock();
        yield { waitNs: 100 };
        mutex.unlock();
      },
      *unmapRange() {},
    };
  },
};

describe("drivers that break the kernel's rules", () => {
  it("a retry loop that never reads a new sequence livelocks: a livelock violation and EBUSY", () => {
    const r = run(staleSeq, [...inDevice("gpu0", 2), { op: "peerMap", device: "nic0", buffer: "a", at: 1_000_000 }, { op: "cpuRead", buffer: "a", count: 1, at: 1_000_000 }]);
    expect(r.steps[3].ok ? "" : r.steps[3].error).toMatch(/^EBUSY: .*-EBUSY 100000 times in a row/);
    expect(r.violations).toMatchObject([{ step: 3, code: "livelock", device: "nic0", via: "hmm_range_fault" }]);
  });

  it("a recheck against a stale sequence livelocks too: a livelock violation via mmu_interval_read_retry and EBUSY", () => {
    // hmm-semantics.md §1.7: the driver's loop must take a new sequence (mmu_interval_read_begin) for each retry.
    const r = run(staleRecheck, [...inDevice("gpu0", 2), { op: "peerMap", device: "nic0", buffer: "a", at: 1_000_000 }, { op: "cpuRead", buffer: "a", count: 1, at: 1_000_000 }]);
    expect(r.steps[3].ok ? "" : r.steps[3].error).toMatch(/^EBUSY: .*mmu_interval_read_retry said retry 100000 times in a row/);
    expect(r.violations).toMatchObject([{ step: 3, code: "livelock", device: "nic0", via: "mmu_interval_read_retry" }]);
  });

  it("a mutex held across a preemption point deadlocks the next taker (EDEADLK), never the kit", () => {
    const r = run(sleepsLocked, [...inDevice("gpu0", 2), { op: "peerMap", device: "nic0", buffer: "a", at: 1_000_000 }, { op: "peerMap", device: "nic0", buffer: "a", at: 1_000_010 }]);
    expect(r.steps[3].ok).toBe(true);
    expect(r.steps[4].ok ? "" : r.steps[4].error).toMatch(/^EDEADLK: .*holds it across a preemption point/);
  });
});
