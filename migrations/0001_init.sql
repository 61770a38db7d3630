-- The lease index (list, admin, sweep) and admission caps, plus API tokens.
-- The LeaseObject is the source of truth for a lease; this index follows it on transitions.
CREATE TABLE leases (
  id TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  slug TEXT NOT NULL,
  provider TEXT NOT NULL,
  type TEXT,
  region TEXT,
  state TEXT NOT NULL,
  -- 1 while the lease may hold a machine (counts toward the caps), 0 once terminal.
  live INTEGER NOT NULL DEFAULT 1,
  end_reason TEXT,
  resource_id TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  -- The lease's next alarm as of its last index write: may be early (touches do not write
  -- here), never late, so the sweep's overdue scan only ever pokes too often, never too little.
  next_deadline_at INTEGER
);
CREATE INDEX leases_owner_created ON leases (owner, created_at DESC, id DESC);
CREATE INDEX leases_created ON leases (created_at DESC, id DESC);
CREATE INDEX leases_live_owner ON leases (live, owner);
CREATE INDEX leases_live_due ON leases (live, next_deadline_at);
CREATE INDEX leases_owner_slug ON leases (owner, slug);

CREATE TABLE tokens (
  id TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('user', 'admin')),
  label TEXT,
  -- SHA-256 of the token's secret part, hex. The secret itself is never stored.
  secret_hash TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER
);
CREATE INDEX tokens_owner ON tokens (owner);
