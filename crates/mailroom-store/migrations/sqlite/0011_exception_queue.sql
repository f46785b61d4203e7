-- Two-stage intake: an item may be registered from a scan alone ("received, details pending") and
-- enriched later. Items whose recipient is missing, ambiguous or unreadable wait in the exception
-- queue, with the reason and (for an ambiguous one) the people the label could mean.
ALTER TABLE item ADD COLUMN details_pending BOOLEAN NOT NULL DEFAULT FALSE;

CREATE TABLE item_exception (
    id BLOB PRIMARY KEY,
    tenant_id BLOB NOT NULL REFERENCES tenant(id),
    item_id BLOB NOT NULL REFERENCES item(id),
    -- missing_recipient, ambiguous_recipient or unreadable_recipient
    reason TEXT NOT NULL,
    -- The recipient as written on the label, as typed at intake.
    label_text TEXT,
    -- JSON array of the candidates ({person_id, name, name_latin, department_id}).
    candidates TEXT NOT NULL,
    -- open or resolved
    status TEXT NOT NULL,
    opened_at TEXT NOT NULL,
    opened_by BLOB,
    resolved_at TEXT,
    resolved_by BLOB,
    -- assign_recipient, return_to_sender, or item_left (it left through its own action)
    resolution TEXT,
    resolution_note TEXT
);
CREATE INDEX item_exception_queue ON item_exception (tenant_id, status, id);
CREATE UNIQUE INDEX item_exception_open_item ON item_exception (tenant_id, item_id) WHERE status = 'open';

-- The intake view (migrations 0008 and 0009) gains the new item column.
DROP TRIGGER item_intake_insert;
DROP VIEW item_intake;

CREATE VIEW item_intake AS SELECT
    item.id, item.tenant_id, item.site_id, item.reference, item.kind, item.category, item.priority,
    item.confidentiality, item.carrier, item.tracking_number, item.sender_name, item.sender_org,
    item.sender_address, item.sender_country, item.recipient_person_id, item.recipient_department_id,
    item.recipient_name, item.condition, item.damage_description, item.notes, item.seal_number, item.status,
    item.location_id, item.created_at, item.updated_at, item.version, item.route, item.due_by,
    item.search_text, item.secret_text, item.secret_level, item.details_pending,
    custody_event.id AS event_id, custody_event.tenant_id AS event_tenant_id, custody_event.seq AS event_seq,
    custody_event.item_id AS event_item_id, custody_event.kind AS event_kind,
    custody_event.actor_id AS event_actor_id, custody_event.actor_name AS event_actor_name,
    custody_event.source AS event_source, custody_event.request_id AS event_request_id,
    custody_event.location_id AS event_location_id, custody_event.at AS event_at,
    custody_event.details AS event_details, custody_event.prev_hash AS event_prev_hash,
    custody_event.hash AS event_hash
FROM item JOIN custody_event ON 0;

CREATE TRIGGER item_intake_insert INSTEAD OF INSERT ON item_intake
BEGIN
    INSERT INTO item (id, tenant_id, site_id, reference, kind, category, priority, confidentiality, carrier,
        tracking_number, sender_name, sender_org, sender_address, sender_country, recipient_person_id,
        recipient_department_id, recipient_name, condition, damage_description, notes, seal_number, status,
        location_id, created_at, updated_at, version, route, due_by, search_text, secret_text, secret_level,
        details_pending)
    VALUES (NEW.id, NEW.tenant_id, NEW.site_id, NEW.reference, NEW.kind, NEW.category, NEW.priority,
        NEW.confidentiality, NEW.carrier, NEW.tracking_number, NEW.sender_name, NEW.sender_org, NEW.sender_address,
        NEW.sender_country, NEW.recipient_person_id, NEW.recipient_department_id, NEW.recipient_name,
        NEW.condition, NEW.damage_description, NEW.notes, NEW.seal_number, NEW.status, NEW.location_id,
        NEW.created_at, NEW.updated_at, NEW.version, NEW.route, NEW.due_by, NEW.search_text, NEW.secret_text,
        NEW.secret_level, NEW.details_pending);
    INSERT INTO custody_event (id, tenant_id, seq, item_id, kind, actor_id, actor_name, source, request_id,
        location_id, at, details, prev_hash, hash)
    VALUES (NEW.event_id, NEW.event_tenant_id, NEW.event_seq, NEW.event_item_id, NEW.event_kind,
        NEW.event_actor_id, NEW.event_actor_name, NEW.event_source, NEW.event_request_id, NEW.event_location_id,
        NEW.event_at, NEW.event_details, NEW.event_prev_hash, NEW.event_hash);
END;
