-- Encryption at rest and retention.

-- One row per master key id this database has seen: a value only that key can produce, so a
-- different key configured under a known id is refused. Not tenant data.
CREATE TABLE master_key (
    id TEXT PRIMARY KEY,
    check_value BLOB NOT NULL,
    created_at TEXT NOT NULL
);

-- Data keys: random keys wrapped by a master key, one per organisation, retention category and
-- period. Shredding sets `shredded_at` and erases `wrapped` and `master_key_id`.
CREATE TABLE data_key (
    id BLOB PRIMARY KEY,
    tenant_id BLOB NOT NULL REFERENCES tenant(id),
    category TEXT NOT NULL,
    period_start TEXT NOT NULL,
    period_end TEXT NOT NULL,
    master_key_id TEXT,
    wrapped BLOB,
    created_at TEXT NOT NULL,
    retired_at TEXT,
    shredded_at TEXT
);
CREATE INDEX data_key_class ON data_key (tenant_id, category, period_start);
-- At most one key in use per class and period.
CREATE UNIQUE INDEX data_key_in_use ON data_key (tenant_id, category, period_start, period_end)
    WHERE retired_at IS NULL AND shredded_at IS NULL;

-- Attachments: `data` is the ciphertext under `dek_id` with `nonce`; rows written before this
-- migration (dek_id NULL) are encrypted by the server in the background.
ALTER TABLE attachment ADD COLUMN dek_id BLOB REFERENCES data_key(id);
ALTER TABLE attachment ADD COLUMN nonce BLOB;
CREATE INDEX attachment_dek ON attachment (tenant_id, dek_id);

-- The signing key's secret is wrapped by this master key (NULL: stored as plain hex).
ALTER TABLE installation_key ADD COLUMN master_key_id TEXT;

-- Retention policies: attachments of items in `category` are destroyed `days` after their period.
CREATE TABLE retention_policy (
    tenant_id BLOB NOT NULL REFERENCES tenant(id),
    category TEXT NOT NULL,
    days INTEGER NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, category)
);
