-- Ownership without markers (DESIGN.md): the lease index's resource_id is the ledger of every
-- provider resource a lease learned, written as soon as the lease learns it. The sweep looks
-- listed ids up here for providers whose resources carry no marker (fal).
CREATE INDEX leases_provider_resource ON leases (provider, resource_id);

-- A create whose outcome could not be resolved (fal: no replay answered within the idempotency
-- window, and no way to look the resource up): the lease failed closed, and an operator must
-- look. The sweep reports these until an admin has dealt with the account.
CREATE TABLE unresolved_creates (
  lease_id TEXT PRIMARY KEY,
  provider TEXT NOT NULL,
  handle TEXT NOT NULL,
  first_attempt_at INTEGER NOT NULL,
  recorded_at INTEGER NOT NULL,
  detail TEXT NOT NULL
);
CREATE INDEX unresolved_creates_provider ON unresolved_creates (provider, recorded_at DESC);
