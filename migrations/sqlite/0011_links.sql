-- Linked records: which provider object (connection, type, external id) stands for a local
-- record key, so later runs update or delete the same object. One link per (key,
-- connection), one key per (connection, external id).
CREATE TABLE links (
    tenant       TEXT    NOT NULL,
    local_key    TEXT    NOT NULL,
    connection   TEXT    NOT NULL,
    object_type  TEXT    NOT NULL,
    external_id  TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (tenant, local_key, connection),
    UNIQUE (tenant, connection, external_id)
) WITHOUT ROWID;
