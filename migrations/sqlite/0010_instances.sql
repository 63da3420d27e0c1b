-- Running `switchyard serve` processes: each writes a heartbeat every few seconds. Runs
-- leased by an instance whose heartbeat stopped are queued again by the others.
CREATE TABLE instances (
    id            TEXT    PRIMARY KEY,
    host          TEXT    NOT NULL,
    version       TEXT    NOT NULL,
    started_at    INTEGER NOT NULL,
    heartbeat_at  INTEGER NOT NULL,
    stopped_at    INTEGER
) WITHOUT ROWID;
CREATE INDEX runs_by_lease_owner ON runs (lease_owner) WHERE status = 'running';
