-- Who may handle confidential items: a clearance level per user (0 none, 2 confidential, 3 strictly confidential).
CREATE TABLE user_clearance (
    tenant_id UUID NOT NULL REFERENCES tenant(id),
    user_id UUID NOT NULL REFERENCES app_user(id),
    level BIGINT NOT NULL,
    granted_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, user_id)
);

-- A recipient lets a named colleague collect their mail for a while.
CREATE TABLE delegation (
    id UUID PRIMARY KEY,
    tenant_id UUID NOT NULL REFERENCES tenant(id),
    grantor_id UUID NOT NULL REFERENCES person(id),
    delegate_id UUID NOT NULL REFERENCES person(id),
    scope TEXT NOT NULL,
    category TEXT,
    item_ids TEXT NOT NULL,
    valid_from TIMESTAMPTZ NOT NULL,
    valid_until TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ,
    created_by UUID NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX delegation_delegate ON delegation (tenant_id, delegate_id);
CREATE INDEX delegation_grantor ON delegation (tenant_id, grantor_id);

-- Search text that only cleared staff and the recipient may match (sender and notes of confidential items).
ALTER TABLE item ADD COLUMN secret_text TEXT NOT NULL DEFAULT '';
ALTER TABLE item ADD COLUMN secret_level BIGINT NOT NULL DEFAULT 0;
