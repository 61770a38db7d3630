// /v1/leases: the caller's own leases. The Worker authenticates, validates and forwards to
// the lease's own Durable Object; no lifecycle logic lives here.

import * as z from "zod/mini";
import { LEASE_ID_PATTERN, parseDuration } from "../../contract/common";
import { CreateLeaseRequest, GetLeaseQuery, Lease, LeaseEvents, LeaseList, ListLeasesQuery, ReleaseRequest, TouchRequest } from "../../contract/lease";
import { loadConfig } from "../../config";
import { BadCursorError, findBySlug, listLeases } from "../../ledger/leases";
import type { Caller, LeaseResult } from "../../lease/object";
import { slugFor } from "../../lease/slug";
import { ApiError, badRequest, notFound } from "../errors";
import { boundedDuration, newLeaseId, normalizeCreate, requestHash } from "../lease-request";
import { route, type AppContext } from "../route";

const SLUG_PATTERN = /^[a-z]+-[a-z]+-[a-z0-9]{4}$/;
const DEFAULT_WAIT_MS = 25_000;

export function leaseStub(env: Env, id: string) {
  return env.LEASES.get(env.LEASES.idFromName(id));
}

/** The caller's lease id for a path ref (id or slug). Admins (caller null) see every owner. */
export async function resolveLease(c: AppContext, ref: string, caller: Caller): Promise<string> {
  if (LEASE_ID_PATTERN.test(ref)) return ref;
  if (SLUG_PATTERN.test(ref)) {
    const id = await findBySlug(c.env.DB, ref, caller ?? undefined);
    if (id) return id;
  }
  throw notFound();
}

export function answer<T>(c: AppContext, result: LeaseResult<T>, status: 200 | 201 = 200, wrap?: (v: T) => unknown): Response {
  if (!result.ok) throw new ApiError(result.error.status, result.error.code, result.error.message);
  return c.json((wrap ? wrap(result.value) : result.value) as object, status);
}

export async function list(c: AppContext, query: z.infer<typeof ListLeasesQuery>, owner: string | undefined) {
  try {
    const page = await listLeases(c.env.DB, {
      owner,
      state: query.state,
      provider: query.provider,
      live: query.live === undefined ? undefined : query.live === "true",
      limit: query.limit ? Number(query.limit) : 50,
      cursor: query.cursor,
    });
    return c.json(page);
  } catch (err) {
    if (err instanceof BadCursorError) throw badRequest("invalid_request", err.message);
    throw err;
  }
}

const UserListQuery = z.omit(ListLeasesQuery, { owner: true });
const me = (c: AppContext) => c.get("principal").owner;
const LEASE_ERRORS = [400, 401, 404, 409] as const;

export const leaseRoutes = [
  route({
    method: "post",
    path: "/v1/leases",
    summary: "Create a lease (or join it: same id, same request)",
    auth: "user",
    body: CreateLeaseRequest,
    responses: { 201: Lease, 200: Lease },
    errors: [400, 401, 402, 409, 413, 415, 429, 502, 503],
    handler: async (c, { body }) => {
      const id = body.id ?? newLeaseId();
      const { request, adapter, spec, priceCentsPerHour } = await normalizeCreate(c.env, body, { leaseId: id, owner: me(c) }, c.get("principal").providerUsers);
      const caps = adapter.capabilities;
      const result = await leaseStub(c.env, id).create({
        id,
        owner: me(c),
        slug: slugFor(id),
        handle: adapter.handle(spec),
        request,
        requestHash: await requestHash(request),
        createPolicy: { settleMs: caps.createSettleMs, idempotent: caps.idempotentCreate },
        idFromClient: body.id !== undefined,
        // Held in the lease object's memory until its create, never written anywhere.
        userData: body.userData,
        stopIsFree: request.releaseAction === "stop" && !caps.stoppedBills,
        priceCentsPerHour,
      });
      return answer(c, result, result.ok && result.created ? 201 : 200);
    },
  }),
  route({
    method: "get",
    path: "/v1/leases",
    summary: "List the caller's leases, newest first",
    auth: "user",
    query: UserListQuery,
    responses: { 200: LeaseList },
    errors: [400, 401],
    handler: (c, { query }) => list(c, query, me(c)),
  }),
  route({
    method: "get",
    path: "/v1/leases/:ref",
    summary: "Get a lease by id or slug; `wait` long-polls for a state",
    auth: "user",
    query: GetLeaseQuery,
    responses: { 200: Lease },
    errors: [400, 401, 404],
    handler: async (c, { query }) => {
      const id = await resolveLease(c, c.req.param("ref")!, me(c));
      const timeoutMs = query.timeout === undefined ? DEFAULT_WAIT_MS : parseDuration(query.timeout)!;
      if (query.wait && timeoutMs > 30_000) throw new ApiError(400, "duration_out_of_range", "timeout must be at most 30s");
      const wait = query.wait ? { state: query.wait, timeoutMs } : undefined;
      return answer(c, await leaseStub(c.env, id).get(me(c), wait));
    },
  }),
  route({
    method: "post",
    path: "/v1/leases/:ref/ack",
    summary: "Acknowledge a ready lease once the client has connected",
    auth: "user",
    body: z.strictObject({}),
    responses: { 200: Lease },
    errors: [...LEASE_ERRORS],
    handler: async (c) => answer(c, await leaseStub(c.env, await resolveLease(c, c.req.param("ref")!, me(c))).ack(me(c))),
  }),
  route({
    method: "post",
    path: "/v1/leases/:ref/touch",
    summary: "Heartbeat: keep the lease from idling out, optionally changing its idle timeout",
    auth: "user",
    body: TouchRequest,
    responses: { 200: Lease },
    errors: [...LEASE_ERRORS],
    handler: async (c, { body }) => {
      const config = loadConfig(c.env);
      const idle = body.idleTimeout === undefined ? undefined : boundedDuration("idleTimeout", body.idleTimeout, 0, config.maxIdleTimeoutMs, config);
      const id = await resolveLease(c, c.req.param("ref")!, me(c));
      return answer(c, await leaseStub(c.env, id).touch(me(c), idle));
    },
  }),
  route({
    method: "post",
    path: "/v1/leases/:ref/release",
    summary: "Release a lease (idempotent: an ended lease answers with its final state)",
    auth: "user",
    body: ReleaseRequest,
    responses: { 200: Lease },
    errors: [...LEASE_ERRORS],
    handler: async (c, { body }) => {
      const id = await resolveLease(c, c.req.param("ref")!, me(c));
      return answer(c, await leaseStub(c.env, id).release(me(c), { action: body.action, admin: false }));
    },
  }),
  route({
    method: "post",
    path: "/v1/leases/:ref/resume",
    summary: "Start a parked lease's machine again",
    auth: "user",
    body: z.strictObject({}),
    responses: { 200: Lease },
    errors: [...LEASE_ERRORS],
    handler: async (c) => answer(c, await leaseStub(c.env, await resolveLease(c, c.req.param("ref")!, me(c))).resume(me(c))),
  }),
  route({
    method: "get",
    path: "/v1/leases/:ref/events",
    summary: "The lease's event log, oldest first",
    auth: "user",
    responses: { 200: LeaseEvents },
    errors: [401, 404],
    handler: async (c) => {
      const id = await resolveLease(c, c.req.param("ref")!, me(c));
      return answer(c, await leaseStub(c.env, id).events(me(c)), 200, (events) => ({ events }));
    },
  }),
];
