// Builds the API's view of a lease from its record: an allow-list, so internal fields
// (handles, adapter data, operations) never reach a client.

import type { Lease } from "../contract/lease";
import { costCents } from "./billing";
import { deadlines } from "./deadlines";
import { currentType, type LeaseRecord } from "./record";

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());

/** `position`: the lease's place in its provider's line, when it is queued and the line said. */
export function leaseView(rec: LeaseRecord, now = Date.now(), position?: number): Lease {
  const d = deadlines(rec);
  const reachable = rec.state === "ready" || rec.state === "active";
  return {
    id: rec.id,
    slug: rec.slug,
    owner: rec.owner,
    provider: rec.request.provider,
    // The type created (or being tried) when several were acceptable.
    type: currentType(rec),
    types: rec.request.types,
    queue: rec.state === "queued" && rec.queue ? { position, waitedSeconds: Math.round((now - rec.queue.since) / 1000), until: iso(rec.queue.until)! } : undefined,
    region: rec.request.region,
    image: rec.request.image,
    state: rec.state,
    releaseAction: rec.releaseAction,
    userData: rec.request.userData,
    tailscale: rec.request.tailscale,
    endReason: rec.endReason,
    failure: rec.failure,
    // A lease that joined the tailnet is also reachable by its slug there (MagicDNS).
    endpoint: reachable && rec.endpoint ? (rec.request.tailscale && rec.endpoint.kind === "ssh" ? { ...rec.endpoint, tailnetHost: rec.slug } : rec.endpoint) : undefined,
    resourceId: rec.resource?.id,
    createdAt: iso(rec.createdAt)!,
    readyAt: iso(rec.readyAt),
    acknowledgedAt: iso(rec.acknowledgedAt),
    lastTouchAt: iso(rec.lastTouchAt),
    endedAt: iso(rec.endedAt),
    ttlSeconds: Math.round(rec.request.ttlMs / 1000),
    idleTimeoutSeconds: Math.round(rec.idleTimeoutMs / 1000),
    ackDeadlineSeconds: Math.round(rec.request.ackDeadlineMs / 1000),
    deadlines: { ack: iso(d.ack), idle: iso(d.idle), ttl: iso(d.ttl), retention: iso(d.retention) },
    priceCentsPerHour: rec.price?.centsPerHour,
    costCents: costCents(rec, now),
  };
}
