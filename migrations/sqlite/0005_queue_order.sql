-- The queue is taken in (created_at, id) order; with `id` in the index the oldest run is
-- read straight from it, without sorting runs created in the same millisecond.
DROP INDEX runs_by_status;
CREATE INDEX runs_by_status ON runs (status, created_at, id);
