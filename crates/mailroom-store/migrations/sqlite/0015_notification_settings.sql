-- Notification settings: each organisation's notice templates (one per kind and language; a
-- missing row means the built-in wording), each person's notification preferences (a missing
-- row means the defaults), and the endpoints notices may also go to (signed webhooks, group
-- robots, the SMS provider).
CREATE TABLE notification_template (
    tenant_id BLOB NOT NULL REFERENCES tenant(id),
    kind TEXT NOT NULL,
    lang TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    PRIMARY KEY (tenant_id, kind, lang)
);

CREATE TABLE notify_preference (
    tenant_id BLOB NOT NULL REFERENCES tenant(id),
    person_id BLOB NOT NULL REFERENCES person(id),
    lang TEXT NOT NULL,
    email BOOLEAN NOT NULL,
    sms BOOLEAN NOT NULL,
    robot BOOLEAN NOT NULL,
    -- Quiet hours in the person's site time, "HH:MM"; both or neither.
    quiet_start TEXT,
    quiet_end TEXT,
    digest BOOLEAN NOT NULL,
    digest_at TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, person_id)
);

CREATE TABLE channel_endpoint (
    tenant_id BLOB NOT NULL REFERENCES tenant(id),
    id BLOB NOT NULL,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    url TEXT NOT NULL,
    -- Signing secret (webhook whsec_…, DingTalk SEC…, Feishu) or provider key; never shown back.
    secret TEXT,
    -- Kind-specific settings as JSON (the SMS provider's method, headers and body template).
    config TEXT NOT NULL,
    -- A department's robot: notices for that department's people go to it.
    department_id BLOB,
    -- Notice kinds sent to this endpoint, comma-separated; empty: every kind.
    events TEXT NOT NULL,
    active BOOLEAN NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, name)
);
CREATE INDEX channel_endpoint_department ON channel_endpoint (tenant_id, department_id);
