// /v1/admin: every owner's leases, releasing any of them, and API tokens. Admin tokens only.

import { Lease, LeaseEvents, LeaseList, ListLeasesQuery, ReleaseRequest } from "../../contract/lease";
import { CreatedToken, CreateTokenRequest, EffectiveConfig, TokenInfo, TokenList } from "../../contract/meta";
import { effectiveConfig } from "../../config-view";
import { createToken, listTokens, revokeToken } from "../../ledger/tokens";
import { forgetToken } from "../auth";
import { badRequest, notFound } from "../errors";
import { route } from "../route";
import { answer, leaseStub, list, resolveLease } from "./leases";

export const adminRoutes = [
  route({
    method: "get",
    path: "/v1/admin/config",
    summary: "The effective configuration: non-secret settings with their source; credentials as configured/missing",
    auth: "admin",
    responses: { 200: EffectiveConfig },
    errors: [401, 403],
    handler: async (c) => c.json(effectiveConfig(c.env)),
  }),
  route({
    method: "get",
    path: "/v1/admin/leases",
    summary: "List every owner's leases (filter by owner, state, provider)",
    auth: "admin",
    query: ListLeasesQuery,
    responses: { 200: LeaseList },
    errors: [400, 401, 403],
    handler: (c, { query }) => list(c, query, query.owner),
  }),
  route({
    method: "get",
    path: "/v1/admin/leases/:ref",
    summary: "Any owner's lease",
    auth: "admin",
    responses: { 200: Lease },
    errors: [401, 403, 404],
    handler: async (c) => answer(c, await leaseStub(c.env, await resolveLease(c, c.req.param("ref")!, null)).get(null)),
  }),
  route({
    method: "get",
    path: "/v1/admin/leases/:ref/events",
    summary: "Any owner's lease's event log, oldest first",
    auth: "admin",
    responses: { 200: LeaseEvents },
    errors: [401, 403, 404],
    handler: async (c) => answer(c, await leaseStub(c.env, await resolveLease(c, c.req.param("ref")!, null)).events(null), 200, (events) => ({ events })),
  }),
  route({
    method: "post",
    path: "/v1/admin/leases/:ref/release",
    summary: "Release any owner's lease",
    auth: "admin",
    body: ReleaseRequest,
    responses: { 200: Lease },
    errors: [400, 401, 403, 404, 409],
    handler: async (c, { body }) => {
      const id = await resolveLease(c, c.req.param("ref")!, null);
      return answer(c, await leaseStub(c.env, id).release(null, { action: body.action, admin: true }));
    },
  }),
  route({
    method: "post",
    path: "/v1/admin/tokens",
    summary: "Mint a token; its secret is shown only in this answer",
    auth: "admin",
    body: CreateTokenRequest,
    responses: { 201: CreatedToken },
    errors: [400, 401, 403, 413, 415],
    handler: async (c, { body }) => {
      // "admin" is the bootstrap token's owner: a user token must not share its leases.
      if (body.owner === "admin" && body.role !== "admin") throw badRequest("invalid_request", 'owner "admin" is reserved for admin tokens');
      return c.json(await createToken(c.env.DB, { owner: body.owner, role: body.role ?? "user", label: body.label, providerUsers: body.providerUsers }, Date.now()), 201);
    },
  }),
  route({
    method: "get",
    path: "/v1/admin/tokens",
    summary: "List tokens (never their secrets)",
    auth: "admin",
    responses: { 200: TokenList },
    errors: [401, 403],
    handler: async (c) => c.json({ tokens: await listTokens(c.env.DB) }),
  }),
  route({
    method: "delete",
    path: "/v1/admin/tokens/:id",
    summary: "Revoke a token",
    auth: "admin",
    responses: { 200: TokenInfo },
    errors: [401, 403, 404],
    handler: async (c) => {
      const id = c.req.param("id")!;
      if (!/^[a-z0-9]{16}$/.test(id)) throw notFound("no such token");
      const info = await revokeToken(c.env.DB, id, Date.now());
      if (!info) throw notFound("no such token");
      forgetToken(id);
      return c.json(info);
    },
  }),
];
