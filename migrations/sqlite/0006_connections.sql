-- Connections: one account at a provider. Secret config and OAuth tokens are sealed
-- (AES-256-GCM, `sy1.<key id>.<data>`) with the connection id as associated data; nothing
-- here is a plaintext secret.
CREATE TABLE connections (
    id TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    name TEXT NOT NULL,
    connector TEXT NOT NULL,
    auth_mode TEXT,
    base_url TEXT,
    config TEXT NOT NULL,            -- JSON object of the non-secret config fields
    secrets TEXT,                    -- sealed JSON object of the secret config fields
    tokens TEXT,                     -- sealed JSON of OAuth tokens
    status TEXT NOT NULL,            -- active | error | needs_reauth | disconnected | revoked
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    last_used_at INTEGER,
    last_checked_at INTEGER,
    last_error TEXT,
    error_count INTEGER NOT NULL DEFAULT 0,
    UNIQUE (tenant, name)
);
