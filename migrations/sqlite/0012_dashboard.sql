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
