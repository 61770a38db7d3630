// Wire schemas of everything that is not a lease: health, identity, providers, tokens, sweeps.

import * as z from "zod/mini";
import { ProviderName, ReleaseAction, Timestamp } from "./common";

export const Health = z.object({ ok: z.boolean(), deploymentId: z.string(), version: z.string() });

export const Role = z.enum(["user", "admin"]);
export type Role = z.infer<typeof Role>;

export const Whoami = z.object({ owner: z.string(), role: Role, tokenId: z.string() });
export type Whoami = z.infer<typeof Whoami>;

export const ProviderInfo = z.object({
  name: z.string(),
  configured: z.boolean(),
  capabilities: z.object({
    releaseActions: z.array(ReleaseAction),
    defaultReleaseAction: ReleaseAction,
    route: z.optional(z.enum(["direct", "gateway", "proxy"])),
    readiness: z.enum(["ssh_banner", "adapter"]),
    /** A parked (stopped) machine still bills, e.g. for its disk. */
    stoppedBills: z.optional(z.boolean()),
    resume: z.boolean(),
    requires: z.optional(z.array(z.string())),
    keyHandling: z.string(),
    /** For `proxy` routes: the command the client's ProxyCommand runs and how to log in to it. */
    proxyClient: z.optional(z.object({ command: z.string(), login: z.string() })),
  }),
  defaults: z.object({ type: z.optional(z.string()), region: z.optional(z.string()) }),
});
export const ProviderList = z.object({ providers: z.array(ProviderInfo) });
export type ProviderList = z.infer<typeof ProviderList>;

export const DoctorReport = z.object({
  provider: z.string(),
  ok: z.boolean(),
  checks: z.array(
    z.object({
      name: z.string(),
      status: z.enum(["ok", "warn", "fail"]),
      class: z.optional(z.string()),
      detail: z.string(),
      hint: z.optional(z.string()),
    }),
  ),
});
export type DoctorReport = z.infer<typeof DoctorReport>;

export const Catalog = z.object({
  provider: z.string(),
  entries: z.array(
    z.object({
      type: z.string(),
      description: z.string(),
      priceCentsPerHour: z.optional(z.number()),
      regions: z.array(z.string()),
      gpus: z.optional(z.number()),
      /** Whether the provider shows capacity for it now; absent: the provider does not say. */
      available: z.optional(z.boolean()),
    }),
  ),
});

export const Owner = z.string().check(z.regex(/^[a-z0-9][a-z0-9._@-]{0,63}$/));

/** The owner's usernames at providers that have their own users (Coder), where not the owner name. */
export const ProviderUsers = z.record(ProviderName, z.string().check(z.regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/)));

export const CreateTokenRequest = z.strictObject({
  owner: Owner,
  role: z.optional(Role),
  label: z.optional(z.string().check(z.maxLength(100))),
  providerUsers: z.optional(ProviderUsers),
});
export type CreateTokenRequest = z.infer<typeof CreateTokenRequest>;

export const TokenInfo = z.object({
  id: z.string(),
  owner: z.string(),
  role: Role,
  label: z.optional(z.string()),
  providerUsers: z.optional(ProviderUsers),
  createdAt: Timestamp,
  revokedAt: z.optional(Timestamp),
});
export type TokenInfo = z.infer<typeof TokenInfo>;

/** The secret appears exactly once, in the answer to its creation. */
export const CreatedToken = z.object({ token: z.string(), info: TokenInfo });
export type CreatedToken = z.infer<typeof CreatedToken>;
export const TokenList = z.object({ tokens: z.array(TokenInfo) });
export type TokenList = z.infer<typeof TokenList>;

export const ProviderParam = z.object({ name: ProviderName });

/** GET /v1/admin/config: values of non-secret settings; credentials only as configured/missing. */
export const EffectiveConfig = z.object({
  settings: z.array(z.object({ name: z.string(), value: z.string(), source: z.enum(["set", "default", "unset"]) })),
  credentials: z.array(z.object({ name: z.string(), provider: z.optional(z.string()), status: z.enum(["configured", "missing"]) })),
});
export type EffectiveConfig = z.infer<typeof EffectiveConfig>;
