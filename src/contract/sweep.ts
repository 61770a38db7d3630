// Wire schemas of the orphan sweep: what an admin sends to run one, and the recorded runs with
// their per-provider counts and the decision taken for every candidate.

import * as z from "zod/mini";
import { ProviderName, Timestamp } from "./common";

export const SweepRequest = z.strictObject({
  /** Decide exactly as a real run would, but release nothing and record no sightings. */
  dryRun: z.optional(z.boolean()),
  /** Sweep only these configured providers; default: every configured provider. */
  providers: z.optional(z.array(ProviderName).check(z.minLength(1), z.maxLength(16))),
});
export type SweepRequest = z.infer<typeof SweepRequest>;

/** `hold`: the lease's answer is unknown (its object failed to answer), so nothing is decided. */
export const SweepVerdict = z.enum(["wait", "reclaim", "hold"]);
export type SweepVerdict = z.infer<typeof SweepVerdict>;

/**
 * What was done about the verdict. `released`: the adapter confirmed the teardown. `releasing`:
 * teardown started and continues next run. `deferred`: over this run's reclaim budget.
 * `dry_run`: a reclaim a real run would have started.
 */
export const SweepAction = z.enum(["none", "released", "releasing", "failed", "deferred", "dry_run"]);
export type SweepAction = z.infer<typeof SweepAction>;

export const SweepDecision = z.object({
  resourceId: z.string(),
  leaseId: z.string(),
  handle: z.string(),
  /** The provider's status word, or `unlisted` for a reclaim continuing after the resource left the listing. */
  status: z.string(),
  createdAt: z.optional(Timestamp),
  firstSeenAt: z.optional(Timestamp),
  verdict: SweepVerdict,
  reason: z.string(),
  action: SweepAction,
  detail: z.optional(z.string()),
});
export type SweepDecision = z.infer<typeof SweepDecision>;

/**
 * This deployment's side objects (key objects, Secrets). `stranded`: their lease is not live and
 * no machine of ours carries their handle. `removed` this run; `reported`: the index does not know
 * the lease, so they are left for an operator.
 */
export const SideObjectsReport = z.object({
  listed: z.number(),
  stranded: z.number(),
  removed: z.number(),
  objects: z.array(
    z.object({
      kind: z.string(),
      id: z.string(),
      leaseId: z.string(),
      action: z.enum(["removed", "failed", "deferred", "dry_run", "reported"]),
      detail: z.optional(z.string()),
    }),
  ),
  /** The side objects could not be listed (then none were removed). */
  error: z.optional(z.string()),
});
export type SideObjectsReport = z.infer<typeof SideObjectsReport>;

export const ProviderSweep = z.object({
  provider: z.string(),
  /** False when the inventory could not be listed completely: then nothing was reclaimed. */
  complete: z.boolean(),
  error: z.optional(z.string()),
  /** Every resource listed. */
  seen: z.number(),
  /** With this deployment's marker. */
  ours: z.number(),
  /** With another deployment's marker: never touched. */
  foreign: z.number(),
  /** Without a crabbox marker: never touched. */
  unmarked: z.number(),
  /** Ours and claimed by a live lease. */
  claimed: z.number(),
  /** Ours and claimed by no live lease (plus reclaims continuing from earlier runs). */
  candidates: z.number(),
  /** Candidates whose verdict was reclaim. */
  reclaimable: z.number(),
  /** Candidates whose teardown the adapter confirmed in this run. */
  reclaimed: z.number(),
  failures: z.number(),
  /** Ours but not asked about in this run (over the per-run budget); the next run gets to them. */
  unchecked: z.number(),
  decisions: z.array(SweepDecision),
  /** Decisions left out of `decisions` to keep the record bounded. */
  decisionsOmitted: z.number(),
  /**
   * Providers without markers (fal): resources no lease of this deployment recorded. Reported,
   * never touched, unless the operator declared the account dedicated (then they are candidates).
   */
  unattributed: z.optional(z.number()),
  unattributedSample: z.optional(z.array(z.object({ resourceId: z.string(), status: z.string(), detail: z.optional(z.string()) }))),
  /** Creates that could not be resolved (the lease failed closed): an operator should look. */
  unresolvedCreates: z.optional(z.array(z.object({ leaseId: z.string(), firstAttemptAt: Timestamp, recordedAt: Timestamp, detail: z.string() }))),
  /** Absent when the machines could not be listed completely (nothing is judged then). */
  sideObjects: z.optional(SideObjectsReport),
});
export type ProviderSweep = z.infer<typeof ProviderSweep>;

export const SweepRun = z.object({
  id: z.string(),
  trigger: z.enum(["cron", "admin"]),
  dryRun: z.boolean(),
  startedAt: Timestamp,
  finishedAt: Timestamp,
  graceSeconds: z.number(),
  providers: z.array(ProviderSweep),
});
export type SweepRun = z.infer<typeof SweepRun>;

export const SweepRunList = z.object({ sweeps: z.array(SweepRun) });
export type SweepRunList = z.infer<typeof SweepRunList>;

export const ListSweepsQuery = z.strictObject({
  limit: z.optional(z.string().check(z.regex(/^([1-9][0-9]?|100)$/))),
});
