-- API tokens: a name, an optional narrower role and scope, an optional expiry, and the time of
-- last use. Revocation uses the existing revoked_at.
ALTER TABLE api_token ADD COLUMN name TEXT NOT NULL DEFAULT '';
ALTER TABLE api_token ADD COLUMN role TEXT;
ALTER TABLE api_token ADD COLUMN scope TEXT NOT NULL DEFAULT 'full';
ALTER TABLE api_token ADD COLUMN expires_at TEXT;
ALTER TABLE api_token ADD COLUMN last_used_at TEXT;
CREATE INDEX api_token_tenant ON api_token (tenant_id, user_id, id);

-- Console sessions also end after a period without use.
ALTER TABLE web_session ADD COLUMN last_seen_at TEXT;

-- Failed logins per account (organisation slug and login, as typed) and per source address.
-- Shared by every server node; rows are removed once they no longer matter (expires_at).
CREATE TABLE login_throttle (
    kind TEXT NOT NULL,
    tenant TEXT NOT NULL,
    subject TEXT NOT NULL,
    failures INTEGER NOT NULL,
    last_failure_at TEXT NOT NULL,
    locked_until TEXT,
    expires_at TEXT NOT NULL,
    PRIMARY KEY (kind, tenant, subject)
);
CREATE INDEX login_throttle_expiry ON login_throttle (expires_at);

-- The audit listing pages through a tenant's log newest first and filters by kind.
CREATE INDEX custody_event_kind ON custody_event (tenant_id, kind, seq);
