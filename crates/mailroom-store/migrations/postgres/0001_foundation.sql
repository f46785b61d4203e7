CREATE TABLE tenant (
    id UUID PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE site (
    id UUID PRIMARY KEY,
    tenant_id UUID NOT NULL REFERENCES tenant(id),
    name TEXT NOT NULL,
    address TEXT,
    timezone TEXT NOT NULL,
    UNIQUE (tenant_id, name)
);

CREATE TABLE location (
    id UUID PRIMARY KEY,
    tenant_id UUID NOT NULL REFERENCES tenant(id),
    site_id UUID NOT NULL REFERENCES site(id),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    security_level BIGINT NOT NULL,
    UNIQUE (tenant_id, site_id, code)
);

CREATE TABLE department (
    id UUID PRIMARY KEY,
    tenant_id UUID NOT NULL REFERENCES tenant(id),
    parent_id UUID REFERENCES department(id),
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    name_en TEXT,
    kind TEXT NOT NULL,
    key_contact_id UUID,
    email TEXT,
    UNIQUE (tenant_id, code)
);

CREATE TABLE person (
    id UUID PRIMARY KEY,
    tenant_id UUID NOT NULL REFERENCES tenant(id),
    name TEXT NOT NULL,
    name_latin TEXT,
    aliases TEXT NOT NULL,
    employee_no TEXT,
    department_id UUID REFERENCES department(id),
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
    id UUID PRIMARY KEY,
    tenant_id UUID NOT NULL REFERENCES tenant(id),
    login TEXT NOT NULL,
    display_name TEXT NOT NULL,
    password_hash TEXT,
    role TEXT NOT NULL,
    person_id UUID REFERENCES person(id),
    active BOOLEAN NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (tenant_id, login)
);

CREATE TABLE api_token (
    id UUID PRIMARY KEY,
    tenant_id UUID NOT NULL REFERENCES tenant(id),
    user_id UUID NOT NULL REFERENCES app_user(id),
    token_hash TEXT NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ
);

CREATE TABLE web_session (
    id_hash TEXT PRIMARY KEY,
    tenant_id UUID NOT NULL REFERENCES tenant(id),
    user_id UUID NOT NULL REFERENCES app_user(id),
    csrf_token TEXT NOT NULL,
    lang TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE attachment (
    id UUID PRIMARY KEY,
    tenant_id UUID NOT NULL REFERENCES tenant(id),
    sha256 TEXT NOT NULL,
    media_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    data BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX attachment_hash ON attachment (tenant_id, sha256);

CREATE TABLE item (
    id UUID PRIMARY KEY,
    tenant_id UUID NOT NULL REFERENCES tenant(id),
    site_id UUID REFERENCES site(id),
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
    recipient_person_id UUID REFERENCES person(id),
    recipient_department_id UUID REFERENCES department(id),
    recipient_name TEXT NOT NULL,
    condition TEXT NOT NULL,
    damage_description TEXT,
    notes TEXT,
    seal_number TEXT,
    status TEXT NOT NULL,
    location_id UUID REFERENCES location(id),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    version BIGINT NOT NULL,
    search_text TEXT NOT NULL
);
CREATE UNIQUE INDEX item_reference ON item (tenant_id, reference);
CREATE UNIQUE INDEX item_tracking ON item (tenant_id, tracking_number) WHERE tracking_number IS NOT NULL;
CREATE INDEX item_recipient_person ON item (tenant_id, recipient_person_id, id);
CREATE INDEX item_recipient_department ON item (tenant_id, recipient_department_id, id);
CREATE INDEX item_status ON item (tenant_id, status, id);
CREATE INDEX item_tenant ON item (tenant_id, id);

CREATE TABLE handover (
    item_id UUID PRIMARY KEY REFERENCES item(id),
    tenant_id UUID NOT NULL REFERENCES tenant(id),
    action TEXT NOT NULL,
    taken_by TEXT NOT NULL,
    taken_by_person_id UUID REFERENCES person(id),
    place TEXT,
    id_type TEXT,
    id_last_digits TEXT,
    signature_id UUID NOT NULL REFERENCES attachment(id),
    at TIMESTAMPTZ NOT NULL,
    staff_user_id UUID
);

CREATE TABLE idempotency_key (
    tenant_id UUID NOT NULL REFERENCES tenant(id),
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    item_id UUID NOT NULL REFERENCES item(id),
    created BOOLEAN NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, key)
);

CREATE TABLE custody_head (
    tenant_id UUID PRIMARY KEY REFERENCES tenant(id),
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);

CREATE TABLE custody_event (
    id UUID PRIMARY KEY,
    tenant_id UUID NOT NULL REFERENCES tenant(id),
    seq BIGINT NOT NULL,
    item_id UUID,
    kind TEXT NOT NULL,
    actor_id UUID,
    actor_name TEXT NOT NULL,
    source TEXT NOT NULL,
    request_id TEXT NOT NULL,
    location_id UUID,
    at TIMESTAMPTZ NOT NULL,
    details TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    UNIQUE (tenant_id, seq)
);
CREATE INDEX custody_event_item ON custody_event (tenant_id, item_id, seq);

CREATE FUNCTION custody_event_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'custody events are append-only';
END;
$$;

CREATE TRIGGER custody_event_no_update BEFORE UPDATE OR DELETE ON custody_event
FOR EACH ROW EXECUTE FUNCTION custody_event_append_only();

CREATE TRIGGER custody_event_no_truncate BEFORE TRUNCATE ON custody_event
FOR EACH STATEMENT EXECUTE FUNCTION custody_event_append_only();

-- Replayable answers to creating POSTs other than item intake (which is idempotent in its own transaction).
CREATE TABLE http_idempotency (
    tenant_id UUID NOT NULL REFERENCES tenant(id),
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status BIGINT NOT NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, key)
);
