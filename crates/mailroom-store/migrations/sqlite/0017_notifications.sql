-- Notifications. The custody log is the outbox: a dispatcher reads each tenant's custody events
-- past its cursor and turns them into notification jobs (whose idempotency keys make a replay
-- harmless), then moves the cursor forward. Intake itself writes nothing extra.
CREATE TABLE notify_cursor (
    tenant_id BLOB NOT NULL PRIMARY KEY REFERENCES tenant(id),
    seq INTEGER NOT NULL,
    updated_at TEXT NOT NULL
);

-- Every notice sent (or given up on): shown with the item, and the proof that a person was told.
CREATE TABLE notification (
    tenant_id BLOB NOT NULL REFERENCES tenant(id),
    id BLOB NOT NULL,
    item_id BLOB,
    person_id BLOB,
    kind TEXT NOT NULL,
    channel TEXT NOT NULL,
    -- Where it went, shortened for display (a masked address or phone, an endpoint name).
    target TEXT NOT NULL,
    lang TEXT NOT NULL,
    subject TEXT NOT NULL,
    -- sent or failed
    status TEXT NOT NULL,
    detail TEXT,
    idempotency_key TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX notification_key ON notification (tenant_id, idempotency_key);
CREATE INDEX notification_item ON notification (tenant_id, item_id, created_at);

-- The code a recipient shows at the counter to collect an item (also in the arrival notice's
-- QR code). Made once per item, when the first arrival notice is prepared.
CREATE TABLE pickup_code (
    tenant_id BLOB NOT NULL REFERENCES tenant(id),
    item_id BLOB NOT NULL REFERENCES item(id),
    code TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, item_id)
);

-- Work for the mailroom's staff that a notice alone does not settle: an item that arrived damaged
-- needs its sender contacted (kind contact_sender). One task of a kind per item.
CREATE TABLE staff_task (
    tenant_id BLOB NOT NULL REFERENCES tenant(id),
    id BLOB NOT NULL,
    item_id BLOB NOT NULL REFERENCES item(id),
    kind TEXT NOT NULL,
    -- open or done
    status TEXT NOT NULL,
    opened_at TEXT NOT NULL,
    done_at TEXT,
    done_by BLOB,
    note TEXT,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX staff_task_item ON staff_task (tenant_id, item_id, kind);
CREATE INDEX staff_task_open ON staff_task (tenant_id, status, opened_at);

-- Organisations that exist already are notified of what happens from now on, not of their past.
INSERT INTO notify_cursor (tenant_id, seq, updated_at)
    SELECT tenant_id, seq, strftime('%Y-%m-%dT%H:%M:%SZ', 'now') FROM custody_head;
