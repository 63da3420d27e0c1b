-- Pending OAuth authorizations. `state_hash` is the SHA-256 of the `state` sent to the
-- provider (a database reader cannot forge a callback); the PKCE verifier is sealed.
-- A row is deleted when its callback arrives (single use) or once expired.
CREATE TABLE oauth_states (
    state_hash TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    connector TEXT NOT NULL,
    connection TEXT NOT NULL,
    verifier TEXT,
    redirect_uri TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
