-- The orphan sweep's memory: recorded runs (for admins) and candidate sightings (the grace
-- period is measured between two sightings, so it must survive from one cron run to the next).
CREATE TABLE sweep_runs (
  id TEXT PRIMARY KEY,
  started_at INTEGER NOT NULL,
  finished_at INTEGER NOT NULL,
  dry_run INTEGER NOT NULL,
  trigger TEXT NOT NULL,
  -- The run as the API answers it (contract/sweep.ts SweepRun), re-validated when read.
  report TEXT NOT NULL
);
CREATE INDEX sweep_runs_started ON sweep_runs (started_at DESC, id DESC);

-- A provider resource with this deployment's marker that no live lease claimed when last seen.
CREATE TABLE sweep_candidates (
  provider TEXT NOT NULL,
  resource_id TEXT NOT NULL,
  lease_id TEXT NOT NULL,
  handle TEXT NOT NULL,
  first_seen_at INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL,
  -- Written ahead of the first release step: from then on the reclaim continues run after run
  -- until the adapter answers done, even once the resource is no longer listed.
  reclaim_started_at INTEGER,
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  PRIMARY KEY (provider, resource_id)
);
