# Writes notebooks/09-your-driver.ipynb (cells kept here as plain text so they can be reviewed in diffs).
import sys

sys.dont_write_bytecode = True  # importing course/ leaves no __pycache__ in notebooks/src
from course import code, heading, md, write  # noqa: E402

cells = [
md(heading("09") + """

**Question:** you write the P2P client driver of a NIC that DMAs into a GPU's device-private memory. The GPU
driver (the pages' owner) moves those pages whenever it likes: it evicts them to RAM under memory pressure, takes
them back, and the CPU faults them to RAM by touching them. Is your driver safe while that happens, and what does
the design you chose cost, or forbid, compared with the other two?

1. **A driver in a cell.** An HMM-mirror driver (the design of RDMA on-demand paging, mlx5 `ib_umem_odp`) written
   here against the kit's driver API, and a variant A whose invalidation callback does not wait for the NIC's DMA
   in flight. The explorer runs variant A under every interleaving of the owner's moves with the driver's
   preemption points it can reach, finds the race, shrinks it to a short scenario and gives its timeline.
2. **The fix.** The wait restored, the shrunk scenario replayed, and the explorer run again over 2000
   interleavings.
3. **Pinned, ODP and dma-buf on one machine** (a DGX-1: NIC and GPU below one PCIe switch), under one workload
   in which the owner evicts half of the buffer and takes it back while the NIC writes and reads it: time, bytes
   per link, faults, invalidations, and what each design forbids."""),
md("""## 1 · An ODP driver, written in a cell
The driver API (`P2pDriver`, `DriverInstance` and the `Kernel` primitives, all exported by `p2pdma-lab` under their
kernel names) is the contract between a driver and the kit's kernel model. A driver's hooks are generators: each
`yield*` is a preemption point where the kernel may run something else first (the owner migrating a page, the CPU
faulting one back, DMA completing), so the races a real driver has are explicit in its code.

The driver below is the ODP design (the usage pattern of `Documentation/mm/hmm.rst`;
`drivers/infiniband/core/umem_odp.c`, `mm/hmm.c`, `mm/mmu_notifier.c`):
- **per process, one interval notifier** over the whole address space (`mmu_interval_notifier_insert`), as
  `ib_umem_odp_get` does for an implicit ODP MR;
- **`mapRange`** walks the range in chunks of 32 pages: `mmu_interval_read_begin`, `hmm_range_fault` with
  `HMM_PFN_REQ_FAULT` and `HMM_PFN_ALLOW_P2P` (device-private pages of another device come back as P2PDMA pages
  of the owner's BAR), then under the driver mutex `mmu_interval_read_retry` (a walk an invalidation overtook is
  repeated) and programs the NIC's page table with `hmm_dma_map_pfn`. Pages whose P2PDMA map type is
  `NOT_SUPPORTED` lose `ALLOW_P2P` and are faulted to RAM (the migrate fallback of the mlx5 P2P patches), or go
  through a host bounce buffer when the step asks for it. An entry that is still there is kept: no invalidation
  dropped it since, so DMA in flight may be using its address;
- **the invalidation callback** runs before the CPU page tables change: `mmu_interval_set_seq`, then
  **`dma_fence_wait` on the NIC's DMA in flight**, then it clears the range's entries and unmaps their IOVAs;
- **`dma`** starts the engine and keeps its fence; `unmapRange` waits for the fences, clears and unmaps.

It leaves out, like the kit's builtin `odp`: device page faults (the NIC never faults on its own: a `peerMap`
step is the prefetch, `ibv_advise_mr`) and the smaller-chunk retry under BAR-aperture pressure (the explorer's
machine exposes all of each GPU's memory through its BAR, so no slot is ever reclaimed). The one switch,
`waitForDma`, makes variant A."""),
code("""import * as Plot from "@observablehq/plot";
import {
  explore, loadScenario, parseScenario, runScenario, runPassed, show, plotDocument, sim, FIGURES_ENV,
  MMU_NOTIFY_CLEAR, MMU_NOTIFY_MIGRATE, MMU_NOTIFY_UNMAP, MMU_NOTIFY_RELEASE, MMU_NOTIFY_PROTECTION_VMA, MMU_NOTIFY_PROTECTION_PAGE, MMU_NOTIFY_EXCLUSIVE, MMU_NOTIFY_SOFT_DIRTY,
  HMM_PFN_ALLOW_P2P, HMM_PFN_REQ_FAULT, HMM_PFN_REQ_WRITE, HMM_PFN_WRITE, DMA_MAPPING_ERROR, DPTE_WRITE, EBUSY, MAP_START_NS,
  type Kernel, type DriverDevice, type DriverInstance, type P2pDriver, type Op, type HookError, type MapRequest, type RangeRequest,
  type DmaRequest, type Fence, type Mm, type IntervalNotifier, type NotifierRange, type HmmRange, type P2pdmaMapState,
  type StepResult, type TraceSpan,
} from "p2pdma-lab";
import { mkdirSync } from "fs";
import { join, resolve } from "path";

const notebookStarted = Date.now();
/** Pages per hmm_range_fault call (ib_umem_odp maps in bounded chunks); retries of one chunk before -EBUSY. */
const CHUNK = 32, MAX_TRIES = 1000;
/** The notifier covers the whole address space (an implicit ODP MR). */
const WHOLE_ADDRESS_SPACE = 2 ** 36;

/** One process as the NIC mirrors it: its notifier and the DMA the NIC started on it. */
interface Mirror { sub: IntervalNotifier; inflight: Fence[] }
/** The driver's own trace of its invalidate callback (what trace_printk would give): when it was entered and
 *  returned (simulated ns), the range (pages), the notifier event, and how many entries it dropped. */
interface CallbackRecord { enteredNs: number; returnedNs: number; start: number; end: number; event: number; dropped: number }

class MyOdp implements DriverInstance {
  private readonly mirrors = new Map<Mm, Mirror>();
  private readonly mutex;

  constructor(private readonly k: Kernel, private readonly dev: DriverDevice, private readonly waitForDma: boolean, private readonly log: CallbackRecord[] | null) {
    this.mutex = k.mutexInit();
  }

  /** ib_umem_odp_get: the process's mirror, its notifier inserted on first use. */
  private mirror(mm: Mm): Mirror | HookError {
    let m = this.mirrors.get(mm);
    if (m) return m;
    const sub = this.k.mmuIntervalNotifierInsert(mm, 0, WHOLE_ADDRESS_SPACE, { invalidate: (s, range, cur) => this.invalidate(mm, s, range, cur) });
    if (typeof sub === "number") return { ret: sub, page: 0, reason: "mmu_interval_notifier_insert failed (the process has exited)" };
    m = { sub, inflight: [] };
    this.mirrors.set(mm, m);
    return m;
  }

  /** The invalidate callback (may not yield; may wait on fences): before the CPU page tables change. */
  private invalidate(mm: Mm, sub: IntervalNotifier, range: NotifierRange, cur: number): boolean {
    const k = this.k, m = this.mirrors.get(mm)!, enteredNs = k.now;
    k.mmuIntervalSetSeq(sub, cur); // a walk in progress will see read_retry and start over
    if (this.waitForDma) for (const f of m.inflight) k.dmaFenceWait(f); // variant A leaves this out
    m.inflight = m.inflight.filter((f) => !f.signaled);
    const dropped = this.dev.table(mm).clear(range.start, range.end, (_vpn, addr, flags) => k.dmaUnmap(this.dev, addr, flags));
    this.log?.push({ enteredNs, returnedNs: k.now, start: range.start, end: range.end, event: range.event, dropped });
    return true;
  }

  *mapRange(req: MapRequest): Op<HookError | void> {
    const m = this.mirror(req.mm);
    if (!("sub" in m)) return m;
    const end = req.start + req.npages;
    for (let addr = req.start; addr < end; addr += CHUNK) {
      const err = yield* this.mapChunk(req, m, addr, Math.min(end, addr + CHUNK));
      if (err) return err;
    }
    return undefined;
  }

  /** The ODP retry loop for pages [start, end). */
  private *mapChunk(req: MapRequest, m: Mirror, start: number, end: number): Op<HookError | void> {
    const k = this.k, n = end - start;
    const pfns = new Uint32Array(n), allow = new Uint8Array(n).fill(1);
    const range: HmmRange = {
      notifier: m.sub, notifierSeq: 0, start, end, hmmPfns: pfns,
      defaultFlags: HMM_PFN_REQ_FAULT | (req.write ? HMM_PFN_REQ_WRITE : 0), pfnFlagsMask: HMM_PFN_ALLOW_P2P, devPrivateOwner: this.dev.owner,
    };
    const state: P2pdmaMapState = { map: "NONE", provider: null, flags: 0 };
    for (let tries = 0; tries < MAX_TRIES; tries++) {
      for (let o = 0; o < n; o++) pfns[o] = allow[o] ? HMM_PFN_ALLOW_P2P : 0;
      range.notifierSeq = k.mmuIntervalReadBegin(m.sub);
      const ret = yield* k.hmmRangeFault(range); // preemption point: the owner may move pages meanwhile
      if (ret === -EBUSY) continue;
      if (ret !== 0) return { ret, page: start, reason: "hmm_range_fault failed (no VMA, no access, or no BAR slot)" };
      yield* this.mutex.lock();
      if (k.mmuIntervalReadRetry(m.sub, range.notifierSeq)) { // the snapshot is stale: walk again
        this.mutex.unlock();
        continue;
      }
      let refault = false;
      if (req.fallback === "migrate") {
        for (let o = 0; o < n; o++) if (k.pciP2pdmaState(state, this.dev, pfns[o]) === "NOT_SUPPORTED") { allow[o] = 0; refault = true; }
      }
      if (!refault) this.program(req.mm, start, pfns, state);
      this.mutex.unlock();
      if (!refault) return undefined;
    }
    return { ret: -EBUSY, page: start, reason: "hmm_range_fault kept being invalidated (retry limit)" };
  }

  /** Programs the NIC's page table from the snapshot, under the mutex. */
  private program(mm: Mm, start: number, pfns: Uint32Array, state: P2pdmaMapState): void {
    const k = this.k, table = this.dev.table(mm);
    pfns.forEach((pfn, o) => {
      const vpn = start + o, write = pfn & HMM_PFN_WRITE ? DPTE_WRITE : 0, old = table.flags(vpn);
      if (old !== 0) { // still mapped since the last walk: keep its address, maybe add write
        table.set(vpn, table.address(vpn), old | write);
        return;
      }
      let dma = k.hmmDmaMapPfn(this.dev, pfn, state), flags = state.flags | write;
      if (dma === DMA_MAPPING_ERROR) { // NOT_SUPPORTED with the bounce fallback: state.flags become DPTE_BOUNCE (| DPTE_IOVA)
        dma = k.bounceMapPfn(this.dev, pfn, state);
        flags = state.flags | write;
      }
      table.set(vpn, dma, flags);
    });
  }

  *unmapRange(req: RangeRequest): Op<void> {
    const m = this.mirrors.get(req.mm);
    if (!m) return;
    for (const f of m.inflight) yield* this.k.dmaFenceWaitOp(f);
    this.dev.table(req.mm).clear(req.start, req.start + req.npages, (_vpn, addr, flags) => this.k.dmaUnmap(this.dev, addr, flags));
  }

  *dma(req: DmaRequest): Op<Fence> {
    const fence = this.k.dmaIssue(this.dev, req);
    this.mirrors.get(req.mm)?.inflight.push(fence);
    return fence;
  }

  release(): void {
    for (const m of this.mirrors.values()) this.k.mmuIntervalNotifierRemove(m.sub);
    this.mirrors.clear();
  }
}

/** The driver; with `log`, its instances record their callbacks there. */
const myOdp = (name: string, waitForDma: boolean, log: CallbackRecord[] | null = null): P2pDriver => ({
  name, description: `ODP written in notebook 09; the invalidation callback ${waitForDma ? "waits" : "does not wait"} for DMA in flight`,
  create: (k, dev) => new MyOdp(k, dev, waitForDma, log),
});
const variantA = myOdp("my-odp-no-fence-wait", false);
const fixed = myOdp("my-odp", true);
console.log(`${variantA.name}: ${variantA.description}\\n${fixed.name}: ${fixed.description}`);"""),
md("""### Variant A under the explorer
`explore(driver, { topology, workload, runs, seed })` puts the driver through cases of a workload: a buffer of 1 or 2
pages (`workload: { pages: 2 }`; the default is up to 4, which makes 1512 systematic cases instead of 936, and the
explorer spends at most half its runs on systematic cases, so part 2's 2000 runs could not hold them all) that the
process fills and an owner GPU migrates into its device-private memory, the NIC's `peerMap` of it, up to 4 events within 6 µs of the mapping's start (the NIC's own
DMA in flight, the owner migrating pages back, the CPU touching them, munmap, fork, mprotect, maps and unmaps), a
final DMA and CPU read. It runs the systematic
cases first (each event kind placed 1 ns before, at and 1 ns after every point where a base run's driver resumed
or its DMA touched a page), then random ones. A case fails when the DMA safety checker sees an access to a page
after it was given back, a write lost across a migration, or an access after an invalidation returned. The first
failing case is shrunk (fewer pages, fewer and earlier events) and replayed twice. The machine is the kit's
explorer machine, `p2p-three-devices-full-bar.json`: `gpu0` and `nic0` below one PCIe switch (`BUS_ADDR`), `gpu1`
on its own root port (`THRU_HOST_BRIDGE` through IOVAs), the IOMMU on, and each GPU's 1 MiB of memory wholly
behind its BAR, so a violation can only be the driver's. A driver given as an object runs in the notebook's thread."""),
code("""const FULL_BAR = "../data/topologies/p2p-three-devices-full-bar.json";
const WORKLOAD = { pages: 2 };
const a = await explore(variantA, { topology: FULL_BAR, workload: WORKLOAD, runs: 2000, seed: 1 });
console.log(`${a.driver} on ${a.client}: stopped after ${a.runs} runs (${a.systematic} systematic, ${a.random} random), ` +
  `${a.distinctStates} distinct states, ${a.seconds.toFixed(1)} s`);
const finding = a.finding;
if (!finding) throw new Error("the explorer found nothing: variant A should have been caught");
console.log(`found by the ${finding.foundBy} cases; two replays gave the same result: ${finding.reproduced}`);
console.log(`\\n${finding.message}`);"""),
md("""### The shrunk scenario, replayed with each driver
The finding's `scenario` is a scenario object naming the driver: `runScenario` replays it with a driver object for
`nic0` (`RunInput.drivers`). Both drivers are replayed with their callback log on. Below, each step with the time
its scenario gives it (`at`), relative to the peer mapping's start (`MAP_START_NS`: the explorer places the mapping
after the setup steps), and per driver the span the run's trace gives it and what it did; then each run's
violations, its asynchronous DMA, its driver's callbacks, the spans its trace puts on the CPU track from the
mapping on, and whether the fixed driver's wait shows in its trace."""),
code("""const scenario = parseScenario(finding.scenario);
const mapStep = scenario.steps.findIndex((s) => s.op === "peerMap");
const t0 = MAP_START_NS; // where the explorer's cases place the peer mapping, after the setup steps
if (scenario.steps[mapStep].at !== t0) throw new Error(`the peerMap step is at ${scenario.steps[mapStep].at} ns, not MAP_START_NS`);
const EVENT_NAMES = new Map([
  [MMU_NOTIFY_CLEAR, "CLEAR"], [MMU_NOTIFY_MIGRATE, "MIGRATE"], [MMU_NOTIFY_UNMAP, "UNMAP"], [MMU_NOTIFY_RELEASE, "RELEASE"],
  [MMU_NOTIFY_PROTECTION_VMA, "PROTECTION_VMA"], [MMU_NOTIFY_PROTECTION_PAGE, "PROTECTION_PAGE"], [MMU_NOTIFY_EXCLUSIVE, "EXCLUSIVE"], [MMU_NOTIFY_SOFT_DIRTY, "SOFT_DIRTY"],
]);
const replay = (label: string, waitForDma: boolean) => {
  const log: CallbackRecord[] = [];
  const out = runScenario({ ...loadScenario(finding.scenario), drivers: { [a.client]: myOdp(label, waitForDma, log) } });
  return { label, out, log };
};
const runs = [replay("variant A (no fence wait)", false), replay("fixed (fence wait restored)", true)];
/** Each step's trace span (the "steps" track), by step index. */
const stepSpans = (trace: TraceSpan[]) => new Map(trace.filter((s) => s.track === "steps").map((s) => [Number(s.args?.step), s]));
/** What a step did, short: ok with the values read, or its errno. */
const outcome = (s: StepResult) => {
  if (!s.ok) return s.error.split(":")[0];
  if ((s.op === "cpuRead" || s.op === "dma") && s.result?.values) return `ok [${s.result.values.join(",")}]`;
  return "ok";
};
const rel = (ns: number) => `${ns - t0 >= 0 ? "+" : ""}${(ns - t0).toFixed(0)}`;
const [spansA, spansFixed] = runs.map((r) => stepSpans(r.out.trace));
const spanText = (spans: Map<number, TraceSpan>, i: number) => {
  const span = spans.get(i);
  return span ? `${rel(span.startNs)}..${rel(span.startNs + span.durNs)}` : "";
};
console.log(`machine ${scenario.topology}`.replace(/machine .*\\//, "machine "), `| seed ${scenario.seed} | drivers ${JSON.stringify(scenario.drivers)}`);
console.log("step op               arguments                                   at (ns)  variant A: span (ns), outcome     fixed: span (ns), outcome");
scenario.steps.forEach((s, i) => {
  const args = Object.entries(s).filter(([k]) => !["op", "at", "buffer"].includes(k)).map(([k, v]) => `${k}=${v}`).join(" ");
  console.log(`${String(i).padStart(4)} ${s.op.padEnd(16)} ${args.padEnd(42)} ${(s.at === undefined ? "" : rel(s.at)).padStart(7)}  ` +
    `${spanText(spansA, i).padEnd(19)} ${outcome(runs[0].out.result.steps[i]).padEnd(13)} ${spanText(spansFixed, i).padEnd(19)} ${outcome(runs[1].out.result.steps[i])}`);
});
for (const r of runs) {
  const k = r.out.result.counters;
  console.log(`\\n${r.label}: ${r.out.result.violations.length} violation(s), invalidations ${k.invalidations}, peer unmaps by invalidation ${k.peerUnmapsByInvalidation}`);
  for (const v of r.out.result.violations) console.log(`  violation in step ${v.step}: ${v.code}, ${v.device} ${v.access} via ${v.via}`);
  for (const d of r.out.result.dma ?? []) console.log(`  async DMA of step ${d.step}: touched its last page at ${rel(d.endNs)} ns (${d.cpages} page(s))`);
  for (const c of r.log) {
    console.log(`  callback ${EVENT_NAMES.get(c.event) ?? c.event} pages 0x${c.start.toString(16)}..0x${c.end.toString(16)}: entered ${rel(c.enteredNs)} ns, ` +
      `returned ${rel(c.returnedNs)} ns, dropped ${c.dropped} entr${c.dropped === 1 ? "y" : "ies"}`);
  }
}
// What each run's trace shows on the CPU track from the mapping on: the cost spans of the steps' kernel work.
for (const r of runs) {
  const cpu = r.out.trace.filter((s) => s.track === "cpu" && s.startNs >= t0);
  console.log(`\\n${r.label}, cpu track: ${cpu.map((s) => `${s.name} ${rel(s.startNs)}..${rel(s.startNs + s.durNs)}`).join(", ")}`);
  console.log(`  run ends at ${rel(r.out.result.simTimeNs)} ns`);
}
/** The trace's cpu fault span that covers a callback's time in kernel-model time, if one does. */
const faultCovering = (trace: TraceSpan[], c: CallbackRecord) =>
  trace.find((s) => s.track === "cpu" && s.name === "cpu fault" && s.startNs <= c.enteredNs && c.returnedNs <= s.startNs + s.durNs);
// Does the fixed driver's wait show in its trace? The cost layer charges a callback's wait only for what is left of
// the DMA after the step's work before the callback (the fault, the notifier round): here the fault alone covers it.
const spanKey = (s: TraceSpan) => `${s.track}|${s.name}|${s.startNs}|${s.durNs}`;
const sameTrace = runs[0].out.trace.length === runs[1].out.trace.length && runs[0].out.trace.every((s, j) => spanKey(s) === spanKey(runs[1].out.trace[j]));
console.log(`\\n"dma fence wait" spans: ${runs.map((r) => `${r.label} ${r.out.trace.filter((s) => s.name === "dma fence wait").length}`).join(", ")}; ` +
  `the two traces are the same span for span (track, name, start, duration): ${sameTrace}`);
const sleep = runs[1].log.find((c) => c.returnedNs > c.enteredNs);
if (!sleep) throw new Error("the fixed driver's callback did not wait");
const cover = faultCovering(runs[1].out.trace, sleep);
console.log(`fixed: the callback slept ${rel(sleep.enteredNs)}..${rel(sleep.returnedNs)} ns (${sleep.returnedNs - sleep.enteredNs} ns, kernel-model time); ` +
  (cover ? `the trace's cpu fault span ${rel(cover.startNs)}..${rel(cover.startNs + cover.durNs)} (${cover.durNs} ns) covers it` : "no cpu fault span covers it"));"""),
md("""### Its timeline
Each replay's trace (`RunOutput.trace`, the spans a Perfetto trace is made of; variant A's, the finding's, is written
as `figures/09-finding.trace.json`), one panel per driver with one row per track: the scenario's steps, the CPU,
each device, each direction of each PCIe link, from the peer mapping's start. The dashed lines are the times the
scenario gives its events (`at`); the red-outlined span is the violating DMA. The trace is the cost model's account:
in the kernel model a step's work runs at its start (the `cpuRead`'s fault, notifier callbacks and migration begin
at its dashed line, and kernel time moves on only while a callback waits for DMA), and the cost layer then lays
its cost spans end to end from that start: the fault, the notifier round, what is left of the DMA the callbacks
waited for once those are done (`dma fence wait` on the cpu track, none when they outlast it: the DMA runs on
meanwhile), then the migration. A row under the cpu track of each panel is not from the trace: it draws the driver's
invalidate callbacks from its own log, in kernel-model time. The second figure zooms in on the race in kernel-model
time: the NIC's write (from its start to when it touched its page), the `cpuRead` step's start, and the driver's
callbacks from its log, for both drivers."""),
code("""const figures = resolve(process.env[FIGURES_ENV] ?? "figures");
mkdirSync(figures, { recursive: true });
sim.writeChromeTrace(join(figures, "09-finding.trace.json"), finding.trace);
const violation = finding.result.violations[0];
const violatingDma = (finding.result.dma ?? []).find((d) => d.step === violation.step);
const violatingStart = spansA.get(violation.step)?.startNs;
const GROUP_ORDER = ["operations", "devices", "links"];
const trackOf = (s: TraceSpan) => (s.group === "operations" ? "scenario steps" : s.track);
// Both replays' traces from the mapping on, one facet each. A zero-length span (an async DMA step returns
// at once) is drawn 40 ns wide so that it shows.
const bars = runs.flatMap((r, ri) => [...r.out.trace].filter((s) => s.startNs >= t0)
  .sort((x, y) => GROUP_ORDER.indexOf(x.group) - GROUP_ORDER.indexOf(y.group))
  .map((s) => ({
    run: r.label, track: trackOf(s), name: s.group === "operations" ? "scenario step" : s.name,
    x1: (s.startNs - t0) / 1000, x2: (s.startNs - t0 + Math.max(s.durNs, 40)) / 1000,
    violating: ri === 0 && s.group === "devices" && s.track === violation.device && s.name === "dma copy" && s.startNs === violatingStart,
  })));
const events = scenario.steps.flatMap((s, i) => (s.at !== undefined && i > mapStep ? [{ x: (s.at - t0) / 1000, label: `step ${i} ${s.op}` }] : []));
// The driver's invalidate callbacks from its own log, in kernel-model time, one row under the trace's tracks:
// the cost trace has no span for the fixed callback's sleep (the cost layer charges only what is left of the
// write after the fault and notifier round), so the row shows where it happened: under the cpu fault span.
const CALLBACK_ROW = "nic0 callbacks (driver log)", CALLBACK = "invalidate callback (driver log, kernel-model time)";
const callbackBars = runs.flatMap((r) => r.log.filter((c) => c.enteredNs >= t0).map((c) => ({
  run: r.label, track: CALLBACK_ROW, name: CALLBACK,
  x1: (c.enteredNs - t0) / 1000, x2: (c.enteredNs - t0 + Math.max(c.returnedNs - c.enteredNs, 40)) / 1000,
  note: c.returnedNs > c.enteredNs ? `sleeps ${c.returnedNs - c.enteredNs} ns on the fence${faultCovering(r.out.trace, c) ? ", under the cpu fault span" : ""}` : "returns at once",
})));
const traceTracks = [...new Set(bars.map((b) => b.track))], cpuRow = traceTracks.indexOf("cpu") + 1;
const tracks = [...traceTracks.slice(0, cpuRow), CALLBACK_ROW, ...traceTracks.slice(cpuRow)];
// Tableau 10 for the cost spans, near-black for the callbacks from the driver's log.
const TABLEAU10 = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];
const spanNames = [...new Set(bars.map((b) => b.name)), CALLBACK];
show("09-finding-timeline", Plot.plot({
  document: plotDocument(),
  title: `The shrunk finding replayed with each driver (${violation.code} in step ${violation.step} with variant A): trace spans per track`,
  width: 960, height: 120 + 2 * 30 * tracks.length, marginLeft: 170, marginRight: 20, marginTop: 30 + 13 * events.length,
  x: { label: "time since the peer mapping started (µs)", labelAnchor: "center", grid: true },
  y: { domain: tracks, label: null },
  fy: { domain: runs.map((r) => r.label), axis: null },
  color: { legend: true, domain: spanNames, range: spanNames.map((n, i) => (n === CALLBACK ? "#222" : TABLEAU10[i % 10])) },
  marks: [
    Plot.frame({ stroke: "#ddd" }),
    Plot.barX(bars, { x1: "x1", x2: "x2", y: "track", fy: "run", fill: "name", inset: 3 }),
    // The callbacks are short next to the cost spans: drawn without side insets so that they keep their width.
    Plot.barX(callbackBars, { x1: "x1", x2: "x2", y: "track", fy: "run", fill: "name", insetTop: 3, insetBottom: 3 }),
    Plot.text(callbackBars, { x: "x2", y: "track", fy: "run", text: "note", textAnchor: "start", dx: 4, fontSize: 10 }),
    Plot.barX(bars.filter((b) => b.violating), { x1: "x1", x2: "x2", y: "track", fy: "run", stroke: "#d62728", strokeWidth: 2.5, fill: "none" }),
    Plot.text(runs.map((r) => r.label), { fy: (d: string) => d, text: (d: string) => d, frameAnchor: "bottom-right", dx: -6, dy: -6, fontSize: 12, fontWeight: "bold" }),
    Plot.ruleX(events, { x: "x", stroke: "#555", strokeDasharray: "4 3" }),
    // One label line per event, above the first facet, so that events a few hundred ns apart stay readable.
    ...events.map((e, k) => Plot.text([e], { x: "x", fy: () => runs[0].label, text: "label", frameAnchor: "top", dy: -8 - 13 * (events.length - 1 - k), textAnchor: "start", dx: 3, fontSize: 10 })),
  ],
}));
// The zoom: kernel-model time, ns, from the write's start to past its end.
if (!violatingDma || violatingStart === undefined) throw new Error("the violating step is not an asynchronous DMA");
const cpuStep = scenario.steps.findIndex((s, i) => i > violation.step && s.at !== undefined);
const cpuAt = scenario.steps[cpuStep].at ?? 0;
const zoomRows = runs.flatMap((r) => [
  { row: `${r.label}: NIC write (step ${violation.step})`, what: "DMA in flight", x1: violatingStart - t0, x2: violatingDma.endNs - t0, note: "" },
  ...r.log.filter((c) => c.enteredNs >= violatingStart).map((c) => ({
    row: `${r.label}: invalidate callback`, what: c.returnedNs > c.enteredNs ? "callback waiting on the fence" : "callback (returns at once)",
    x1: c.enteredNs - t0, x2: Math.max(c.returnedNs, c.enteredNs + 6) - t0,
    note: c.returnedNs > c.enteredNs ? `waits ${c.returnedNs - c.enteredNs} ns on the fence, then drops ${c.dropped} entry`
      : `returns at once, drops ${c.dropped} entry: the page is migrated and freed now`,
  })),
]);
const zoomDomain = [violatingStart - t0 - 600, violatingDma.endNs - t0 + 350];
show("09-finding-zoom", Plot.plot({
  document: plotDocument(),
  title: "The race in kernel-model time: the NIC's write against the driver's invalidate callback, with and without the wait",
  width: 960, height: 260, marginLeft: 330, marginRight: 20, marginTop: 40,
  x: { domain: zoomDomain, label: "time since the peer mapping started (ns)", labelAnchor: "center", grid: true },
  y: { domain: [...new Set(zoomRows.map((z) => z.row))], label: null },
  color: { legend: true, domain: ["DMA in flight", "callback (returns at once)", "callback waiting on the fence"], range: ["#bab0ac", "#e15759", "#59a14f"] },
  marks: [
    Plot.barX(zoomRows, { x1: "x1", x2: "x2", y: "row", fill: "what", insetTop: 4, insetBottom: 4 }),
    Plot.text(zoomRows.filter((z) => z.note !== ""), { x: "x1", y: "row", text: "note", textAnchor: "end", dx: -6, fontSize: 10 }),
    Plot.ruleX([cpuAt - t0], { stroke: "#555", strokeDasharray: "4 3" }),
    Plot.text([cpuAt - t0], { x: (d: number) => d, text: () => `step ${cpuStep} ${scenario.steps[cpuStep].op}: fault, callbacks, migration`, frameAnchor: "top", dy: -12, textAnchor: "end", dx: -3, fontSize: 10 }),
    Plot.ruleX([violatingDma.endNs - t0], { stroke: "#d62728", strokeWidth: 1.5 }),
    Plot.text([violatingDma.endNs - t0], { x: (d: number) => d, text: () => "the write reaches its page", frameAnchor: "top", dy: -12, textAnchor: "start", dx: 3, fontSize: 10, fill: "#d62728" }),
  ],
}));"""),
md("""**What the interleaving is.** The explorer stopped at its 206th run, a systematic case, and shrank it to a
one-page buffer in `gpu0`'s memory. The NIC's peer mapping is made at +0 (3.0 µs: `BUS_ADDR` through the switch,
bus address `0x10002000000`). At +4523 ns the NIC starts writing 1000 into the page: an asynchronous DMA of 616 ns,
whose engine translated the page when it was issued and reaches it at +5139 ns. At +4988 ns, 151 ns before the
write reaches the page, the CPU reads the page: the fault migrates it back to RAM (`migrate_to_ram`), and that
`MMU_NOTIFY_MIGRATE` round calls the driver's callback. Variant A's callback returns at once (entered and
returned at +4988: it bumps the sequence and drops the page's one entry), so the migration goes on at once: the
page is copied to RAM with its old value 0 and the device page is freed, which empties its BAR slot. At +5139 the
NIC's write arrives at a BAR slot that exposes no page: the safety checker's `empty-bar-slot` violation, and the
value is lost (the CPU reads 0). With the fence wait, the same callback sleeps from +4988 until the write's fence
signals at +5139, and only then drops the entry; the migration copies 1000 to RAM and the CPU reads 1000. The
last `dma` fails with `EFAULT` in both runs, as it should: the invalidation dropped the NIC's entry and nothing
mapped the page again (the kit's NIC takes no page faults of its own).

The two traces are the same span for span, and neither has a `dma fence wait` span. The kit charges a step the
part of its callbacks' wait (`StepEffects.fenceWaitNs`, measured from the step's start) that is left once the
step's work before the callbacks is done, because the DMA runs on meanwhile: here the write had 151 ns left when
the `cpuRead` began, and its fault span alone lasts 1000 ns (+4988..+5988), so nothing is left to charge and the
fixed run ends at +29443 ns like variant A's. The callback's 151 ns sleep (+4988..+5139 in its log) lies under
that fault span, where the first figure's callback row draws it. So the trace shows neither the race nor the wait:
in both panels the write ends during the fault span, and variant A's trace, but for the outline drawn from its
violation, looks like a correct run. The race and the wait are read from kernel-model times: the scenario's `at`,
the DMA's `endNs` in `result.dma`, and the driver's own log of its callbacks, which the second figure draws."""),
md("""## 2 · The fix, explored again
Restoring `dma_fence_wait` in the callback is the fix (the builtin `odp` and mlx5's `ib_umem_odp` do the same: the
callback may sleep until the device's DMA on the range has finished). The explorer runs the fixed driver over
2000 interleavings of the same workload with the same seed: every systematic case (936, fewer than half the runs,
so all of them run), then random cases up to the total."""),
code("""const f = await explore(fixed, { topology: FULL_BAR, workload: WORKLOAD, runs: 2000, seed: 1 });
console.log(`${f.driver} on ${f.client}: ${f.runs} runs (${f.systematic} systematic, ${f.random} random), ${f.distinctStates} distinct states, ` +
  `${f.finding ? "a finding:\\n" + f.finding.message : "no finding"}, ${f.seconds.toFixed(1)} s (${(f.seconds / f.runs * 1000).toFixed(1)} ms per run); every systematic case ran: ${f.systematic < Math.ceil(f.runs / 2)}`);"""),
md("""## 3 · Pinned, ODP and dma-buf when the owner migrates pages
The three designs the kit ships as builtin drivers, on one real machine: the NVIDIA DGX-1 (V100), whose GPU0
(`06:00.0`) and first ConnectX-4 (`05:00.0`) sit below one PLX PEX 8764 switch (nvidia-smi `PIX`, P2PDMA
`BUS_ADDR`: the NIC's DMA into the GPU's BAR turns in the switch). The topology gives the GPUs no ZONE_DEVICE
memory, so a `topologyOverlay` hands GPU0's 32 GiB to the kernel as device-private pages.
- **`pinned`** (nvidia-peermem behind a pinned MR): pins the pages where they are for as long as they are mapped;
  no invalidation is needed because the owner cannot move a pinned page.
- **`odp`** (the kit's builtin ODP, the design of part 1): mirrors the process and follows its moves through the
  notifier; a moved page loses its entry and must be mapped again (here a `peerMap` prefetch after each move,
  standing for the NIC's page faults, which the kit leaves out).
- **`dmabuf`** (a dynamic importer, `ib_umem_dmabuf`): attaches to the buffer's exporter; `move_notify` stops DMA
  and unmaps before the exporter moves it, and the next DMA maps it again wherever it is.

The workload, the same for all three but for ODP's prefetches: a process fills an 8 MiB buffer (2048 pages),
GPU0 migrates it in, the NIC registers it (`peerMap`); then three rounds in which the NIC starts writing the whole
buffer (an `async` DMA), the owner evicts pages 0–1023 to RAM while that write is in flight (`migrateToSystem`), the
NIC reads the whole buffer, and the owner takes pages 0–1023 back (`migrateToDevice`). Then three probes of what
a design forbids, each with its `expect`: the CPU touches pages 0–3, the NIC registers the buffer a second time
(now that pages 0–3 may be in RAM), and after the NIC unmaps, the owner evicts the whole buffer."""),
code("""const DGX = "../data/topologies/nvidia-dgx-1-v100.json";
const GPU = "06:00.0", NIC = "05:00.0";
const PAGES = 2048, HALF = PAGES / 2, ROUNDS = 3;
const DESIGNS = ["pinned", "odp", "dmabuf"] as const;
type Design = (typeof DESIGNS)[number];
const PARTS = ["setup", "mapping", "NIC DMA", "owner migration", "CPU touch"];
type Labeled = { label: string; part: string; step: object };

/** The workload's steps for `design`, each with a label and the part of the work it is. */
function workload(design: Design): Labeled[] {
  const out: Labeled[] = [];
  const add = (part: string, label: string, step: object) => out.push({ part, label, step: { ...step, comment: label } });
  const whole = { device: NIC, buffer: "b" };
  add("setup", "fill the buffer", { op: "mmap", buffer: "b", pages: PAGES, expect: "ok" });
  add("setup", "fill the buffer", { op: "cpuWrite", buffer: "b", value: "index", expect: "ok" });
  add("setup", "GPU migrates it in", { op: "migrateToDevice", device: GPU, buffer: "b", expect: "ok" });
  add("mapping", "NIC registers it", { op: "peerMap", ...whole, expect: "ok" });
  for (let r = 1; r <= ROUNDS; r++) {
    add("NIC DMA", `round ${r}: NIC writes (async)`, { op: "dma", ...whole, value: 100 * r, async: true, expect: "ok" });
    add("owner migration", `round ${r}: owner evicts pages 0-${HALF - 1}`, { op: "migrateToSystem", device: GPU, buffer: "b", first: 0, count: HALF, expect: "ok" });
    if (design === "odp") add("mapping", `round ${r}: ODP prefetch`, { op: "peerMap", ...whole, expect: "ok" });
    add("NIC DMA", `round ${r}: NIC reads`, { op: "dma", ...whole, expect: "ok" });
    add("owner migration", `round ${r}: owner takes them back`, { op: "migrateToDevice", device: GPU, buffer: "b", first: 0, count: HALF, expect: "ok" });
    if (design === "odp") add("mapping", `round ${r}: ODP prefetch again`, { op: "peerMap", ...whole, expect: "ok" });
  }
  add("CPU touch", "probe: CPU reads pages 0-3", { op: "cpuRead", buffer: "b", first: 0, count: 4, expect: design === "pinned" ? "EFAULT" : "ok" });
  add("mapping", "probe: NIC registers it again", { op: "peerMap", ...whole, expect: design === "dmabuf" ? "EINVAL" : "ok" });
  add("mapping", "NIC unmaps", { op: "peerUnmap", ...whole, expect: "ok" });
  add("owner migration", "probe: owner evicts it all", { op: "migrateToSystem", device: GPU, buffer: "b", expect: "ok" });
  return out;
}

const t3 = Date.now();
const compared = DESIGNS.map((design) => {
  const steps = workload(design);
  const out = runScenario(loadScenario({
    description: `The owner migrates pages back and forth while the NIC DMAs: the ${design} design`,
    topology: DGX, topologyOverlay: { devices: { [GPU]: { zoneDevice: "private" } } }, drivers: { [NIC]: design },
    steps: steps.map((s) => s.step),
  }));
  return { design, steps, result: out.result, trace: out.trace };
});
console.log(`3 runs in ${((Date.now() - t3) / 1000).toFixed(1)} s`);
const ms = (ns: number) => (ns / 1e6).toFixed(3);
for (const c of compared) {
  const r = c.result;
  const reads = r.steps.flatMap((s, i) => (s.op === "dma" && s.ok && s.result.values && c.steps[i].label.includes("reads") ? [s.result.values] : []));
  const sawWrites = reads.every((v, k) => v.every((x) => x === 100 * (k + 1)));
  console.log(`${c.design.padEnd(7)} passed ${runPassed(r)} (every step met its expect), ${r.violations.length} violations, simulated ${ms(r.simTimeNs)} ms; ` +
    `each read saw the round's write on all ${PAGES} pages: ${sawWrites}`);
}"""),
md("""### Step by step
Each step's simulated time (`counters.stepTimesNs`, µs) and outcome per design; an owner migration also shows the
pages it really moved (`stepCounters[i].migrations`), and a failed step its errno (expected, as its `expect`
says). The asynchronous write's own step returns at once; its DMA runs on while the owner's eviction starts, and
the eviction lasts until the NIC driver's callback has waited for it (`odp`, `dmabuf`: the pages cannot move
until the NIC is done with them; `pinned`'s eviction moves nothing and calls no callback of the NIC's)."""),
code("""/** Per design, each step's row text by "label (op)": its time in µs, outcome and, for a migration, the pages it moved. */
const cellsOf = (c: (typeof compared)[number]) => new Map(c.steps.map((s, i) => {
  const r = c.result.steps[i];
  const moved = r.op === "migrateToSystem" || r.op === "migrateToDevice" ? `, moved ${c.result.counters.stepCounters[i].migrations}` : "";
  return [`${s.label} (${r.op})`, `${(c.result.counters.stepTimesNs[i] / 1000).toFixed(1).padStart(7)} ${r.ok ? "ok" : r.error.split(":")[0]}${moved}`];
}));
const cells = compared.map(cellsOf);
const rows = [...cells[DESIGNS.indexOf("odp")].keys()];
console.log(`${"step (op)".padEnd(52)} ${DESIGNS.map((d) => `${d}: µs, outcome`.padEnd(27)).join(" ")}`);
for (const key of rows) console.log(`${key.padEnd(52)} ${cells.map((m) => (m.get(key) ?? "      -").padEnd(27)).join(" ")}`);
for (const c of compared) {
  c.result.steps.forEach((s, i) => { if (!s.ok) console.log(`${c.design}, ${c.steps[i].label}: ${s.error}`); });
}"""),
md("""### Time, bytes per link, faults and invalidations
Per design: the run's simulated time, its time per part of the work (the sum of its steps' times), the
asynchronous writes (from each write's start to when it touched its last page, `result.dma`), and the machine's
counters: CPU and device faults (`handle_mm_fault` calls), invalidate callbacks delivered, pages migrated, peer
mappings made (`peerMaps`: entries the NIC's driver set where its table had none, counted as each `peerMap` or
`dma` step ends, so an entry kept from an earlier mapping is not counted again and dma-buf's re-mapping inside its
DMA is), peer mappings dropped and those dropped by invalidation callbacks, and the bytes each PCIe link carried
(`counters.bytesMoved`). Last, for each eviction, how long the round's write still had to run when it started (the
callbacks' wait in kernel-model time, which the `dma fence wait` span carries as `fenceNs`), and the eviction's
time split by its trace spans: the notifier round, the fence wait (what is left of the write after that round,
during which the write ran on) and the rest, the migration."""),
code("""const linkName = (id: string) => id.endsWith(GPU) ? `switch port ↔ GPU ${GPU}` : id.endsWith(NIC) ? `switch port ↔ NIC ${NIC}` : "root port ↔ switch (to RAM)";
const partRows: { design: string; part: string; ms: number }[] = [];
const linkRows: { design: string; link: string; mib: number }[] = [];
for (const c of compared) {
  const r = c.result, k = r.counters;
  const spans = stepSpans(c.trace);
  const asyncWrites = (r.dma ?? []).map((d) => (d.endNs - (spans.get(d.step)?.startNs ?? d.endNs)) / 1e6);
  for (const part of PARTS) {
    const ns = c.steps.reduce((sum, s, i) => sum + (s.part === part ? k.stepTimesNs[i] : 0), 0);
    partRows.push({ design: c.design, part, ms: ns / 1e6 });
  }
  for (const [id, bytes] of Object.entries(k.bytesMoved)) linkRows.push({ design: c.design, link: linkName(id), mib: bytes / 2 ** 20 });
  console.log(`${c.design}: simulated ${ms(r.simTimeNs)} ms = ${PARTS.map((p) => `${p} ${partRows.find((x) => x.design === c.design && x.part === p)!.ms.toFixed(3)}`).join(", ")} ms ` +
    `(steps' sum ${ms(k.stepTimesNs.reduce((x, y) => x + y, 0))} ms); async writes ${asyncWrites.map((x) => x.toFixed(3)).join(", ")} ms`);
  console.log(`  faults ${k.faults}, invalidations ${k.invalidations}, pages migrated ${k.migrations}, peer mappings made ${k.peerMaps}, ` +
    `dropped ${k.peerUnmaps} (by invalidation ${k.peerUnmapsByInvalidation})`);
  console.log(`  bytes: ${Object.entries(k.bytesMoved).map(([id, b]) => `${linkName(id)} ${(b / 2 ** 20).toFixed(2)} MiB`).join(", ")}`);
}
// Each eviction started while the round's write was in flight: how long the write still had to run, and the
// eviction's time by the CPU-track spans the trace gives it: the notifier round, the fence wait (what is left of the
// write once the round is done: the write runs on during it; its args' fenceNs is the kernel model's wait, from the
// step's start), and the rest (the migration).
for (const c of compared) {
  const spans = stepSpans(c.trace);
  const us = (ns: number) => (ns / 1000).toFixed(0);
  const evictions = c.steps.flatMap((s, i) => {
    const write = (c.result.dma ?? []).find((d) => d.step === i - 1), sp = spans.get(i);
    if (!s.label.includes("evicts pages") || !write || !sp) return [];
    const onCpu = (name: string) => c.trace.filter((t) => t.track === "cpu" && t.name === name && t.startNs >= sp.startNs && t.startNs < sp.startNs + sp.durNs);
    const total = (name: string) => onCpu(name).reduce((sum, t) => sum + t.durNs, 0);
    const step = c.result.counters.stepTimesNs[i], notifier = total("mmu notifier"), wait = total("dma fence wait");
    const callbacks = onCpu("mmu notifier").reduce((sum, t) => sum + Number(t.args?.callbacks ?? 0), 0);
    const fenceNs = onCpu("dma fence wait").map((t) => us(Number(t.args?.fenceNs))).join(", ");
    return [`write still running ${us(write.endNs - sp.startNs)} µs (${fenceNs ? `callbacks' wait from the step's start, fenceNs: ${fenceNs} µs` : "no callback waited"}); ` +
      `step ${us(step)} µs = mmu notifier ${us(notifier)} (${callbacks} callbacks) + dma fence wait ${us(wait)} + the rest ${us(step - notifier - wait)}`];
  });
  const distinct = [...new Set(evictions)];
  console.log(`${c.design}: ${distinct.length === 1 ? `each of its ${evictions.length} evictions: ${distinct[0]}` : evictions.join(" | ")}`);
}"""),
md("""### The three runs on one time axis
Each design's run from the NIC's registration on: its steps coloured by part (the top row of each design) and the
NIC's asynchronous writes (the row below), in simulated milliseconds. An `odp` or `dmabuf` eviction starts with the
round's write still in flight and lasts past its end: its callbacks wait for the write before the pages move."""),
code("""const TIMELINE_START = Math.min(...compared.map((c) => stepSpans(c.trace).get(3)?.startNs ?? 0));
const gantt = compared.flatMap((c) => {
  const spans = stepSpans(c.trace);
  const steps = c.steps.flatMap((s, i) => {
    const sp = spans.get(i);
    return sp && sp.startNs >= TIMELINE_START && sp.durNs > 0 ? [{ design: c.design, row: "steps", part: s.part, x1: (sp.startNs - TIMELINE_START) / 1e6, x2: (sp.startNs + sp.durNs - TIMELINE_START) / 1e6 }] : [];
  });
  const writes = (c.result.dma ?? []).map((d) => ({ design: c.design, row: "NIC async write", part: "NIC DMA", x1: ((spans.get(d.step)?.startNs ?? 0) - TIMELINE_START) / 1e6, x2: (d.endNs - TIMELINE_START) / 1e6 }));
  return [...steps, ...writes];
});
const PART_COLORS = ["#bab0ac", "#4e79a7", "#59a14f", "#e15759", "#f28e2b"];
show("09-designs-timeline", Plot.plot({
  document: plotDocument(),
  title: "The same workload under the three designs: the owner evicts half the buffer and takes it back, three times",
  width: 960, height: 330, marginLeft: 110, marginRight: 70,
  x: { label: "simulated time since the NIC's registration (ms)", labelAnchor: "center", grid: true },
  y: { domain: ["steps", "NIC async write"], label: null },
  fy: { domain: [...DESIGNS], label: null },
  color: { legend: true, domain: PARTS, range: PART_COLORS },
  marks: [
    Plot.frame({ stroke: "#ddd" }),
    Plot.barX(gantt, { x1: "x1", x2: "x2", y: "row", fy: "design", fill: "part", insetTop: 3, insetBottom: 3 }),
  ],
}));"""),
code("""const LINKS = ["switch port ↔ NIC " + NIC, "switch port ↔ GPU " + GPU, "root port ↔ switch (to RAM)"];
show("09-designs-links", Plot.plot({
  document: plotDocument(),
  title: "Bytes each PCIe link carried over the whole run, by design",
  width: 960, height: 300, marginLeft: 70, marginRight: 190,
  x: { label: "bytes carried (MiB)", labelAnchor: "center", grid: true, domain: [0, 1.12 * Math.max(...linkRows.map((r) => r.mib))] },
  y: { domain: [...DESIGNS], label: null },
  fy: { domain: LINKS, label: null },
  color: { domain: [...DESIGNS], range: ["#4e79a7", "#f28e2b", "#59a14f"] },
  marks: [
    Plot.barX(linkRows, { x: "mib", y: "design", fy: "link", fill: "design" }),
    Plot.text(linkRows, { x: "mib", y: "design", fy: "link", text: (d: { mib: number }) => `${d.mib.toFixed(1)}`, dx: 18 }),
    Plot.ruleX([0]),
  ],
}));
console.log(`notebook cells ran in ${((Date.now() - notebookStarted) / 1000).toFixed(1)} s`);"""),
md("""## Conclusion
Read from the numbers printed above:
- **Variant A is unsafe, and the explorer shows why in one page.** Its 206th run broke the rules: a systematic
  case (the NIC writing the buffer just after its mapping, a CPU read placed by one of the points where that run's
  driver resumed or its DMA touched a page), shrunk to a one-page buffer and replayed twice with the same result.
  It is an `empty-bar-slot` violation: the NIC's asynchronous write, issued at +4523 ns, reaches the page at
  +5139 ns, while the CPU's fault at +4988 ns ran the callback, which returned at once, and then migrated the page
  to RAM and freed it. The value written (1000) is lost: the CPU reads 0.
- **The fix is the wait, and it holds.** With `dma_fence_wait` in the callback the same scenario keeps the write
  (the callback waits 151 ns, the CPU reads 1000), and 2000 explored runs, every one of the 936 systematic cases
  and 1064 random ones, reaching 381 distinct outcomes, find nothing.
- **The trace shows neither the race nor the wait here.** The two replays' traces are the same span for span, with
  no `dma fence wait` span: the write's last 151 ns run under the `cpuRead`'s 1000 ns fault span, so the cost layer,
  which charges only what is left of the DMA after the fault and notifier round, charges nothing, and both runs
  end at +29443 ns. The kernel-model times (the scenario's `at`, the DMA's `endNs`, the driver's own callback log)
  show both: the write reaching its page at +5139 ns, and the fixed callback sleeping +4988..+5139.
- **Pinned is fastest here because it forbids what the owner asked for.** Under the same workload on the DGX-1,
  `pinned` takes 7.799 ms against 16.975 ms for `odp` and 16.608 ms for `dmabuf`, because none of its six owner
  migrations moved a page (each "succeeds" in 14 µs with 0 pages moved: `migrate_vma` skips pinned pages, and no
  callback waits for the NIC's write), so the NIC always reads the whole buffer through the switch (685 µs) and the
  root-port link carries only the first migration in and the final eviction (16 MiB against 52 MiB). The CPU cannot
  touch a pinned device-private page (`EFAULT`: `migrate_to_ram` cannot move it, so it stays in device memory), and
  the owner evicts the buffer only after the NIC unmaps it (all 2048 pages then).
- **ODP and dma-buf let the owner move pages, and pay for it in time and bytes.** Each eviction moves 1024 pages and
  takes 1536 µs: 28 µs of notifier round (4 callbacks), 658 µs more waiting in the NIC driver's callback for the
  round's write (686 µs still to run when the eviction started, the first 28 of them under the notifier round;
  3 × 658 µs of the run's 16.975 and 16.608 ms), and 850 µs of migration; each return moves 1024 pages in
  874 µs. The NIC then reads half the buffer from RAM through the root port (1236 µs, 1.8× the read through the
  switch). Both move 10240 pages and the same bytes per link (52, 48 and 76 MiB); faults are the CPU's fill in all
  three (2049–2052): the NIC's mapping never faults here.
- **They differ in how they get the mapping back.** ODP drops only the moved pages' entries (6148 peer unmaps by
  invalidation, 44 invalidate callbacks) and maps them again by a prefetch after each move (6 × 54 µs): 8196 peer
  mappings made, the first 2048, 1024 per prefetch and 4 for the second registration. dma-buf drops the whole
  attachment at every `move_notify` (12288, twice ODP's) and maps it again inside its next DMA: 12288 peer mappings
  made, the whole buffer at registration and inside five DMAs. dma-buf forbids a registration that is not one
  exporter's memory: once pages 0–3 were in RAM the second registration failed with `EINVAL`. ODP forbids nothing in
  this workload; its price is a correct callback (part 1).
- **A limit of these times:** the cost layer lays the whole notifier round (one span, 4 callbacks of 7 µs) before
  the wait, as if the NIC's callback ran last. A callback that runs after the NIC's would start only when the write
  ends, so each eviction's 1536 µs may understate it by up to three callbacks (21 µs; 0.06 ms over the run)."""),
]
write("09", cells)
