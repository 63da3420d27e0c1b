-- Dashboard accounts and the activity log (see migrations/sqlite/0012_dashboard.sql).
CREATE TABLE users (
    username       TEXT    PRIMARY KEY,
    tenant         TEXT    NOT NULL,
    password_hash  TEXT    NOT NULL,
    created_at     BIGINT  NOT NULL
);

CREATE TABLE sessions (
    token_hash  TEXT    PRIMARY KEY,
    username    TEXT    NOT NULL,
    tenant      TEXT    NOT NULL,
    csrf        TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL,
    expires_at  BIGINT  NOT NULL
);
CREATE INDEX sessions_expiry ON sessions (expires_at);

CREATE TABLE activity (
    id          BIGSERIAL PRIMARY KEY,
    tenant      TEXT    NOT NULL,
    at          BIGINT  NOT NULL,
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

-- The dashboard's events page counts a day of events by tenant.
CREATE INDEX events_by_tenant_time ON events (tenant, received_at);

-- The runs of one workflow, newest first (see the SQLite migration).
CREATE INDEX runs_by_tenant_workflow ON runs (tenant, workflow, created_at, id);
