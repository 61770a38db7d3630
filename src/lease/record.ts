// The stored state of one lease inside its LeaseObject. Internal: the API answers with the
// allow-listed view built in view.ts, never with this record.

import type { EndReason, LeaseState } from "../contract/lease";
import type { Endpoint, Price, ReleaseAction, ResourceRef } from "../providers/types";
import type { Billing } from "./billing";

/** What the client asked for, normalised (durations in ms). Its hash decides join vs 409. */
export interface LeaseRequest {
  provider: string;
  /** The preferred type (the first of `types`). */
  type?: string;
  /** Every acceptable type in order of preference, when the request named more than one. */
  types?: string[];
  /** How long the lease may wait in line for capacity; absent: no capacity fails at once. */
  waitForCapacityMs?: number;
  region?: string;
  image?: string;
  sshPublicKey: string;
  ttlMs: number;
  idleTimeoutMs: number;
  ackDeadlineMs: number;
  releaseAction: ReleaseAction;
  maxPricePerHour?: number;
  /** The boot script the client sent, by hash and size: the script itself is never stored. */
  userData?: { sha256: string; bytes: number };
  tailscale?: boolean;
  /** The owner's username at this provider when it is not the owner name (from their token). */
  providerUser?: string;
  /** Template parameters (Coder), as checked against the template before the lease existed. */
  parameters?: Record<string, string>;
}

/**
 * A provider mutation, written ahead of the call. `in_flight` is persisted before the request
 * leaves; finding it again after a restart means the outcome was lost, i.e. ambiguous.
 */
export interface Operation {
  kind: "create" | "release" | "resume";
  /** For release: the action chosen when the release was decided. */
  action?: ReleaseAction;
  status: "due" | "in_flight" | "ambiguous";
  /** Attempts started so far. */
  attempts: number;
  /**
   * Consecutive failed calls. Backoff grows with these only: a successful call (a release
   * step that says "still terminating") resets it, so waiting never inflates the next delay.
   */
  failures?: number;
  /** Create only: attempts whose outcome was ambiguous (the give-up count). */
  ambiguousOutcomes?: number;
  firstAt: number;
  /** When the latest attempt's request left. */
  sentAt?: number;
  /** Earliest time the next attempt may start. */
  nextAt: number;
  lastError?: string;
  /**
   * Release only: a create's outcome was still unknown when the release was decided, so a
   * resource may yet appear under the handle. "Done" is believed only after this time.
   */
  settleUntil?: number;
}

/**
 * How this lease's provider settles an ambiguous create (DESIGN.md "Ambiguity settles"),
 * recorded at creation from the adapter's declaration so the pure machine can apply it.
 */
export interface CreateSettlePolicy {
  /** How long after it was sent an ambiguous create can still surface. */
  settleMs: number;
  /** Replaying the create with the same handle is itself the recovery (fal's Idempotency-Key). */
  idempotent: boolean;
}

export interface LeaseRecord {
  id: string;
  owner: string;
  slug: string;
  request: LeaseRequest;
  requestHash: string;
  /** Recorded at creation so a later configuration change cannot flip stop and destroy. */
  releaseAction: ReleaseAction;
  /** The provider's idempotency handle for this lease: also its ownership marker. */
  handle: string;
  /**
   * The lease's release action is stop and a stopped machine of this provider costs nothing
   * (Coder): the recorded stop is then followed at the TTL and in a failed create's rollback too
   * (the lease parks, is never resumed past its TTL, and its retention ends it) rather than
   * destroying a workspace's disk. Where a stop still bills, those paths destroy.
   */
  stopIsFree?: boolean;
  /** False when the Worker minted the id: then no client can retry with it. */
  idFromClient?: boolean;
  /** Absent on records written before it existed: the machine then uses the default policy. */
  createPolicy?: CreateSettlePolicy;
  /**
   * The first create attempt whose outcome is still unknown: until `until` passes (or the
   * resource is found) the lease never creates anew and never goes terminal.
   */
  unsettled?: { since: number; until: number };
  state: LeaseState;
  endReason?: EndReason;
  failure?: { code: string; message: string };
  createdAt: number;
  provisionStartedAt?: number;
  readyAt?: number;
  acknowledgedAt?: number;
  lastTouchAt: number;
  parkedAt?: number;
  /** When the lease was first parked: retention counts from here and is never reset. */
  firstParkedAt?: number;
  /** While parked: the machine is destroyed when this passes. */
  retainUntil?: number;
  /** While resuming: past this the machine is stopped again and the lease parked (resume_failed). */
  resumeUntil?: number;
  parkRetentionMs: number;
  endedAt?: number;
  idleTimeoutMs: number;
  resource?: ResourceRef;
  endpoint?: Endpoint;
  op?: Operation;
  /** Next provider inspect (provisioning watch, health check, release confirmation). */
  pollAt?: number;
  /** What the D1 index last recorded, so a failed index write is repaired on the next run. */
  indexedState?: LeaseState;
  indexedDeadline?: number | null;
  /** The resource id the index last recorded: the ledger of ids learned must never miss one. */
  indexedResourceId?: string | null;
  /**
   * When the provider first said the machine is gone: one answer may be a transient 404, so a
   * live lease is given up only when a second look, a little later, says the same.
   */
  goneSeenAt?: number;
  /** Consecutive polls that found the machine running but not yet answering SSH. */
  probeFailures?: number;
  /**
   * What the machine costs: reserved at admission from the provider's list price or ceiling,
   * replaced by the exact price when create learns it (a market's chosen offer).
   */
  price?: Price;
  /** What it has cost so far (billing.ts). */
  billing?: Billing;
  /** Which of `request.types` the current create tries (0 when absent). */
  typeIndex?: number;
  /**
   * Waiting in line for capacity: since when (kept across a grant that found none), until when,
   * whether the provider's queue knows the lease, and the type a grant offered.
   */
  queue?: { since: number; until: number; registered: boolean; grantedType?: string };
}

/** The type the lease's current (or last) create is for. */
export function currentType(rec: LeaseRecord): string | undefined {
  return rec.request.types?.[rec.typeIndex ?? 0] ?? rec.request.type;
}

export const TERMINAL_STATES: readonly LeaseState[] = ["released", "failed"];

export function isTerminal(state: LeaseState): boolean {
  return TERMINAL_STATES.includes(state);
}
