-- The PostgreSQL schema: the same tables and columns as the SQLite one (migrations/sqlite),
-- so both backends share their read queries (engine/src/store/reads.rs).
-- Times are Unix milliseconds (BIGINT); JSON documents are TEXT, kept byte for byte as
-- received; flags are 0/1 BIGINTs, as in SQLite.

CREATE TABLE events (
    id           BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant       TEXT    NOT NULL DEFAULT 'default',
    connector    TEXT    NOT NULL,
    connection   TEXT    NOT NULL,
    event_id     TEXT,
    event_type   TEXT,
    payload      TEXT    NOT NULL,
    headers      TEXT    NOT NULL,
    received_at  BIGINT  NOT NULL
);
CREATE INDEX events_by_tenant ON events (tenant, id);

-- (scope, key) seen until expires_at: webhook deliveries per connection, poll items.
CREATE TABLE dedupe_keys (
    scope       TEXT    NOT NULL,
    key         TEXT    NOT NULL,
    expires_at  BIGINT  NOT NULL,
    PRIMARY KEY (scope, key)
);

CREATE TABLE runs (
    id           TEXT    PRIMARY KEY,
    tenant       TEXT    NOT NULL DEFAULT 'default',
    workflow     TEXT    NOT NULL,
    spec_hash    TEXT    NOT NULL,
    status       TEXT    NOT NULL
                 CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
    trigger      TEXT    NOT NULL,
    event        BIGINT  REFERENCES events (id),
    error        TEXT,
    lease_owner  TEXT,
    lease_until  BIGINT,
    created_at   BIGINT  NOT NULL,
    started_at   BIGINT,
    finished_at  BIGINT,
    -- Must wait while another run of its workflow is running (`overlap: queue`).
    exclusive    BIGINT  NOT NULL DEFAULT 0
);
CREATE INDEX runs_by_status ON runs (status, created_at, id);
CREATE INDEX runs_by_workflow ON runs (workflow, created_at);
CREATE INDEX runs_by_workflow_status ON runs (workflow, status);
CREATE INDEX runs_by_tenant ON runs (tenant, created_at, id);
CREATE INDEX runs_by_event ON runs (event);

-- One row per completed (or failed) step: the journal a resumed run reads.
CREATE TABLE steps (
    run_id       TEXT    NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    step_id      TEXT    NOT NULL,
    status       TEXT    NOT NULL CHECK (status IN ('succeeded', 'failed', 'skipped')),
    attempts     BIGINT  NOT NULL,
    output       TEXT,
    error        TEXT,
    started_at   BIGINT  NOT NULL,
    finished_at  BIGINT  NOT NULL,
    PRIMARY KEY (run_id, step_id)
);

-- Cron firings, unique per (workflow, nominal time): a firing is inserted with its run in
-- one transaction, so no restart or second instance fires it twice.
CREATE TABLE cron_firings (
    workflow   TEXT    NOT NULL,
    nominal    BIGINT  NOT NULL,
    outcome    TEXT    NOT NULL CHECK (outcome IN ('queued', 'skipped')),
    run_id     TEXT,
    fired_at   BIGINT  NOT NULL,
    PRIMARY KEY (workflow, nominal)
);

-- Up to which nominal time each schedule's firings were handled (fired or skipped).
CREATE TABLE schedules (
    workflow       TEXT    PRIMARY KEY,
    handled_until  BIGINT  NOT NULL
);

-- Polling triggers: the cursor each workflow's poll has reached, advanced by
-- compare-and-swap with the runs and dedupe keys it creates.
CREATE TABLE poll_state (
    workflow   TEXT    PRIMARY KEY,
    cursor     TEXT,
    polled_at  BIGINT  NOT NULL
);

-- Per-workflow `concurrency`: at most max_running runs of the workflow at once.
CREATE TABLE workflow_limits (
    workflow     TEXT    PRIMARY KEY,
    max_running  BIGINT  NOT NULL CHECK (max_running > 0)
);

-- Workflows switched on or off through the API, overriding the spec's `enabled`.
CREATE TABLE workflow_switches (
    workflow    TEXT    PRIMARY KEY,
    enabled     BIGINT  NOT NULL CHECK (enabled IN (0, 1)),
    updated_at  BIGINT  NOT NULL
);

-- Connections: secret config and OAuth tokens are sealed (AES-256-GCM) with the
-- connection id as associated data; nothing here is a plaintext secret.
CREATE TABLE connections (
    id               TEXT    PRIMARY KEY,
    tenant           TEXT    NOT NULL,
    name             TEXT    NOT NULL,
    connector        TEXT    NOT NULL,
    auth_mode        TEXT,
    base_url         TEXT,
    config           TEXT    NOT NULL,
    secrets          TEXT,
    tokens           TEXT,
    status           TEXT    NOT NULL,
    created_at       BIGINT  NOT NULL,
    updated_at       BIGINT  NOT NULL,
    last_used_at     BIGINT,
    last_checked_at  BIGINT,
    last_error       TEXT,
    error_count      BIGINT  NOT NULL DEFAULT 0,
    UNIQUE (tenant, name)
);

-- Pending OAuth authorizations, by the SHA-256 of their `state`; single use.
CREATE TABLE oauth_states (
    state_hash    TEXT    PRIMARY KEY,
    tenant        TEXT    NOT NULL,
    connector     TEXT    NOT NULL,
    connection    TEXT    NOT NULL,
    verifier      TEXT,
    redirect_uri  TEXT    NOT NULL,
    created_at    BIGINT  NOT NULL,
    expires_at    BIGINT  NOT NULL
);

-- API keys: only the SHA-256 of the secret part is stored.
CREATE TABLE api_keys (
    id           TEXT    PRIMARY KEY,
    tenant       TEXT    NOT NULL,
    scope        TEXT    NOT NULL,
    name         TEXT,
    secret_hash  TEXT    NOT NULL,
    created_at   BIGINT  NOT NULL,
    expires_at   BIGINT,
    revoked_at   BIGINT
);
CREATE INDEX api_keys_by_tenant ON api_keys (tenant);
