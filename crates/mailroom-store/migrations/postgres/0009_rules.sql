-- Classification and routing rules: each organisation's rule sets, versioned (the latest is in
-- force), and what the rules decided for an item at intake (routing target, due-by).
CREATE TABLE rule_set (
    tenant_id UUID NOT NULL REFERENCES tenant(id),
    version BIGINT NOT NULL,
    source TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, version)
);

ALTER TABLE item ADD COLUMN route TEXT;
ALTER TABLE item ADD COLUMN due_by TIMESTAMPTZ;
