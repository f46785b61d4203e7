-- Who may handle confidential items: a clearance level per user (0 none, 2 confidential, 3 strictly confidential).
CREATE TABLE user_clearance (
    tenant_id BLOB NOT NULL REFERENCES tenant(id),
    user_id BLOB NOT NULL REFERENCES app_user(id),
    level INTEGER NOT NULL,
    granted_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, user_id)
);

-- A recipient lets a named colleague collect their mail for a while.
CREATE TABLE delegation (
    id BLOB PRIMARY KEY,
    tenant_id BLOB NOT NULL REFERENCES tenant(id),
    grantor_id BLOB NOT NULL REFERENCES person(id),
    delegate_id BLOB NOT NULL REFERENCES person(id),
    scope TEXT NOT NULL,
    category TEXT,
    item_ids TEXT NOT NULL,
    valid_from TEXT NOT NULL,
    valid_until TEXT NOT NULL,
    revoked_at TEXT,
    created_by BLOB NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX delegation_delegate ON delegation (tenant_id, delegate_id);
CREATE INDEX delegation_grantor ON delegation (tenant_id, grantor_id);

-- Search text that only cleared staff and the recipient may match (sender and notes of confidential items).
ALTER TABLE item ADD COLUMN secret_text TEXT NOT NULL DEFAULT '';
ALTER TABLE item ADD COLUMN secret_level INTEGER NOT NULL DEFAULT 0;
