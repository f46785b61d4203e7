CREATE TABLE tenant (
    id BLOB PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE site (
    id BLOB PRIMARY KEY,
    tenant_id BLOB NOT NULL REFERENCES tenant(id),
    name TEXT NOT NULL,
    address TEXT,
    timezone TEXT NOT NULL,
    UNIQUE (tenant_id, name)
);

CREATE TABLE location (
    id BLOB PRIMARY KEY,
    tenant_id BLOB NOT NULL REFERENCES tenant(id),
    site_id BLOB NOT NULL REFERENCES site(id),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    security_level INTEGER NOT NULL,
    UNIQUE (tenant_id, site_id, code)
);

CREATE TABLE department (
    id BLOB PRIMARY KEY,
    tenant_id BLOB NOT NULL REFERENCES tenant(id),
    parent_id BLOB REFERENCES department(id),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    name_en TEXT,
    kind TEXT NOT NULL,
    key_contact_id BLOB,
    email TEXT,
    UNIQUE (tenant_id, code)
);

CREATE TABLE person (
    id BLOB PRIMARY KEY,
    tenant_id BLOB NOT NULL REFERENCES tenant(id),
    name TEXT NOT NULL,
    name_latin TEXT,
    aliases TEXT NOT NULL,
    employee_no TEXT,
    department_id BLOB REFERENCES department(id),
    email TEXT,
    phone TEXT,
    active BOOLEAN NOT NULL,
    forwarding TEXT,
    search_key TEXT NOT NULL
);
CREATE UNIQUE INDEX person_employee_no ON person (tenant_id, employee_no) WHERE employee_no IS NOT NULL;
CREATE INDEX person_search ON person (tenant_id, search_key);
CREATE INDEX person_department ON person (tenant_id, department_id);

CREATE TABLE app_user (
    id BLOB PRIMARY KEY,
    tenant_id BLOB NOT NULL REFERENCES tenant(id),
    login TEXT NOT NULL,
    display_name TEXT NOT NULL,
    password_hash TEXT,
    role TEXT NOT NULL,
    person_id BLOB REFERENCES person(id),
    active BOOLEAN NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (tenant_id, login)
);

CREATE TABLE api_token (
    id BLOB PRIMARY KEY,
    tenant_id BLOB NOT NULL REFERENCES tenant(id),
    user_id BLOB NOT NULL REFERENCES app_user(id),
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT
);

CREATE TABLE web_session (
    id_hash TEXT PRIMARY KEY,
    tenant_id BLOB NOT NULL REFERENCES tenant(id),
    user_id BLOB NOT NULL REFERENCES app_user(id),
    csrf_token TEXT NOT NULL,
    lang TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

CREATE TABLE attachment (
    id BLOB PRIMARY KEY,
    tenant_id BLOB NOT NULL REFERENCES tenant(id),
    sha256 TEXT NOT NULL,
    media_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    data BLOB NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX attachment_hash ON attachment (tenant_id, sha256);

CREATE TABLE item (
    id BLOB PRIMARY KEY,
    tenant_id BLOB NOT NULL REFERENCES tenant(id),
    site_id BLOB REFERENCES site(id),
    reference TEXT NOT NULL,
    kind TEXT NOT NULL,
    category TEXT NOT NULL,
    priority TEXT NOT NULL,
    confidentiality TEXT NOT NULL,
    carrier TEXT,
    tracking_number TEXT,
    sender_name TEXT,
    sender_org TEXT,
    sender_address TEXT,
    sender_country TEXT,
    recipient_person_id BLOB REFERENCES person(id),
    recipient_department_id BLOB REFERENCES department(id),
    recipient_name TEXT NOT NULL,
    condition TEXT NOT NULL,
    damage_description TEXT,
    notes TEXT,
    seal_number TEXT,
    status TEXT NOT NULL,
    location_id BLOB REFERENCES location(id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL,
    search_text TEXT NOT NULL
);
CREATE UNIQUE INDEX item_reference ON item (tenant_id, reference);
CREATE UNIQUE INDEX item_tracking ON item (tenant_id, tracking_number) WHERE tracking_number IS NOT NULL;
CREATE INDEX item_recipient_person ON item (tenant_id, recipient_person_id, id);
CREATE INDEX item_recipient_department ON item (tenant_id, recipient_department_id, id);
CREATE INDEX item_status ON item (tenant_id, status, id);
CREATE INDEX item_tenant ON item (tenant_id, id);

CREATE TABLE handover (
    item_id BLOB PRIMARY KEY REFERENCES item(id),
    tenant_id BLOB NOT NULL REFERENCES tenant(id),
    action TEXT NOT NULL,
    taken_by TEXT NOT NULL,
    taken_by_person_id BLOB REFERENCES person(id),
    place TEXT,
    id_type TEXT,
    id_last_digits TEXT,
    signature_id BLOB NOT NULL REFERENCES attachment(id),
    at TEXT NOT NULL,
    staff_user_id BLOB
);

CREATE TABLE idempotency_key (
    tenant_id BLOB NOT NULL REFERENCES tenant(id),
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    item_id BLOB NOT NULL REFERENCES item(id),
    created BOOLEAN NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, key)
);

CREATE TABLE custody_head (
    tenant_id BLOB PRIMARY KEY REFERENCES tenant(id),
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL
);

CREATE TABLE custody_event (
    id BLOB PRIMARY KEY,
    tenant_id BLOB NOT NULL REFERENCES tenant(id),
    seq INTEGER NOT NULL,
    item_id BLOB,
    kind TEXT NOT NULL,
    actor_id BLOB,
    actor_name TEXT NOT NULL,
    source TEXT NOT NULL,
    request_id TEXT NOT NULL,
    location_id BLOB,
    at TEXT NOT NULL,
    details TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    UNIQUE (tenant_id, seq)
);
CREATE INDEX custody_event_item ON custody_event (tenant_id, item_id, seq);

CREATE TRIGGER custody_event_no_update BEFORE UPDATE ON custody_event
BEGIN
    SELECT RAISE(ABORT, 'custody events are append-only');
END;

CREATE TRIGGER custody_event_no_delete BEFORE DELETE ON custody_event
BEGIN
    SELECT RAISE(ABORT, 'custody events are append-only');
END;

-- Replayable answers to creating POSTs other than item intake (which is idempotent in its own transaction).
CREATE TABLE http_idempotency (
    tenant_id BLOB NOT NULL REFERENCES tenant(id),
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, key)
);
