// The account's pacing arithmetic: documented rates are never exceeded, releases get the next
// permit before creates, polls never queue, and a 429 slows the whole account.
import { describe, expect, it } from "vitest";
import { MAX_QUEUE_MS, reserve, throttle, type PacingPriority, type PacingState, type RateLimits } from "../../../src/pacing/gcra";

const LIMITS: RateLimits = { account: { intervalMs: 1_000, burst: 5 }, launch: { intervalMs: 12_000, burst: 1 } };
const T = 1_000_000;

/** Starts of the granted requests when `count` callers of one priority ask at `now`. */
function grants(state: PacingState, buckets: string[], priority: PacingPriority, count: number, now = T) {
  const starts: number[] = [];
  let refused = 0;
  for (let i = 0; i < count; i++) {
    const d = reserve(state, LIMITS, buckets, priority, now);
    if (!d.granted) {
      refused++;
      continue;
    }
    state = d.state;
    starts.push(now + d.waitMs);
  }
  return { starts, refused, state };
}

describe("permits at the provider's documented rate", () => {
  it("a burst goes at once, then one request per interval", () => {
    const { starts } = grants({}, ["account"], "release", 8);
    expect(starts.map((s) => s - T)).toEqual([0, 0, 0, 0, 0, 1_000, 2_000, 3_000]);
  });

  it("launches are spaced 12 s apart and also count against the account", () => {
    const { starts, refused, state } = grants({}, ["account", "launch"], "release", 3);
    expect(starts.map((s) => s - T)).toEqual([0, 12_000]);
    expect(refused).toBe(1); // the third would wait 24 s, past what even a release queues
    expect(state.account).toBeGreaterThan(T);
  });

  it("never grants more than the rate over any window, whatever the mix", () => {
    let state: PacingState = {};
    const all: number[] = [];
    const priorities: PacingPriority[] = ["poll", "create", "release"];
    for (let now = T; now < T + 60_000; now += 250) {
      for (const priority of priorities) {
        const d = reserve(state, LIMITS, ["account"], priority, now);
        if (d.granted) {
          state = d.state;
          all.push(now + d.waitMs);
        }
      }
    }
    all.sort((a, b) => a - b);
    // GCRA: at most burst + window/interval requests start in any window.
    for (let i = 0; i < all.length; i++) {
      const inWindow = all.filter((s) => s >= all[i]! && s < all[i]! + 10_000).length;
      expect(inWindow).toBeLessThanOrEqual(5 + 10);
    }
  });
});

describe("priorities", () => {
  it("polls never queue; creates queue a little; releases queue longest", () => {
    const busy = grants({}, ["account"], "release", 5 + 7).state; // the next permit is 8 s out
    expect(reserve(busy, LIMITS, ["account"], "poll", T).granted).toBe(false);
    expect(reserve(busy, LIMITS, ["account"], "create", T).granted).toBe(false);
    const release = reserve(busy, LIMITS, ["account"], "release", T);
    expect(release).toMatchObject({ granted: true, waitMs: 8_000 });
  });

  it("under a flood of creates a release still gets a permit within the create queue's length", () => {
    const flooded = grants({}, ["account"], "create", 100);
    expect(flooded.refused).toBeGreaterThan(80);
    const release = reserve(flooded.state, LIMITS, ["account"], "release", T);
    expect(release.granted).toBe(true);
    expect((release as { waitMs: number }).waitMs).toBeLessThanOrEqual(MAX_QUEUE_MS.create + 1_000);
  });

  it("a refusal says when to come back and reserves nothing", () => {
    const busy = grants({}, ["account"], "release", 5 + 7).state;
    const refused = reserve(busy, LIMITS, ["account"], "create", T);
    expect(refused).toEqual({ granted: false, retryAfterMs: 8_000 - MAX_QUEUE_MS.create });
  });
});

describe("a 429 slows the whole account", () => {
  it("nothing goes out on the bucket until Retry-After has passed, at least one interval", () => {
    const slowed = throttle({}, LIMITS, "account", 5_000, T);
    expect(reserve(slowed, LIMITS, ["account"], "release", T)).toMatchObject({ granted: true, waitMs: 5_000 });
    const bare = throttle({}, LIMITS, "launch", 0, T);
    expect(reserve(bare, LIMITS, ["launch"], "release", T)).toMatchObject({ granted: true, waitMs: 12_000 });
  });
});
