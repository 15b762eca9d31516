-- Per-endpoint limits, enforced across all workers in Redis, and the start of
-- an endpoint's current run of failures (for disabling it after a long one).
ALTER TABLE endpoints ADD COLUMN max_concurrency integer; -- NULL: the worker default
ALTER TABLE endpoints ADD COLUMN rate_limit integer;      -- requests per second; NULL: none
ALTER TABLE endpoints ADD COLUMN failing_since timestamptz;
