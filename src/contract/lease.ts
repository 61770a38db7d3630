// Wire schemas of leases: what clients send to create, touch and release one, and the views
// the API answers with (built from these allow-lists, never from stored records).

import * as z from "zod/mini";
import { Duration, LeaseId, ProviderName, ReleaseAction, Timestamp } from "./common";

export const LEASE_STATES = [
  "requested",
  /** Admitted (cap slot and budget held), waiting in line for provider capacity; no machine. */
  "queued",
  "provisioning",
  "ready",
  "active",
  "parked",
  "releasing",
  "released",
  "failed",
] as const;
export const LeaseState = z.enum(LEASE_STATES);
export type LeaseState = z.infer<typeof LeaseState>;

export const END_REASONS = [
  "released_by_user",
  "idle_timeout",
  "ttl_expired",
  "ack_timeout",
  "retention_expired",
  "provisioning_failed",
  "provider_lost",
  "admin",
  /** Parked again: the machine could not get its resources back within the resume deadline. */
  "resume_failed",
  /** Waited in line for capacity as long as the request allowed; nothing was created. */
  "capacity_timeout",
] as const;
export const EndReason = z.enum(END_REASONS);
export type EndReason = z.infer<typeof EndReason>;

const Name = z.string().check(z.minLength(1), z.maxLength(64), z.regex(/^[A-Za-z0-9][A-Za-z0-9._:\/-]*$/));

/** One OpenSSH public key line: algorithm, base64 body, optional comment. Adapters check it too. */
export const OPENSSH_PUBLIC_KEY = /^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)|sk-ssh-ed25519@openssh\.com) [A-Za-z0-9+/]+={0,3}( [^\r\n]{0,256})?$/;

export const SshPublicKey = z.string().check(z.maxLength(8192), z.regex(OPENSSH_PUBLIC_KEY));

/** Acceptable types a request may name. */
export const MAX_TYPES = 5;

/** The API body limit leaves room for this much user data (providers may allow less). */
export const MAX_USER_DATA_CHARS = 48 * 1024;

export const CreateLeaseRequest = z.strictObject({
  /** Client-minted id: the same id with the same request joins the existing lease. */
  id: z.optional(LeaseId),
  provider: ProviderName,
  /** One type, or several acceptable ones in order of preference (the first with capacity wins). */
  type: z.optional(z.union([Name, z.array(Name).check(z.minLength(1), z.maxLength(MAX_TYPES))])),
  region: z.optional(Name),
  image: z.optional(z.string().check(z.minLength(1), z.maxLength(200))),
  sshPublicKey: SshPublicKey,
  /**
   * How long to wait in line when no acceptable type has capacity (bounded by the operator's
   * MAX_CAPACITY_WAIT); without it such a create fails at once.
   */
  waitForCapacity: z.optional(Duration),
  ttl: z.optional(Duration),
  idleTimeout: z.optional(Duration),
  ackDeadline: z.optional(Duration),
  releaseAction: z.optional(ReleaseAction),
  /** Most the machine may cost, in US dollars per hour (marketplaces such as Vast.ai). */
  maxPricePerHour: z.optional(z.number().check(z.positive(), z.lte(1_000))),
  /**
   * Boot script: a cloud-init document or a shell script, run by the machine at boot where the
   * provider has a boot hook. Sent to the provider once; never stored (the lease keeps its hash).
   */
  userData: z.optional(z.string().check(z.minLength(1), z.maxLength(MAX_USER_DATA_CHARS))),
  /** Join the team's tailnet at boot (the operator's TAILSCALE_AUTHKEY), hostname = the slug. */
  tailscale: z.optional(z.boolean()),
  /**
   * Template parameters, for providers whose machines come from a template (Coder's rich
   * parameters): checked against what the template declares before the lease exists.
   */
  parameters: z.optional(z.record(z.string().check(z.regex(/^[A-Za-z0-9_.-]{1,64}$/)), z.string().check(z.maxLength(4096)))),
});
export type CreateLeaseRequest = z.infer<typeof CreateLeaseRequest>;

export const TouchRequest = z.strictObject({
  /** Changes the idle timeout from now on, within the operator's maximum. */
  idleTimeout: z.optional(Duration),
});
export type TouchRequest = z.infer<typeof TouchRequest>;

export const ReleaseRequest = z.strictObject({
  /** Defaults to the action recorded on the lease at creation. */
  action: z.optional(ReleaseAction),
});
export type ReleaseRequest = z.infer<typeof ReleaseRequest>;

export const Endpoint = z.union([
  z.object({
    kind: z.literal("ssh"),
    host: z.string(),
    port: z.number(),
    user: z.string(),
    /** The machine's name on the team's tailnet (MagicDNS), when the lease joined it. */
    tailnetHost: z.optional(z.string()),
  }),
  z.object({
    kind: z.literal("proxy"),
    host: z.string(),
    user: z.string(),
    proxyCommand: z.array(z.string()),
    url: z.optional(z.string()),
  }),
]);
export type Endpoint = z.infer<typeof Endpoint>;

export const Lease = z.object({
  id: LeaseId,
  slug: z.string(),
  owner: z.string(),
  provider: z.string(),
  type: z.optional(z.string()),
  region: z.optional(z.string()),
  image: z.optional(z.string()),
  state: LeaseState,
  releaseAction: ReleaseAction,
  /** What was sent as boot script, by hash and size only. */
  userData: z.optional(z.object({ sha256: z.string(), bytes: z.number() })),
  tailscale: z.optional(z.boolean()),
  endReason: z.optional(EndReason),
  failure: z.optional(z.object({ code: z.string(), message: z.string() })),
  /** Present while the machine is reachable (ready, active). */
  endpoint: z.optional(Endpoint),
  resourceId: z.optional(z.string()),
  createdAt: Timestamp,
  readyAt: z.optional(Timestamp),
  acknowledgedAt: z.optional(Timestamp),
  lastTouchAt: z.optional(Timestamp),
  endedAt: z.optional(Timestamp),
  ttlSeconds: z.number(),
  idleTimeoutSeconds: z.number(),
  ackDeadlineSeconds: z.number(),
  /** The deadlines that currently apply; absent ones do not. */
  deadlines: z.object({
    ack: z.optional(Timestamp),
    idle: z.optional(Timestamp),
    ttl: z.optional(Timestamp),
    retention: z.optional(Timestamp),
  }),
  /** All acceptable types in preference order, when the request named more than one. */
  types: z.optional(z.array(z.string())),
  /** While queued: where the lease stands in its provider's line for capacity. */
  queue: z.optional(
    z.object({
      /** 1 = next to be served. */
      position: z.optional(z.number()),
      waitedSeconds: z.number(),
      /** When the lease gives up waiting (failed, capacity_timeout). */
      until: Timestamp,
    }),
  ),
  /** What the machine costs per hour in US cents (absent: the provider has no price configured). */
  priceCentsPerHour: z.optional(z.number()),
  /** Cents spent so far: from the provider's create until the machine is confirmed gone. */
  costCents: z.number(),
});
export type Lease = z.infer<typeof Lease>;

export const LeaseSummary = z.object({
  id: LeaseId,
  slug: z.string(),
  owner: z.string(),
  provider: z.string(),
  type: z.optional(z.string()),
  region: z.optional(z.string()),
  state: LeaseState,
  endReason: z.optional(z.string()),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  priceCentsPerHour: z.optional(z.number()),
  /** Cents spent so far (from the index: exact for ended leases, up to now for live ones). */
  costCents: z.number(),
});
export type LeaseSummary = z.infer<typeof LeaseSummary>;

export const LeaseList = z.object({
  leases: z.array(LeaseSummary),
  /** Pass as `cursor` to get the next page; absent on the last page. */
  nextCursor: z.optional(z.string()),
});
export type LeaseList = z.infer<typeof LeaseList>;

export const ListLeasesQuery = z.strictObject({
  state: z.optional(LeaseState),
  provider: z.optional(ProviderName),
  /** `live` keeps only leases that still hold (or may hold) a machine. */
  live: z.optional(z.enum(["true", "false"])),
  limit: z.optional(z.string().check(z.regex(/^([1-9][0-9]?|100)$/))),
  cursor: z.optional(z.string().check(z.maxLength(200))),
  owner: z.optional(z.string().check(z.maxLength(64))),
});

export const GetLeaseQuery = z.strictObject({
  /** Long-poll until the lease reaches this state (or a later one), at most `timeout`. */
  wait: z.optional(LeaseState),
  timeout: z.optional(Duration),
});

export const LeaseEvent = z.object({
  seq: z.number(),
  at: Timestamp,
  type: z.string(),
  state: LeaseState,
  message: z.string(),
});
export type LeaseEvent = z.infer<typeof LeaseEvent>;

export const LeaseEvents = z.object({ events: z.array(LeaseEvent) });
export type LeaseEvents = z.infer<typeof LeaseEvents>;
