-- Events received, dedupe keys, runs and their step journal.
-- Times are Unix milliseconds (INTEGER); JSON documents are TEXT.

CREATE TABLE events (
    id           INTEGER PRIMARY KEY,
    connector    TEXT    NOT NULL,
    connection   TEXT    NOT NULL,
    event_id     TEXT,
    event_type   TEXT,
    payload      TEXT    NOT NULL,
    headers      TEXT    NOT NULL,
    received_at  INTEGER NOT NULL
);

-- (scope, key) seen until expires_at: webhook deliveries per connection, poll items.
CREATE TABLE dedupe_keys (
    scope       TEXT    NOT NULL,
    key         TEXT    NOT NULL,
    expires_at  INTEGER NOT NULL,
    PRIMARY KEY (scope, key)
) WITHOUT ROWID;

CREATE TABLE runs (
    id           TEXT    PRIMARY KEY,
    workflow     TEXT    NOT NULL,
    spec_hash    TEXT    NOT NULL,
    status       TEXT    NOT NULL
                 CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
    trigger      TEXT    NOT NULL,
    event        INTEGER REFERENCES events (id),
    error        TEXT,
    lease_owner  TEXT,
    lease_until  INTEGER,
    created_at   INTEGER NOT NULL,
    started_at   INTEGER,
    finished_at  INTEGER
);
CREATE INDEX runs_by_status ON runs (status, created_at);
CREATE INDEX runs_by_workflow ON runs (workflow, created_at);

-- One row per completed (or failed) step: the journal a resumed run reads.
CREATE TABLE steps (
    run_id       TEXT    NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    step_id      TEXT    NOT NULL,
    status       TEXT    NOT NULL CHECK (status IN ('succeeded', 'failed', 'skipped')),
    attempts     INTEGER NOT NULL,
    output       TEXT,
    error        TEXT,
    started_at   INTEGER NOT NULL,
    finished_at  INTEGER NOT NULL,
    PRIMARY KEY (run_id, step_id)
) WITHOUT ROWID;
