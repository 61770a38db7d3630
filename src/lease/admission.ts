// What a new lease starts as, and what a refused admission tells its client. Pure: the lease's
// Durable Object (object.ts) persists the record and asks the index (ledger/leases.ts admit) for
// the decision, which is atomic there across the caps and the owner's budget.
import type { ErrorCode } from "../contract/common";
import type { AdmissionResult } from "../ledger/leases";
import { ADMISSION_RETRY_MS } from "./deadlines";
import type { CreateSettlePolicy, LeaseRecord, LeaseRequest } from "./record";

export type LeaseError = { code: ErrorCode; message: string; status: 400 | 402 | 404 | 409 | 429 | 503 };

export interface CreateInput {
  id: string;
  owner: string;
  slug: string;
  handle: string;
  request: LeaseRequest;
  requestHash: string;
  /** The adapter's declared settle policy, recorded so the pure machine can apply it. */
  createPolicy: CreateSettlePolicy;
  /** The client minted the id (and so can retry with it); false when the Worker minted it. */
  idFromClient: boolean;
  /** The client's boot script: kept in this object's memory until the create, never stored. */
  userData?: string;
  /** See LeaseRecord.stopIsFree. */
  stopIsFree?: boolean;
  /** What the lease reserves against its owner's budget per hour (the adapter's estimate). */
  priceCentsPerHour?: number;
}

/** The record a create writes before admission is decided: `requested`, its retry written ahead. */
export function requestedRecord(input: CreateInput, now: number, parkRetentionMs: number): LeaseRecord {
  return {
    id: input.id,
    owner: input.owner,
    slug: input.slug,
    request: input.request,
    requestHash: input.requestHash,
    releaseAction: input.request.releaseAction,
    handle: input.handle,
    createPolicy: input.createPolicy,
    idFromClient: input.idFromClient,
    stopIsFree: input.stopIsFree,
    ...(input.priceCentsPerHour ? { price: { centsPerHour: input.priceCentsPerHour } } : {}),
    state: "requested",
    createdAt: now,
    lastTouchAt: now,
    idleTimeoutMs: input.request.idleTimeoutMs,
    parkRetentionMs,
    // Written ahead: if admission's answer is lost, the alarm asks again.
    pollAt: now + ADMISSION_RETRY_MS,
  };
}

/** A refused admission as the API says it: stable codes, 402 for money, 429 for the caps. */
export function refusal(admission: Extract<AdmissionResult, { admitted: false }>): LeaseError {
  if (admission.scope === "budget") return { code: "budget_exceeded", message: `over budget: ${admission.detail}`, status: 402 };
  const who = admission.scope === "owner" ? "you already hold" : "the coordinator already holds";
  return { code: "quota_exceeded", message: `${who} the maximum of ${admission.limit} live leases`, status: 429 };
}
