-- Two-stage intake: an item may be registered from a scan alone ("received, details pending") and
-- enriched later. Items whose recipient is missing, ambiguous or unreadable wait in the exception
-- queue, with the reason and (for an ambiguous one) the people the label could mean.
ALTER TABLE item ADD COLUMN details_pending BOOLEAN NOT NULL DEFAULT FALSE;

CREATE TABLE item_exception (
    id UUID PRIMARY KEY,
    tenant_id UUID NOT NULL REFERENCES tenant(id),
    item_id UUID NOT NULL REFERENCES item(id),
    -- missing_recipient, ambiguous_recipient or unreadable_recipient
    reason TEXT NOT NULL,
    -- The recipient as written on the label, as typed at intake.
    label_text TEXT,
    -- JSON array of the candidates ({person_id, name, name_latin, department_id}).
    candidates TEXT NOT NULL,
    -- open or resolved
    status TEXT NOT NULL,
    opened_at TIMESTAMPTZ NOT NULL,
    opened_by UUID,
    resolved_at TIMESTAMPTZ,
    resolved_by UUID,
    -- assign_recipient, return_to_sender, or item_left (it left through its own action)
    resolution TEXT,
    resolution_note TEXT
);
CREATE INDEX item_exception_queue ON item_exception (tenant_id, status, id);
CREATE UNIQUE INDEX item_exception_open_item ON item_exception (tenant_id, item_id) WHERE status = 'open';
