-- Polling triggers: the cursor each workflow's poll has reached. Advanced with
-- compare-and-swap in the same transaction as the runs and dedupe keys it creates.
CREATE TABLE poll_state (
    workflow   TEXT    PRIMARY KEY,
    cursor     TEXT,
    polled_at  INTEGER NOT NULL
) WITHOUT ROWID;
