-- The sweep loads a provider's candidates oldest first (ORDER BY first_seen_at LIMIT n): without
-- this index SQLite sorts every candidate row in a temporary B-tree on each cron run, a cost
-- that grows faster than the inventory (EXPLAIN QUERY PLAN: "USE TEMP B-TREE FOR ORDER BY").
CREATE INDEX sweep_candidates_first_seen ON sweep_candidates (provider, first_seen_at);
