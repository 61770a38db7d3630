// CapacityObject: one Durable Object per provider holding the line of leases waiting for
// capacity (first come, first served) and the ONE capacity poll for all of them, at the
// provider's pace (its catalog read goes through the account's pacing point). When the catalog
// shows capacity, the earliest lease that fits is offered its turn and creates at once; a turn
// that finds none keeps the lease's place. Never a poll loop per lease.

import { DurableObject } from "cloudflare:workers";
import { configuredAdapter } from "../providers/registry";
import type { CatalogEntry } from "../providers/types";
import { inOrder, typeToOffer, type LineEntry } from "./line";

/** How often the line asks the provider for capacity while anyone waits. */
export const CAPACITY_POLL_MS = 15_000;

export type TurnOutcome = "taken" | "no_capacity" | "gone";

export function capacityStub(env: Env, provider: string) {
  return env.CAPACITY.get(env.CAPACITY.idFromName(provider));
}

export class CapacityObject extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`CREATE TABLE IF NOT EXISTS line (lease_id TEXT PRIMARY KEY, provider TEXT NOT NULL, types TEXT NOT NULL, region TEXT, since INTEGER NOT NULL, until INTEGER NOT NULL)`);
  }

  now(): number {
    return Date.now();
  }

  private entries(): LineEntry[] {
    return inOrder(
      this.sql.exec<{ lease_id: string; types: string; region: string | null; since: number; until: number }>("SELECT lease_id, types, region, since, until FROM line").toArray().map((r) => ({
        leaseId: r.lease_id,
        types: JSON.parse(r.types) as string[],
        region: r.region ?? undefined,
        since: r.since,
        until: r.until,
      })),
    );
  }

  /** Idempotent by lease: a lease coming back keeps the place it first took. */
  async enqueue(entry: LineEntry & { provider: string }): Promise<void> {
    this.sql.exec(
      "INSERT INTO line (lease_id, provider, types, region, since, until) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (lease_id) DO NOTHING",
      entry.leaseId, entry.provider, JSON.stringify(entry.types), entry.region ?? null, entry.since, entry.until,
    );
    // The first poll soon after someone joins; an earlier alarm stays.
    const at = await this.ctx.storage.getAlarm();
    if (at === null) await this.ctx.storage.setAlarm(this.now());
  }

  async dequeue(leaseId: string): Promise<void> {
    this.sql.exec("DELETE FROM line WHERE lease_id = ?", leaseId);
  }

  /** 1-based place in line, or undefined when the lease is not waiting. */
  async position(leaseId: string): Promise<{ position: number; waiting: number } | undefined> {
    const line = this.entries();
    const index = line.findIndex((e) => e.leaseId === leaseId);
    return index < 0 ? undefined : { position: index + 1, waiting: line.length };
  }

  override async alarm(): Promise<void> {
    await this.poll();
  }

  /**
   * One round: drop who gave up, read the catalog once, offer turns in order. A type whose turn
   * found no capacity is not offered again this round; a turn that created keeps the round going
   * (there may be more).
   */
  async poll(): Promise<void> {
    const now = this.now();
    this.sql.exec("DELETE FROM line WHERE until <= ?", now);
    const line = this.entries();
    if (!line.length) return;
    const provider = this.sql.exec<{ provider: string }>("SELECT provider FROM line LIMIT 1").one().provider;
    try {
      const adapter = configuredAdapter(this.env, provider, "poll");
      const catalog: CatalogEntry[] = adapter ? await adapter.catalog() : [];
      const exhausted = new Set<string>();
      for (const entry of line) {
        const type = typeToOffer(entry, catalog, exhausted);
        if (!type) continue;
        const outcome = await this.offer(entry.leaseId, type);
        if (outcome === "no_capacity") exhausted.add(type);
        else this.sql.exec("DELETE FROM line WHERE lease_id = ?", entry.leaseId);
      }
    } catch (err) {
      console.error(`capacity line ${provider}: poll failed: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      const left = this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM line").one().n;
      if (left > 0) await this.ctx.storage.setAlarm(this.now() + CAPACITY_POLL_MS);
    }
  }

  private async offer(leaseId: string, type: string): Promise<TurnOutcome> {
    const lease = this.env.LEASES.get(this.env.LEASES.idFromName(leaseId));
    return (await lease.capacityFor(type)).outcome;
  }
}
