-- Recipient matching keeps an in-memory index of each organisation's directory. Every directory
-- write bumps `version` (and, for departments and teams, `departments_version`) in its own
-- transaction, so any server node can tell with one lookup whether its index is still current;
-- each person row keeps the version that last wrote it, so an index can catch up with the people
-- changed since it was built instead of being rebuilt.
CREATE TABLE directory_version (
    tenant_id BLOB PRIMARY KEY REFERENCES tenant(id),
    version INTEGER NOT NULL,
    departments_version INTEGER NOT NULL
);

ALTER TABLE person ADD COLUMN directory_version INTEGER NOT NULL DEFAULT 0;
CREATE INDEX person_directory_version ON person (tenant_id, directory_version);

-- Loading a whole directory page by page, in id order.
CREATE INDEX person_tenant_id ON person (tenant_id, id);
