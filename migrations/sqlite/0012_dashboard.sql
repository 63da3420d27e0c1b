-- Dashboard accounts and the activity log.
-- Users log in to the dashboard; a user belongs to one tenant. Passwords are Argon2id
-- hashes (PHC strings), never the password.
CREATE TABLE users (
    username       TEXT    PRIMARY KEY,
    tenant         TEXT    NOT NULL,
    password_hash  TEXT    NOT NULL,
    created_at     INTEGER NOT NULL
) WITHOUT ROWID;

-- Browser sessions: the SHA-256 of the cookie's random token (the token itself is only in
-- the cookie), and the per-session CSRF token forms must echo.
CREATE TABLE sessions (
    token_hash  TEXT    PRIMARY KEY,
    username    TEXT    NOT NULL,
    tenant      TEXT    NOT NULL,
    csrf        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_expiry ON sessions (expires_at);

-- What happened besides runs: webhook deliveries refused or duplicated, handshakes, token
-- refreshes, connection checks. Newest first by id.
CREATE TABLE activity (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant      TEXT    NOT NULL,
    at          INTEGER NOT NULL,
    kind        TEXT    NOT NULL,
    connector   TEXT    NOT NULL,
    connection  TEXT    NOT NULL,
    outcome     TEXT    NOT NULL,
    detail      TEXT    NOT NULL
);
CREATE INDEX activity_by_tenant ON activity (tenant, id);
CREATE INDEX activity_by_kind ON activity (tenant, kind, id);

-- What each step was given, shown on the dashboard's run page.
ALTER TABLE steps ADD COLUMN input TEXT;

-- Finished runs counted per (tenant, hour, workflow, status), kept exact by triggers, so
-- the dashboard's overview and workflow pages read a few hundred rows instead of counting
-- a day of runs. `hour` is created_at / 3,600,000.
CREATE TABLE run_stats (tenant TEXT NOT NULL, workflow TEXT NOT NULL, hour INTEGER NOT NULL, status TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (tenant, hour, workflow, status)) WITHOUT ROWID;
INSERT INTO run_stats (tenant, workflow, hour, status, n) SELECT tenant, workflow, created_at / 3600000, status, COUNT(*) FROM runs WHERE status IN ('succeeded', 'failed') GROUP BY tenant, workflow, created_at / 3600000, status;
CREATE TRIGGER run_stats_insert AFTER INSERT ON runs WHEN NEW.status IN ('succeeded', 'failed')
BEGIN
  INSERT INTO run_stats (tenant, workflow, hour, status, n) VALUES (NEW.tenant, NEW.workflow, NEW.created_at / 3600000, NEW.status, 1)
  ON CONFLICT (tenant, hour, workflow, status) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER run_stats_finish AFTER UPDATE OF status ON runs WHEN NEW.status IN ('succeeded', 'failed') AND OLD.status IS NOT NEW.status
BEGIN
  INSERT INTO run_stats (tenant, workflow, hour, status, n) VALUES (NEW.tenant, NEW.workflow, NEW.created_at / 3600000, NEW.status, 1)
  ON CONFLICT (tenant, hour, workflow, status) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER run_stats_unfinish AFTER UPDATE OF status ON runs WHEN OLD.status IN ('succeeded', 'failed') AND OLD.status IS NOT NEW.status
BEGIN
  UPDATE run_stats SET n = n - 1 WHERE tenant = OLD.tenant AND hour = OLD.created_at / 3600000 AND workflow = OLD.workflow AND status = OLD.status;
END;
CREATE TRIGGER run_stats_delete AFTER DELETE ON runs WHEN OLD.status IN ('succeeded', 'failed')
BEGIN
  UPDATE run_stats SET n = n - 1 WHERE tenant = OLD.tenant AND hour = OLD.created_at / 3600000 AND workflow = OLD.workflow AND status = OLD.status;
END;

-- The dashboard's events page counts a day of events by tenant.
CREATE INDEX events_by_tenant_time ON events (tenant, received_at);

-- The runs of one workflow, newest first (the runs page's workflow filter, and each
-- workflow's last run), also for workflows with no runs at all.
CREATE INDEX runs_by_tenant_workflow ON runs (tenant, workflow, created_at, id);
