-- Photos kept with an item (the label photographed at intake, damage): each is an encrypted
-- attachment, and adding one appends a custody event with its SHA-256 in the same transaction.
CREATE TABLE item_photo (
    tenant_id BLOB NOT NULL REFERENCES tenant(id),
    item_id BLOB NOT NULL REFERENCES item(id),
    attachment_id BLOB NOT NULL REFERENCES attachment(id),
    added_by BLOB,
    added_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, item_id, attachment_id)
);
