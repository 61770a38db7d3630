// A lease record as the LeaseObject stores it, for tests of the pure lease machine: requested
// at T by alice, a 2 h TTL, 30 min idle, 2 min ack, destroy on release, 7 d park retention.
import type { LeaseRecord } from "../../src/lease/record";

export const T = 1_900_000_000_000;
export const MIN = 60_000;

export function leaseRecord(overrides: Partial<LeaseRecord> = {}): LeaseRecord {
  return {
    id: "abcdefghijkl0001",
    owner: "alice",
    slug: "brave-crab-0001",
    request: { provider: "fake", sshPublicKey: "ssh-ed25519 AAAA", ttlMs: 120 * MIN, idleTimeoutMs: 30 * MIN, ackDeadlineMs: 2 * MIN, releaseAction: "destroy" },
    requestHash: "h",
    releaseAction: "destroy",
    handle: "crabbox-dep-abcdefghijkl0001",
    state: "requested",
    createdAt: T,
    lastTouchAt: T,
    idleTimeoutMs: 30 * MIN,
    parkRetentionMs: 7 * 24 * 60 * MIN,
    ...overrides,
  };
}
