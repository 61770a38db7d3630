// D1 side of the orphan sweep: candidate sightings kept between cron runs, and the recorded
// runs admins read. Bulk writes go through json_each so a run costs a handful of statements.

import { SweepRun } from "../contract/sweep";
import type { Sighting } from "../sweep/decide";

/** Recorded runs kept; older ones are dropped when a new one is written. */
export const KEEP_SWEEP_RUNS = 200;
/** Rows read per provider per run. Candidates are our own unclaimed resources: normally a few. */
export const MAX_CANDIDATE_ROWS = 5_000;

export interface CandidateRow extends Sighting {
  resourceId: string;
  lastSeenAt: number;
  attempts: number;
}

interface Row {
  resource_id: string;
  lease_id: string;
  handle: string;
  first_seen_at: number;
  last_seen_at: number;
  reclaim_started_at: number | null;
  attempts: number;
}

export async function loadCandidates(db: D1Database, provider: string): Promise<Map<string, CandidateRow>> {
  const { results } = await db
    .prepare(
      `SELECT resource_id, lease_id, handle, first_seen_at, last_seen_at, reclaim_started_at, attempts
       FROM sweep_candidates WHERE provider = ? ORDER BY first_seen_at LIMIT ?`,
    )
    .bind(provider, MAX_CANDIDATE_ROWS)
    .all<Row>();
  return new Map(
    results.map((r) => [
      r.resource_id,
      {
        resourceId: r.resource_id,
        leaseId: r.lease_id,
        handle: r.handle,
        firstSeenAt: r.first_seen_at,
        lastSeenAt: r.last_seen_at,
        reclaimStartedAt: r.reclaim_started_at ?? undefined,
        attempts: r.attempts,
      },
    ]),
  );
}

export interface SightingChanges {
  /** Unclaimed resources seen now, with the first sighting the verdict kept. */
  seen: { resourceId: string; leaseId: string; handle: string; firstSeenAt: number }[];
  /** Candidates that are claimed again or gone from a complete listing. */
  forget: string[];
  /** Reclaims about to begin: written before the first release step. */
  reclaiming: string[];
}

export async function saveSightings(db: D1Database, provider: string, changes: SightingChanges, now: number): Promise<void> {
  const statements: D1PreparedStatement[] = [];
  if (changes.seen.length) {
    // A changed marker on the same id is a different owner: its reclaim intent does not carry over.
    statements.push(
      db
        .prepare(
          `INSERT INTO sweep_candidates (provider, resource_id, lease_id, handle, first_seen_at, last_seen_at)
           SELECT ?1, json_extract(value, '$.resourceId'), json_extract(value, '$.leaseId'), json_extract(value, '$.handle'),
                  json_extract(value, '$.firstSeenAt'), ?2
           FROM json_each(?3) WHERE true
           ON CONFLICT (provider, resource_id) DO UPDATE SET
             reclaim_started_at = CASE WHEN lease_id = excluded.lease_id AND handle = excluded.handle THEN reclaim_started_at END,
             lease_id = excluded.lease_id, handle = excluded.handle,
             first_seen_at = excluded.first_seen_at, last_seen_at = excluded.last_seen_at`,
        )
        .bind(provider, now, JSON.stringify(changes.seen)),
    );
  }
  if (changes.forget.length) {
    statements.push(
      db
        .prepare("DELETE FROM sweep_candidates WHERE provider = ? AND resource_id IN (SELECT value FROM json_each(?))")
        .bind(provider, JSON.stringify(changes.forget)),
    );
  }
  if (changes.reclaiming.length) {
    statements.push(
      db
        .prepare(
          `UPDATE sweep_candidates SET reclaim_started_at = COALESCE(reclaim_started_at, ?)
           WHERE provider = ? AND resource_id IN (SELECT value FROM json_each(?))`,
        )
        .bind(now, provider, JSON.stringify(changes.reclaiming)),
    );
  }
  if (statements.length) await db.batch(statements);
}

export interface ReclaimResult {
  resourceId: string;
  done: boolean;
  error?: string;
}

/** Done reclaims leave the table; the others count an attempt and keep their last error. */
export async function saveReclaims(db: D1Database, provider: string, results: readonly ReclaimResult[]): Promise<void> {
  if (!results.length) return;
  const done = results.filter((r) => r.done).map((r) => r.resourceId);
  const pending = results.filter((r) => !r.done).map((r) => ({ resourceId: r.resourceId, error: r.error ?? null }));
  await db.batch([
    db.prepare("DELETE FROM sweep_candidates WHERE provider = ? AND resource_id IN (SELECT value FROM json_each(?))").bind(provider, JSON.stringify(done)),
    db
      // The correlated lookup is O(batch²): fine for at most MAX_RECLAIMS_PER_RUN (10) results.
      // (UPDATE … FROM plans worse here: SQLite puts the candidates, not the batch, outside.)
      .prepare(
        `UPDATE sweep_candidates SET attempts = attempts + 1,
           last_error = (SELECT json_extract(value, '$.error') FROM json_each(?2) WHERE json_extract(value, '$.resourceId') = resource_id)
         WHERE provider = ?1 AND resource_id IN (SELECT json_extract(value, '$.resourceId') FROM json_each(?2))`,
      )
      .bind(provider, JSON.stringify(pending)),
  ]);
}

export async function recordRun(db: D1Database, run: SweepRun): Promise<void> {
  await db.batch([
    db
      .prepare("INSERT INTO sweep_runs (id, started_at, finished_at, dry_run, trigger, report) VALUES (?, ?, ?, ?, ?, ?)")
      .bind(run.id, Date.parse(run.startedAt), Date.parse(run.finishedAt), run.dryRun ? 1 : 0, run.trigger, JSON.stringify(run)),
    db
      .prepare("DELETE FROM sweep_runs WHERE id NOT IN (SELECT id FROM sweep_runs ORDER BY started_at DESC, id DESC LIMIT ?)")
      .bind(KEEP_SWEEP_RUNS),
  ]);
}

/** Newest first. A stored report that no longer parses is skipped (and logged), never dumped raw. */
export async function listRuns(db: D1Database, limit: number): Promise<SweepRun[]> {
  const { results } = await db
    .prepare("SELECT id, report FROM sweep_runs ORDER BY started_at DESC, id DESC LIMIT ?")
    .bind(limit)
    .all<{ id: string; report: string }>();
  const runs: SweepRun[] = [];
  for (const row of results) {
    const parsed = SweepRun.safeParse(safeJson(row.report));
    if (parsed.success) runs.push(parsed.data);
    else console.error(`sweep run ${row.id}: stored report does not match the current schema`);
  }
  return runs;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined; // reported by the schema check in listRuns
  }
}
