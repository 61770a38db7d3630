// Helpers for the sweep tests: run the orphan sweep over the fake cloud only (other providers'
// accounts are shared with other test files), put machines in the account, read decisions.
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, expect, vi } from "vitest";
import type { ProviderSweep, SweepDecision, SweepRun } from "../../../src/contract/sweep";
import { sweepOrphans } from "../../../src/sweep/orphans";
import { call, mintToken, sshPublicKey, useFakeClock } from "../../support/api";
import { driveUntil, inState } from "../../support/drive";
import { fakeAdapter, fakeCloud, type FakeMachine } from "../../support/fake-cloud";

export const DEPLOYMENT = env.CRABBOX_DEPLOYMENT_ID;
export const MINUTE = 60_000;
/** SWEEP_GRACE in wrangler.toml. */
export const GRACE_MS = 10 * MINUTE;

let seq = 0;
/** A lease id no LeaseObject has ever heard of: its record is "lost". */
export const unknownLeaseId = () => `lost${crypto.randomUUID().replace(/-/g, "").slice(0, 10)}${++seq}`.slice(0, 20);

export function handleFor(leaseId: string, deploymentId = DEPLOYMENT): string {
  return fakeAdapter.handle({ leaseId, deploymentId, owner: "nobody", sshPublicKey: "" });
}

/** A running machine marked for `leaseId` of `deploymentId` (default: this deployment). */
export function addMarked(leaseId: string, deploymentId = DEPLOYMENT, createdAt?: number): FakeMachine {
  const machine = fakeCloud.add(handleFor(leaseId, deploymentId), { deploymentId, leaseId }, createdAt ?? Date.now());
  machine.status = "running";
  return machine;
}

export function addUnmarked(name = "someone-elses-box"): FakeMachine {
  const machine = fakeCloud.add(name, undefined);
  machine.status = "running";
  return machine;
}

export async function sweep(dryRun = false): Promise<ProviderSweep> {
  const run = await sweepOrphans(env, Date.now(), { trigger: "admin", dryRun, providers: ["fakecloud"] });
  return fake(run);
}

export function fake(run: SweepRun): ProviderSweep {
  const report = run.providers.find((p) => p.provider === "fakecloud");
  if (!report) throw new Error(`no fakecloud report in ${JSON.stringify(run)}`);
  return report;
}

export function decisionFor(report: ProviderSweep, resourceId: string): SweepDecision | undefined {
  return report.decisions.find((d) => d.resourceId === resourceId);
}

export const releaseCalls = () => fakeCloud.calls.filter((c) => c.op === "release").length;

export interface CandidateRowView {
  resource_id: string;
  first_seen_at: number;
  reclaim_started_at: number | null;
  attempts: number;
  last_error: string | null;
}

export async function candidateRows(): Promise<CandidateRowView[]> {
  const { results } = await env.DB.prepare(
    "SELECT resource_id, first_seen_at, reclaim_started_at, attempts, last_error FROM sweep_candidates ORDER BY resource_id",
  ).all();
  return results as never;
}

/** D1 outlives a single test in this file: every test starts with no sightings and no runs. */
export async function clearSweepState(): Promise<void> {
  await env.DB.batch([env.DB.prepare("DELETE FROM sweep_candidates"), env.DB.prepare("DELETE FROM sweep_runs")]);
}

/** An acknowledged lease on the fake cloud with a long TTL, and its machine's id. */
export async function liveLease(): Promise<{ id: string; token: string; resourceId: string }> {
  const token = await mintToken(`sweeper${++seq}`);
  const res = await call("POST", "/v1/leases", { token, body: { provider: "fakecloud", sshPublicKey: await sshPublicKey(), ttl: "24h" } });
  expect(res.status, res.text).toBe(201);
  const ready = await driveUntil(res.json.id, token, inState("ready"));
  await call("POST", `/v1/leases/${res.json.id}/ack`, { token });
  return { id: res.json.id, token, resourceId: ready.resourceId };
}

/** Every sweep test starts from an empty fake cloud, no sightings and a fake clock. */
export function useSweepFixture(): { clock: ReturnType<typeof useFakeClock> } {
  const fixture = {} as { clock: ReturnType<typeof useFakeClock> };
  beforeEach(async () => {
    fakeCloud.reset();
    fixture.clock = useFakeClock();
    await clearSweepState();
  });
  afterEach(() => vi.useRealTimers());
  return fixture;
}
