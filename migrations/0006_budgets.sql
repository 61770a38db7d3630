-- Spend: what each live lease may still cost (its rate until the end of its reserved window,
-- counted from the point its spend rows account for), what each lease has cost per month, and
-- each owner's budget. Admission checks all three in its one INSERT (ledger/leases.ts).
ALTER TABLE leases ADD COLUMN rate_cents_per_hour REAL NOT NULL DEFAULT 0;
ALTER TABLE leases ADD COLUMN accrued_until INTEGER;
ALTER TABLE leases ADD COLUMN reserved_until INTEGER;
ALTER TABLE leases ADD COLUMN price_cents_per_hour INTEGER;

-- Cents a lease has cost in a month ("YYYY-MM", UTC), up to its row's accrued_until.
CREATE TABLE spend (
  lease_id TEXT NOT NULL,
  owner TEXT NOT NULL,
  month TEXT NOT NULL,
  cents REAL NOT NULL,
  PRIMARY KEY (lease_id, month)
);
CREATE INDEX spend_owner_month ON spend (owner, month);

-- Per-owner limits; NULL falls back to the deployment default (DEFAULT_MONTHLY_BUDGET,
-- DEFAULT_MAX_SPEND_RATE), and no default means no limit.
CREATE TABLE budgets (
  owner TEXT PRIMARY KEY,
  monthly_limit_cents INTEGER,
  max_rate_cents_per_hour INTEGER,
  updated_at INTEGER NOT NULL
);
