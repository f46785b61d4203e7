-- Installation-wide keys (the custody signing key). Not tenant data.
CREATE TABLE installation_key (
    name TEXT PRIMARY KEY,
    secret TEXT NOT NULL,
    public_key TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- Signed Merkle checkpoints over each organisation's custody log. Append-only.
CREATE TABLE custody_checkpoint (
    tenant_id BLOB NOT NULL REFERENCES tenant(id),
    tree_size INTEGER NOT NULL,
    root TEXT NOT NULL,
    head_hash TEXT NOT NULL,
    at TEXT NOT NULL,
    key_id TEXT NOT NULL,
    signature TEXT NOT NULL,
    PRIMARY KEY (tenant_id, tree_size)
);

CREATE TRIGGER custody_checkpoint_no_update BEFORE UPDATE ON custody_checkpoint
BEGIN
    SELECT RAISE(ABORT, 'custody checkpoints are append-only');
END;

CREATE TRIGGER custody_checkpoint_no_delete BEFORE DELETE ON custody_checkpoint
BEGIN
    SELECT RAISE(ABORT, 'custody checkpoints are append-only');
END;
