-- Photos kept with an item (the label photographed at intake, damage): each is an encrypted
-- attachment, and adding one appends a custody event with its SHA-256 in the same transaction.
CREATE TABLE item_photo (
    tenant_id UUID NOT NULL REFERENCES tenant(id),
    item_id UUID NOT NULL REFERENCES item(id),
    attachment_id UUID NOT NULL REFERENCES attachment(id),
    added_by UUID,
    added_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, item_id, attachment_id)
);
