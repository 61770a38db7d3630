// The orphan sweep's verdict for one unclaimed resource of ours, as a pure function of the
// resource, its earlier sighting and the clock, so dry runs and real runs cannot disagree.

import { formatDuration } from "../contract/common";

/** What the sweep remembers about a candidate between runs (ledger/sweeps.ts). */
export interface Sighting {
  leaseId: string;
  handle: string;
  firstSeenAt: number;
  /** Set once a reclaim began; it then continues until the adapter answers done. */
  reclaimStartedAt?: number;
}

export interface Unclaimed {
  leaseId: string;
  handle: string;
  /** The provider's creation time, when it reports one. */
  createdAt?: number;
}

export interface Verdict {
  verdict: "wait" | "reclaim";
  reason: string;
  /** The sighting to remember: the earlier one when it still applies, else this one. */
  firstSeenAt: number;
  continuing: boolean;
}

const ago = (ms: number) => formatDuration(Math.max(1_000, Math.round(ms / 1_000) * 1_000));

export function judge(resource: Unclaimed, prior: Sighting | undefined, now: number, graceMs: number): Verdict {
  // A sighting under another marker says nothing about this one: ownership starts over.
  const same = prior !== undefined && prior.leaseId === resource.leaseId && prior.handle === resource.handle;
  if (!same) return { verdict: "wait", reason: "first sighting", firstSeenAt: now, continuing: false };
  const firstSeenAt = prior.firstSeenAt;
  if (prior.reclaimStartedAt !== undefined) return { verdict: "reclaim", reason: "reclaim in progress", firstSeenAt, continuing: true };
  const grace = formatDuration(graceMs);
  // Both sightings must be a full grace period apart; a clock that went back only delays this.
  if (now - firstSeenAt < graceMs) {
    return { verdict: "wait", reason: `first seen ${ago(now - firstSeenAt)} ago, grace ${grace}`, firstSeenAt, continuing: false };
  }
  // A deploy mid-create may not have recorded its machine yet: a young resource is left alone
  // even if our first sighting is old (the provider's clock, or a reused id, can disagree).
  if (resource.createdAt !== undefined && now - resource.createdAt < graceMs) {
    const age = now - resource.createdAt;
    const reason = age < 0 ? `created in the future by the provider's clock, grace ${grace}` : `created ${ago(age)} ago, grace ${grace}`;
    return { verdict: "wait", reason, firstSeenAt, continuing: false };
  }
  return { verdict: "reclaim", reason: `unclaimed for ${ago(now - firstSeenAt)}`, firstSeenAt, continuing: false };
}
