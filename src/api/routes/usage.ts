// /v1/usage and the admin side of spend: an owner's month against its budget, every owner's
// month, and setting an owner's budget.

import { Owner } from "../../contract/meta";
import { AdminUsage, Budget, SetBudgetRequest, Usage, UsageQuery } from "../../contract/usage";
import { loadConfig } from "../../config";
import { everyOwnerUsage, monthNamed, ownerUsage, setBudget } from "../../ledger/budgets";
import { monthAt } from "../../ledger/leases";
import { badRequest } from "../errors";
import { route, type AppContext } from "../route";

const monthOf = (c: AppContext, name: string | undefined) => (name ? monthNamed(name) : monthAt(Date.now()));

export const usageRoutes = [
  route({
    method: "get",
    path: "/v1/usage",
    summary: "The caller's month: spent, still reserved, limits, by lease (`month=YYYY-MM`)",
    auth: "user",
    query: UsageQuery,
    responses: { 200: Usage },
    errors: [400, 401],
    handler: async (c, { query }) => c.json(await ownerUsage(c.env.DB, c.get("principal").owner, monthOf(c, query.month), Date.now(), loadConfig(c.env).budget)),
  }),
  route({
    method: "get",
    path: "/v1/admin/usage",
    summary: "Every owner's month: spent, reserved, live rate and limits",
    auth: "admin",
    query: UsageQuery,
    responses: { 200: AdminUsage },
    errors: [400, 401, 403],
    handler: async (c, { query }) => c.json(await everyOwnerUsage(c.env.DB, monthOf(c, query.month), Date.now(), loadConfig(c.env).budget)),
  }),
  route({
    method: "put",
    path: "/v1/admin/owners/:owner/budget",
    summary: "Set an owner's monthly budget and maximum spend rate, in dollars (null: the default)",
    auth: "admin",
    body: SetBudgetRequest,
    responses: { 200: Budget },
    errors: [400, 401, 403, 413, 415],
    handler: async (c, { body }) => {
      const owner = c.req.param("owner")!;
      if (!Owner.safeParse(owner).success) throw badRequest("invalid_request", "owner must be a crabbox owner name");
      const cents = (dollars: number | null | undefined) => (dollars === undefined || dollars === null ? dollars : Math.round(dollars * 100));
      return c.json(await setBudget(c.env.DB, owner, { monthlyLimitCents: cents(body.monthly), maxRateCentsPerHour: cents(body.ratePerHour) }, Date.now(), loadConfig(c.env).budget));
    },
  }),
];
