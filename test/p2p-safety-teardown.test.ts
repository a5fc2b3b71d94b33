// The DMA safety checker beyond aperture reclaim: a broken client policy is caught when the pages
// it keeps mapping go away by migration back to RAM, by munmap, or by fork's copy-on-write
// teardown of the parent's mapping; and RAM frames carry generation counters like device pages
// and BAR slots (memory/frames.ts), so a DMA into a RAM page that was freed and handed out again
// is a "reused" violation. The correct driver zaps in its notifier callback and causes none.
import { describe, expect, it } from "vitest";
import type { RunResult } from "../src/scenario/results.js";
import { runObject } from "./support/run.js";

const run = (steps: unknown[]): RunResult => runObject({ topology: "dmirror", steps });
const codes = (r: RunResult) => r.violations.map((v) => v.code);

/** The client (dmirror1's P2P driver) maps system RAM pages of buffer "a" with `policy`. */
const mapRam = (policy: string) => [
  { op: "mmap", buffer: "a", pages: 4 },
  { op: "cpuWrite", buffer: "a", value: "index" },
  { op: "peerMap", device: "dmirror1", buffer: "a", policy },
];

describe("a DMA into a freed and reused RAM page", () => {
  it("is caught through the frame's generation: the page went to the device and a new copy came back in the same frame", () => {
    const steps = (policy: string) => [
      ...mapRam(policy),
      { op: "migrateToDevice", device: "dmirror0", buffer: "a", count: 1 }, // frees page 0's RAM frame
      { op: "migrateToSystem", device: "dmirror0", buffer: "a", count: 1 }, // hands the same frame (LIFO) back to page 0
      { op: "dma", device: "dmirror1", buffer: "a", value: 99 },
    ];
    const broken = run(steps("ignoreInvalidation"));
    expect(broken.steps[5].ok).toBe(true);
    expect(codes(broken)).toEqual(["reused"]);
    expect(broken.violations[0]).toMatchObject({ step: 5, device: "dmirror1", access: "write" });
    const correct = run(steps("correct"));
    expect(correct.violations).toEqual([]);
    expect(correct.steps[5].ok).toBe(false); // the mapping was zapped: an IOMMU fault, not a violation
  });
});

describe("broken policies are caught whatever takes the pages away", () => {
  it("migration back to RAM: a peer mapping of device pages through the provider's BAR outlives them", () => {
    const steps = (policy: string) => [
      { op: "mmap", buffer: "a", pages: 4 },
      { op: "cpuWrite", buffer: "a", value: "index" },
      { op: "migrateToDevice", device: "dmirror0", buffer: "a" },
      { op: "peerMap", device: "dmirror1", buffer: "a", policy },
      { op: "migrateToSystem", device: "dmirror0", buffer: "a" },
      { op: "dma", device: "dmirror1", buffer: "a" },
    ];
    const broken = run(steps("ignoreInvalidation"));
    expect(broken.violations.length).toBe(4);
    expect(new Set(codes(broken))).toEqual(new Set(["empty-bar-slot"]));
    expect(run(steps("correct")).violations).toEqual([]);
  });

  it("munmap: the freed pages are still reached", () => {
    const steps = (policy: string) => [...mapRam(policy), { op: "munmap", buffer: "a" }, { op: "dma", device: "dmirror1", buffer: "a" }];
    const broken = run(steps("ignoreInvalidation"));
    expect(codes(broken)).toEqual(["freed-page", "freed-page", "freed-page", "freed-page"]);
    expect(run(steps("correct")).violations).toEqual([]);
    // lateIovaUnmap needs an IOMMU to leave a stale IOVA; without one it zaps on time.
    expect(run(steps("lateIovaUnmap")).violations).toEqual([]);
  });

  it("fork teardown: after copy-on-write the parent's address no longer maps the page the device writes", () => {
    const steps = (policy: string) => [
      ...mapRam(policy),
      { op: "fork", child: "c" },
      { op: "cpuWrite", buffer: "a", value: 5 }, // the parent's COW copy: its old pages stay with the child
      { op: "dma", device: "dmirror1", buffer: "a", value: 7 },
      { op: "cpuRead", process: "c", buffer: "a" },
    ];
    const broken = run(steps("ignoreInvalidation"));
    // A write that lands on a page the address no longer maps is lost to the process (ViolationCode "lost-write").
    expect(codes(broken)).toEqual(["lost-write", "lost-write", "lost-write", "lost-write"]);
    // The stale DMA wrote into the child's pages: exactly the corruption the checker reports.
    expect((broken.steps[6] as { result: { values: number[] } }).result.values).toEqual([7, 7, 7, 7]);
    const correct = run(steps("correct"));
    expect(correct.violations).toEqual([]);
    expect((correct.steps[6] as { result: { values: number[] } }).result.values).toEqual([0, 1, 2, 3]);
  });
});
