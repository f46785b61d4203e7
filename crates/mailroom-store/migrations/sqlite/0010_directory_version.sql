-- Recipient matching keeps an in-memory index of each organisation's directory. Every directory
-- write bumps this counter in its own transaction, so any server node can tell with one lookup
-- whether its index is still current.
CREATE TABLE directory_version (
    tenant_id BLOB PRIMARY KEY REFERENCES tenant(id),
    version INTEGER NOT NULL
);

-- Loading a whole directory page by page, in id order.
CREATE INDEX person_tenant_id ON person (tenant_id, id);
