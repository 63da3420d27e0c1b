-- Cron firings, unique per (workflow, nominal time): a firing is inserted with its run in
-- one transaction, so no restart or second instance fires it twice.
CREATE TABLE cron_firings (
    workflow   TEXT    NOT NULL,
    nominal    INTEGER NOT NULL,
    outcome    TEXT    NOT NULL CHECK (outcome IN ('queued', 'skipped')),
    run_id     TEXT,
    fired_at   INTEGER NOT NULL,
    PRIMARY KEY (workflow, nominal)
) WITHOUT ROWID;

-- Up to which nominal time each schedule's firings were handled (fired or skipped).
CREATE TABLE schedules (
    workflow       TEXT    PRIMARY KEY,
    handled_until  INTEGER NOT NULL
) WITHOUT ROWID;

-- Runs that must wait while another run of their workflow is running (`overlap: queue`).
ALTER TABLE runs ADD COLUMN exclusive INTEGER NOT NULL DEFAULT 0;
