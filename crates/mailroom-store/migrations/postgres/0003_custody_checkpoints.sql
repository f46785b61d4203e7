-- Installation-wide keys (the custody signing key). Not tenant data.
CREATE TABLE installation_key (
    name TEXT PRIMARY KEY,
    secret TEXT NOT NULL,
    public_key TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

-- Signed Merkle checkpoints over each organisation's custody log. Append-only.
CREATE TABLE custody_checkpoint (
    tenant_id UUID NOT NULL REFERENCES tenant(id),
    tree_size BIGINT NOT NULL,
    root TEXT NOT NULL,
    head_hash TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL,
    key_id TEXT NOT NULL,
    signature TEXT NOT NULL,
    PRIMARY KEY (tenant_id, tree_size)
);

CREATE FUNCTION custody_checkpoint_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'custody checkpoints are append-only';
END;
$$;

CREATE TRIGGER custody_checkpoint_no_change BEFORE UPDATE OR DELETE ON custody_checkpoint
FOR EACH ROW EXECUTE FUNCTION custody_checkpoint_append_only();
