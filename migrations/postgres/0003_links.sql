-- Linked records (see migrations/sqlite/0011_links.sql).
CREATE TABLE links (
    tenant       TEXT    NOT NULL,
    local_key    TEXT    NOT NULL,
    connection   TEXT    NOT NULL,
    object_type  TEXT    NOT NULL,
    external_id  TEXT    NOT NULL,
    created_at   BIGINT  NOT NULL,
    updated_at   BIGINT  NOT NULL,
    PRIMARY KEY (tenant, local_key, connection),
    UNIQUE (tenant, connection, external_id)
);
