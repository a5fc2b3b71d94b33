// Test support: fast-check arbitraries for random P2P scenarios on data/topologies/p2p-three-devices.json:
// interleavings of touch, migrate, peer map, DMA, evict, munmap, fork and mprotect across gpu0,
// gpu1 and nic0 on one 6-page buffer, every peerMap carrying the driver policy under test.
import fc from "fast-check";
import type { StepSpec } from "../../src/scenario/schema.js";

export const PAGES = 6;
export type Policy = "correct" | "ignoreInvalidation" | "noSeqRecheck" | "lateIovaUnmap";
const GPUS = ["gpu0", "gpu1"] as const;
const CLIENTS = ["nic0", "gpu0", "gpu1"] as const;

const rng = fc.integer({ min: 0, max: PAGES - 1 }).chain((first) =>
  fc.integer({ min: 1, max: PAGES - first }).map((count) => ({ first, count })));

/** One operation, or a short burst (migrate, peer map, DMA over one range) that reaches the peer paths often. */
export function stepArb(policy: Policy): fc.Arbitrary<Array<Record<string, unknown>>> {
  const buffer = "a";
  const burst = fc.tuple(fc.constantFrom(...GPUS), fc.constantFrom(...CLIENTS), rng, fc.boolean()).map(([gpu, device, r, write]) => [
    { op: "migrateToDevice", device: gpu, buffer, ...r },
    { op: "peerMap", device, buffer, ...r, policy },
    write ? { op: "dma", device, buffer, ...r, value: 3 } : { op: "dma", device, buffer, ...r },
  ]);
  const one = fc.oneof(
    rng.map((r) => ({ op: "cpuWrite", buffer, ...r, value: 1 })),
    rng.map((r) => ({ op: "cpuRead", buffer, ...r })),
    fc.tuple(fc.constantFrom(...GPUS), rng).map(([device, r]) => ({ op: "migrateToDevice", device, buffer, ...r })),
    fc.tuple(fc.constantFrom(...GPUS), rng).map(([device, r]) => ({ op: "migrateToSystem", device, buffer, ...r })),
    fc.tuple(fc.constantFrom(...CLIENTS), rng).map(([device, r]) => ({ op: "peerMap", device, buffer, ...r, policy })),
    fc.tuple(fc.constantFrom(...CLIENTS), rng).map(([device, r]) => ({ op: "dma", device, buffer, ...r })),
    fc.tuple(fc.constantFrom(...CLIENTS), rng).map(([device, r]) => ({ op: "dma", device, buffer, ...r, value: 2 })),
    fc.tuple(fc.constantFrom(...CLIENTS), rng).map(([device, r]) => ({ op: "peerUnmap", device, buffer, ...r })),
    fc.constantFrom(...GPUS).map((device) => ({ op: "release", device, buffer })),
    rng.map((r) => ({ op: "munmap", buffer, ...r })),
    fc.constant({ op: "fork", child: "child" }),
    fc.tuple(rng, fc.constantFrom("r", "rw")).map(([r, prot]) => ({ op: "mprotect", buffer, ...r, prot })),
  ).map((s) => [s]);
  return fc.oneof({ arbitrary: one, weight: 3 }, { arbitrary: burst, weight: 1 });
}

/** A scenario: map and fill the buffer, then the random steps. */
export function scenarioArb(policy: Policy, maxSteps = 8): fc.Arbitrary<{ topology: string; steps: StepSpec[] }> {
  return fc.array(stepArb(policy), { minLength: 1, maxLength: maxSteps }).map((groups) => groups.flat()).map((steps) => ({
    topology: "three-devices.json",
    steps: [{ op: "mmap", buffer: "a", pages: PAGES, prot: "rw" }, { op: "cpuWrite", buffer: "a", value: "index" }, ...steps] as StepSpec[],
  }));
}
