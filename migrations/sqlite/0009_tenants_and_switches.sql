-- Runs and events belong to a tenant (workflows run for the default tenant), so the REST
-- API can scope history the way it scopes connections.
ALTER TABLE runs ADD COLUMN tenant TEXT NOT NULL DEFAULT 'default';
ALTER TABLE events ADD COLUMN tenant TEXT NOT NULL DEFAULT 'default';
CREATE INDEX runs_by_tenant ON runs (tenant, created_at, id);
CREATE INDEX runs_by_event ON runs (event);
CREATE INDEX events_by_tenant ON events (tenant, id);

-- Workflows switched on or off through the API, overriding the spec's `enabled`
-- (1 = on, 0 = off).
CREATE TABLE workflow_switches (
    workflow    TEXT    PRIMARY KEY,
    enabled     INTEGER NOT NULL CHECK (enabled IN (0, 1)),
    updated_at  INTEGER NOT NULL
) WITHOUT ROWID;
