// The BAR aperture's slot reclaim (src/devices/bar-aperture.ts, after nouveau's BAR1 window for
// get_dma_pfn_for_device, hmm-semantics.md §6): when every slot is bound the victim is the least
// recently used slot (a use: an alias handed out, or a peer's access through the BAR) that no peer
// pinned (peer-memory get_pages); a device page given back frees its slot with no reclaim. The LRU
// order (slot-lru.ts) is checked against a scan of every slot's last use, the rule it replaces.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { Machine } from "../src/devices/machine.js";
import { SlotLru } from "../src/devices/slot-lru.js";
import { buildFabric } from "../src/fabric/build.js";
import { Mm } from "../src/memory/address-space.js";
import { ENOSPC } from "../src/memory/errno.js";
import { PAGE_SIZE } from "../src/units/size.js";

/** A deterministic generator in [0, 1) (mulberry32). */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** p2p-three-devices.json with gpu0's memory BAR cut into `slots` 4 KiB slots. */
function machine(slots: number) {
  const t = JSON.parse(readFileSync("data/topologies/p2p-three-devices.json", "utf8"));
  delete t.$schema;
  for (const n of t.nodes) if (n.id === "gpu0") n.bars[1].size = `${slots * 4}KiB`;
  const m = new Machine(buildFabric(t, "test"));
  const ap = m.aperture("gpu0")!;
  const pool = m.devices.get("gpu0")!.device.pool;
  const mm = new Mm(m.mem, "main");
  const page = () => m.mem.frames.alloc(pool);
  /** The device page bound to each slot now (-1: free). */
  const bound = () => Array.from({ length: ap.slots }, (_, s) => ap.peek(s * PAGE_SIZE));
  return { m, ap, mm, page, bound };
}

describe("BAR aperture reclaim: least recently used, pinned slots skipped", () => {
  it("reclaims in order of last use (alias or BAR access), never a pinned slot, and an unpinned one at its old place", () => {
    const { ap, mm, page, bound } = machine(8);
    const f = Array.from({ length: 8 }, page);
    f.forEach((x, i) => expect(ap.aliasFor(x, mm, i)).toBeGreaterThan(0));
    const slot = (x: number) => bound().indexOf(x);
    // Uses after binding: f0 through the BAR, then f2 aliased again; f1 and f3 pinned by a peer.
    expect(ap.access(slot(f[0]) * PAGE_SIZE)).toBe(f[0]);
    ap.aliasFor(f[2], mm, 2);
    ap.pinAlias(f[1], true);
    ap.pinAlias(f[3], true);
    // Order of last use now: f1 f3 f4 f5 f6 f7 f0 f2; without the pinned ones: f4 f5 f6 f7 f0 f2.
    const reclaimedBy = (x: number, vpn: number) => {
      const before = bound();
      expect(ap.aliasFor(x, mm, vpn)).toBeGreaterThan(0);
      const s = bound().indexOf(x);
      return before[s];
    };
    const g = Array.from({ length: 6 }, page);
    expect(g.slice(0, 4).map((x, i) => reclaimedBy(x, 10 + i))).toEqual([f[4], f[5], f[6], f[7]]);
    // f1 unpinned: its last use is older than any other, so it goes next, then f0; f3 stays pinned.
    ap.pinAlias(f[1], false);
    expect([reclaimedBy(g[4], 14), reclaimedBy(g[5], 15)]).toEqual([f[1], f[0]]);
    expect(ap.reclaims).toBe(6);
    expect(bound()).toContain(f[3]);
  });

  it("a page given back frees its slot without a reclaim; with every slot pinned the alias fails -ENOSPC", () => {
    const { m, ap, mm, page, bound } = machine(4);
    const f = Array.from({ length: 4 }, page);
    f.forEach((x, i) => ap.aliasFor(x, mm, i));
    for (const x of f) ap.pinAlias(x, true);
    expect(ap.aliasFor(page(), mm, 9)).toBe(-ENOSPC);
    ap.pinAlias(f[1], false);
    m.mem.frames.put(f[1]); // the device page freed: pageFree unbinds its slot
    expect(bound()).not.toContain(f[1]);
    const g = page();
    expect(ap.aliasFor(g, mm, 10)).toBeGreaterThan(0);
    expect(ap.reclaims).toBe(0);
    expect(bound().sort((x, y) => x - y)).toEqual([f[0], g, f[2], f[3]].sort((x, y) => x - y));
  });

  it("picks the victim a scan of every bound slot's last use picks, over 8000 random aliases, accesses, pins and frees", () => {
    const { m, ap, mm, page, bound } = machine(16);
    const rnd = random(7);
    const last = new Map<number, number>(); // bound device page -> tick of its last use
    const pins = new Map<number, number>();
    let tick = 0;
    let reclaims = 0;
    for (let i = 0; i < 8000; i++) {
      const live = [...last.keys()];
      const pick = live[Math.floor(rnd() * live.length)];
      const r = rnd();
      if (r < 0.35 || live.length === 0) {
        const x = page();
        let victim = -1;
        if (last.size === ap.slots) {
          for (const [y, t] of last) if ((pins.get(y) ?? 0) === 0 && (victim < 0 || t < last.get(victim)!)) victim = y;
        }
        const ret = ap.aliasFor(x, mm, i);
        if (last.size === ap.slots && victim < 0) {
          expect(ret).toBe(-ENOSPC);
          m.mem.frames.put(x);
          continue;
        }
        expect(ret).toBeGreaterThan(0);
        if (victim >= 0) {
          expect(bound()).not.toContain(victim);
          last.delete(victim);
          pins.delete(victim);
          m.mem.frames.put(victim); // back to the pool: its slot is gone already
          reclaims++;
        }
        last.set(x, ++tick);
      } else if (r < 0.55) {
        ap.aliasFor(pick, mm, i);
        last.set(pick, ++tick);
      } else if (r < 0.7) {
        expect(ap.access(bound().indexOf(pick) * PAGE_SIZE)).toBe(pick);
        last.set(pick, ++tick);
      } else if (r < 0.8) {
        ap.pinAlias(pick, true);
        pins.set(pick, (pins.get(pick) ?? 0) + 1);
      } else if (r < 0.93) {
        // Unpin some pinned page (any order), the pins falling to zero in most cases.
        const pinned = [...pins.keys()].filter((y) => pins.get(y)! > 0);
        if (pinned.length === 0) continue;
        const y = pinned[Math.floor(rnd() * pinned.length)];
        ap.pinAlias(y, false);
        pins.set(y, pins.get(y)! - 1);
      } else {
        m.mem.frames.put(pick);
        last.delete(pick);
        pins.delete(pick);
      }
      expect(ap.bound).toBe(last.size);
    }
    expect(ap.reclaims).toBe(reclaims);
    expect(reclaims).toBeGreaterThan(500);
  });
});

describe("SlotLru", () => {
  it("matches the scan of last use when pinned slots are parked and put back in any order", () => {
    const n = 64;
    const lru = new SlotLru();
    lru.grow(8);
    lru.grow(n); // growing keeps the order
    const rnd = random(11);
    const stamp = new Float64Array(n);
    const bound = new Uint8Array(n);
    const pins = new Int32Array(n);
    let tick = 0;
    let victims = 0;
    for (let i = 0; i < 50000; i++) {
      const s = Math.floor(rnd() * n);
      const r = rnd();
      if (r < 0.4) {
        lru.touch(s);
        bound[s] = 1;
        stamp[s] = ++tick;
      } else if (r < 0.5 && bound[s]) {
        lru.drop(s);
        bound[s] = 0;
        pins[s] = 0;
      } else if (r < 0.65 && bound[s]) {
        pins[s]++;
      } else if (r < 0.8 && bound[s] && pins[s] > 0) {
        if (--pins[s] === 0) lru.unpinned(s);
      } else {
        let want = -1;
        for (let k = 0; k < n; k++) if (bound[k] && pins[k] === 0 && (want < 0 || stamp[k] < stamp[want])) want = k;
        const v = lru.victim(pins);
        expect(v).toBe(want);
        if (v >= 0) {
          victims++;
          lru.drop(v); // reclaimed and bound again, as takeSlot does
          lru.touch(v);
          stamp[v] = ++tick;
        }
      }
    }
    expect(victims).toBeGreaterThan(5000);
  });
});
