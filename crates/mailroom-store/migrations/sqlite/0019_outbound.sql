-- Outbound mail. An outbound item is an `item` (reference, status, custody log, tracking) with
-- its send in `outbound`: who asked for it, the destination address as checked, method, cost
-- centre, dispatch window, customs declaration, approval, postage charged, batch and receipt.
CREATE TABLE outbound (
    tenant_id BLOB NOT NULL REFERENCES tenant(id),
    item_id BLOB NOT NULL,
    requester_person_id BLOB,
    requester_user_id BLOB,
    method TEXT NOT NULL,
    country TEXT NOT NULL,
    zone TEXT NOT NULL,
    -- The address as checked: {"fields": …, "lines": […], "latin_lines": […]} (JSON).
    address TEXT NOT NULL,
    recipient_email TEXT,
    recipient_phone TEXT,
    contents TEXT NOT NULL,
    weight_g INTEGER,
    cost_centre_id BLOB NOT NULL,
    estimate INTEGER,
    not_before TEXT,
    customs TEXT,
    customs_form TEXT,
    mailing_id BLOB,
    decided_by TEXT,
    decided_at TEXT,
    decision_note TEXT,
    postage INTEGER,
    account_id BLOB,
    ledger_entry_id BLOB,
    batch_id BLOB,
    scanned_out_at TEXT,
    dispatched_at TEXT,
    receipt_signed_by TEXT,
    receipt_number TEXT,
    receipt_at TEXT,
    created_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, item_id)
);
CREATE INDEX outbound_requester ON outbound (tenant_id, requester_person_id, item_id);
CREATE INDEX outbound_batch ON outbound (tenant_id, batch_id);
CREATE INDEX outbound_mailing ON outbound (tenant_id, mailing_id);

-- A carrier's collection: the items scanned into it leave together and are listed on its manifest.
CREATE TABLE dispatch_batch (
    tenant_id BLOB NOT NULL REFERENCES tenant(id),
    id BLOB NOT NULL,
    reference TEXT NOT NULL,
    site_id BLOB,
    carrier TEXT NOT NULL,
    collection_at TEXT NOT NULL,
    status TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    handed_over_at TEXT,
    handed_over_by TEXT,
    courier_name TEXT,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX dispatch_batch_reference ON dispatch_batch (tenant_id, reference);
CREATE INDEX dispatch_batch_status ON dispatch_batch (tenant_id, status, collection_at);

-- A send costing more than this (fen) waits for an approver.
ALTER TABLE cost_centre ADD COLUMN approval_limit INTEGER;
