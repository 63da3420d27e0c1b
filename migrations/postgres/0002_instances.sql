-- Running `switchyard serve` processes: each writes a heartbeat every few seconds. Runs
-- leased by an instance whose heartbeat stopped are queued again by the others.
CREATE TABLE instances (
    id            TEXT    PRIMARY KEY,
    host          TEXT    NOT NULL,
    version       TEXT    NOT NULL,
    started_at    BIGINT  NOT NULL,
    heartbeat_at  BIGINT  NOT NULL,
    stopped_at    BIGINT
);
CREATE INDEX runs_by_lease_owner ON runs (lease_owner) WHERE status = 'running';
