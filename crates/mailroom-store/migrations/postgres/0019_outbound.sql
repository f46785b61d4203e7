-- Outbound mail. An outbound item is an `item` (reference, status, custody log, tracking) with
-- its send in `outbound`: who asked for it, the destination address as checked, method, cost
-- centre, dispatch window, customs declaration, approval, postage charged, batch and receipt.
CREATE TABLE outbound (
    tenant_id UUID NOT NULL REFERENCES tenant(id),
    item_id UUID NOT NULL,
    requester_person_id UUID,
    requester_user_id UUID,
    method TEXT NOT NULL,
    country TEXT NOT NULL,
    zone TEXT NOT NULL,
    -- The address as checked: {"fields": …, "lines": […], "latin_lines": […]} (JSON).
    address TEXT NOT NULL,
    recipient_email TEXT,
    recipient_phone TEXT,
    contents TEXT NOT NULL,
    weight_g BIGINT,
    cost_centre_id UUID NOT NULL,
    estimate BIGINT,
    not_before TIMESTAMPTZ,
    customs TEXT,
    customs_form TEXT,
    mailing_id UUID,
    decided_by TEXT,
    decided_at TIMESTAMPTZ,
    decision_note TEXT,
    postage BIGINT,
    account_id UUID,
    ledger_entry_id UUID,
    batch_id UUID,
    scanned_out_at TIMESTAMPTZ,
    dispatched_at TIMESTAMPTZ,
    receipt_signed_by TEXT,
    receipt_number TEXT,
    receipt_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, item_id)
);
CREATE INDEX outbound_requester ON outbound (tenant_id, requester_person_id, item_id);
CREATE INDEX outbound_batch ON outbound (tenant_id, batch_id);
CREATE INDEX outbound_mailing ON outbound (tenant_id, mailing_id);

-- A carrier's collection: the items scanned into it leave together and are listed on its manifest.
CREATE TABLE dispatch_batch (
    tenant_id UUID NOT NULL REFERENCES tenant(id),
    id UUID NOT NULL,
    reference TEXT NOT NULL,
    site_id UUID,
    carrier TEXT NOT NULL,
    collection_at TIMESTAMPTZ NOT NULL,
    status TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    handed_over_at TIMESTAMPTZ,
    handed_over_by TEXT,
    courier_name TEXT,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX dispatch_batch_reference ON dispatch_batch (tenant_id, reference);
CREATE INDEX dispatch_batch_status ON dispatch_batch (tenant_id, status, collection_at);

-- A send costing more than this (fen) waits for an approver.
ALTER TABLE cost_centre ADD COLUMN approval_limit BIGINT;
