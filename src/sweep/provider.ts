// The orphan sweep of one provider: list, keep ours, ask the leases, judge the unclaimed, then
// (unless dry) remember the sightings and reclaim what the verdicts allow. Fails closed.

import type { ProviderSweep, SweepDecision } from "../contract/sweep";
import { loadCandidates, saveReclaims, saveSightings, type CandidateRow, type SightingChanges } from "../ledger/sweeps";
import type { ProviderAdapter } from "../providers/types";
import { askClaims, type ClaimAnswer } from "./claims";
import { judge } from "./decide";
import { unresolvedCreates } from "../ledger/leases";
import { ledgerAttribution } from "./attribution";
import { listOwned, type Listing, type OwnedResource } from "./inventory";
import { MAX_RECLAIMS_PER_RUN, reclaimAll, type ReclaimTarget } from "./reclaim";
import { sweepSideObjects } from "./side-objects";

/** Lease objects asked per provider per run (one RPC each); known candidates are asked first. */
export const MAX_CLAIM_CHECKS_PER_RUN = 500;
/** Decisions kept in a run's record per provider; the counts always cover all of them. */
export const MAX_RECORDED_DECISIONS = 200;

export interface ProviderSweepInput {
  env: Env;
  adapter: ProviderAdapter;
  deploymentId: string;
  now: number;
  graceMs: number;
  dryRun: boolean;
  /** Last line of redaction for provider messages (credentials never reach a report). */
  redact: (text: string) => string;
}

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

export function emptyReport(provider: string): ProviderSweep {
  return {
    provider,
    complete: false,
    seen: 0,
    ours: 0,
    foreign: 0,
    unmarked: 0,
    claimed: 0,
    candidates: 0,
    reclaimable: 0,
    reclaimed: 0,
    failures: 0,
    unchecked: 0,
    decisions: [],
    decisionsOmitted: 0,
  };
}

export async function sweepProvider(input: ProviderSweepInput): Promise<ProviderSweep> {
  const { env, adapter } = input;
  const report = emptyReport(adapter.name);
  const ledger = adapter.capabilities.ownership === "ledger";
  const attribution = ledger ? ledgerAttribution(env, adapter) : undefined;
  const listing = await listOwned(adapter, input.deploymentId, attribution);
  Object.assign(report, { seen: listing.seen, ours: listing.ours.size, foreign: listing.foreign, unmarked: listing.unmarked });
  if (ledger) {
    report.unattributed = listing.unattributed.count;
    report.unattributedSample = listing.unattributed.sample.map((u) => ({ resourceId: u.id, status: u.status, detail: u.detail }));
    report.unresolvedCreates = (await unresolvedCreates(env.DB, adapter.name, MAX_RECORDED_DECISIONS)).map((u) => ({
      leaseId: u.leaseId,
      firstAttemptAt: new Date(u.firstAttemptAt).toISOString(),
      recordedAt: new Date(u.recordedAt).toISOString(),
      detail: input.redact(u.detail),
    }));
  }
  if (!listing.complete) {
    // Fail closed: a partial listing cannot tell "gone" from "not listed yet", so this run
    // neither reclaims nor forgets anything of this provider.
    report.error = input.redact(listing.error ?? "listing incomplete");
    report.failures = 1;
    return report;
  }
  report.complete = true;

  const rows = await loadCandidates(env.DB, adapter.name);
  // Known candidates first, so a budget overflow delays new sightings, never due reclaims.
  const ours = [...listing.ours.values()].sort((a, b) => Number(rows.has(b.id)) - Number(rows.has(a.id)));
  const checked = ours.slice(0, MAX_CLAIM_CHECKS_PER_RUN);
  report.unchecked = ours.length - checked.length;
  const answers = await askClaims(env, checked);

  const judged = judgeAll({ input, report, listing, rows, checked, answers });
  await reclaimDue(input, report, judged);
  report.sideObjects = await sweepSideObjects(input, new Set(ours.map((resource) => resource.handle)));
  if (report.sideObjects.error !== undefined || report.sideObjects.objects.some((o) => o.action === "failed")) report.failures++;
  report.decisions = judged.decisions.slice(0, MAX_RECORDED_DECISIONS);
  report.decisionsOmitted = judged.decisions.length - report.decisions.length;
  return report;
}

interface Pending {
  target: ReclaimTarget;
  decision: SweepDecision;
  /** Sort key: reclaims under way first (-1), then the longest unclaimed. */
  order: number;
}

interface Judged {
  decisions: SweepDecision[];
  changes: SightingChanges;
  reclaims: Pending[];
}

interface JudgeInput {
  input: ProviderSweepInput;
  report: ProviderSweep;
  listing: Listing;
  rows: Map<string, CandidateRow>;
  checked: OwnedResource[];
  answers: ClaimAnswer[];
}

/** Turns the claims answers and the remembered sightings into verdicts; no I/O. */
function judgeAll({ input, report, listing, rows, checked, answers }: JudgeInput): Judged {
  const judged: Judged = { decisions: [], changes: { seen: [], forget: [], reclaiming: [] }, reclaims: [] };
  for (const [i, resource] of checked.entries()) {
    const answer = answers[i]!;
    const row = rows.get(resource.id);
    if ("error" in answer) {
      // Unknown is not "unclaimed": hold, and leave any earlier sighting exactly as it was.
      report.failures++;
      judged.decisions.push(decision(resource, row?.firstSeenAt, "hold", input.redact(`lease ${resource.leaseId} did not answer: ${answer.error}`)));
      continue;
    }
    if (answer.claimed) {
      report.claimed++;
      if (row) judged.changes.forget.push(resource.id);
      continue;
    }
    report.candidates++;
    const verdict = judge(resource, row, input.now, input.graceMs);
    judged.changes.seen.push({ resourceId: resource.id, leaseId: resource.leaseId, handle: resource.handle, firstSeenAt: verdict.firstSeenAt });
    const d = decision(resource, verdict.firstSeenAt, verdict.verdict, verdict.reason);
    judged.decisions.push(d);
    if (verdict.verdict === "reclaim") judged.reclaims.push({ target: target(resource), decision: d, order: verdict.continuing ? -1 : verdict.firstSeenAt });
  }
  for (const row of rows.values()) {
    if (listing.ours.has(row.resourceId)) continue;
    // Gone from a complete listing. A reclaim already under way still finishes: the adapter's
    // teardown may have steps after the machine (Lambda deletes the lease's key last).
    if (row.reclaimStartedAt === undefined) {
      judged.changes.forget.push(row.resourceId);
      continue;
    }
    report.candidates++;
    const d = continuation(row);
    judged.decisions.push(d);
    judged.reclaims.push({ target: { resourceId: row.resourceId, leaseId: row.leaseId, handle: row.handle }, decision: d, order: -1 });
  }
  report.reclaimable = judged.reclaims.length;
  return judged;
}

/** Records the sightings (intent first), then runs the reclaims this run's budget allows. */
async function reclaimDue(input: ProviderSweepInput, report: ProviderSweep, { changes, reclaims }: Judged): Promise<void> {
  const { env, adapter } = input;
  reclaims.sort((a, b) => a.order - b.order);
  const reclaimNow = reclaims.slice(0, MAX_RECLAIMS_PER_RUN);
  for (const { decision: d } of reclaims.slice(MAX_RECLAIMS_PER_RUN)) d.action = "deferred";
  if (input.dryRun) {
    for (const { decision: d } of reclaimNow) d.action = "dry_run";
    return;
  }
  changes.reclaiming = reclaimNow.map((r) => r.target.resourceId);
  await saveSightings(env.DB, adapter.name, changes, input.now);
  const outcomes = await reclaimAll(adapter, reclaimNow.map((r) => r.target), input.deploymentId);
  const results = outcomes.map((outcome, i) => {
    const d = reclaimNow[i]!.decision;
    const error = "error" in outcome ? input.redact(outcome.error) : undefined;
    if (outcome.done) report.reclaimed++;
    if (error !== undefined) report.failures++;
    d.action = outcome.done ? "released" : error !== undefined ? "failed" : "releasing";
    d.detail = error ?? ("detail" in outcome ? outcome.detail : undefined);
    return { resourceId: d.resourceId, done: outcome.done, error };
  });
  await saveReclaims(env.DB, adapter.name, results);
}

function target(resource: OwnedResource): ReclaimTarget {
  return { resourceId: resource.id, leaseId: resource.leaseId, handle: resource.handle };
}

function decision(resource: OwnedResource, firstSeenAt: number | undefined, verdict: SweepDecision["verdict"], reason: string): SweepDecision {
  return {
    resourceId: resource.id,
    leaseId: resource.leaseId,
    handle: resource.handle,
    status: resource.status,
    createdAt: iso(resource.createdAt),
    firstSeenAt: iso(firstSeenAt),
    verdict,
    reason,
    action: "none",
  };
}

function continuation(row: CandidateRow): SweepDecision {
  return {
    resourceId: row.resourceId,
    leaseId: row.leaseId,
    handle: row.handle,
    status: "unlisted",
    firstSeenAt: iso(row.firstSeenAt),
    verdict: "reclaim",
    reason: "reclaim in progress; the resource is no longer listed",
    action: "none",
  };
}
