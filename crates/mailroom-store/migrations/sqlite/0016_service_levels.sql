-- Service levels and unclaimed items: each site's working-hours calendar, each category's policy
-- for items nobody collects, and the follow-up record of an item (breach, reminders, escalation,
-- final-step request and decision). The follow-up record is a side table, written only by the
-- sweeper and by supervisors' decisions: intake does not touch it.
CREATE TABLE site_calendar (
    tenant_id BLOB NOT NULL REFERENCES tenant(id),
    site_id BLOB NOT NULL REFERENCES site(id),
    -- JSON: hours per weekday, break, holiday set, extra holidays and working days, always_open.
    config TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    PRIMARY KEY (tenant_id, site_id)
);

CREATE TABLE unclaimed_policy (
    tenant_id BLOB NOT NULL REFERENCES tenant(id),
    category TEXT NOT NULL,
    remind_after_days INTEGER NOT NULL,
    remind_every_days INTEGER NOT NULL,
    escalate_after_days INTEGER NOT NULL,
    final_after_days INTEGER NOT NULL,
    -- return_to_sender or dispose
    final_action TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, category)
);

CREATE TABLE item_followup (
    tenant_id BLOB NOT NULL REFERENCES tenant(id),
    item_id BLOB NOT NULL REFERENCES item(id),
    breached_at TEXT,
    reminders_sent INTEGER NOT NULL DEFAULT 0,
    last_reminder_at TEXT,
    escalated_at TEXT,
    escalated_to BLOB,
    disposal_requests INTEGER NOT NULL DEFAULT 0,
    disposal_requested_at TEXT,
    -- return_to_sender or dispose
    disposal_action TEXT,
    disposal_decided_at TEXT,
    -- approved or rejected
    disposal_decision TEXT,
    disposal_decided_by BLOB,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, item_id)
);
CREATE INDEX item_followup_pending ON item_followup (tenant_id, disposal_requested_at)
    WHERE disposal_requested_at IS NOT NULL AND disposal_decided_at IS NULL;
CREATE INDEX item_followup_breached ON item_followup (tenant_id, breached_at) WHERE breached_at IS NOT NULL;

-- The sweeper looks for items past their due-by; only items with one are indexed.
CREATE INDEX item_due ON item (tenant_id, due_by) WHERE due_by IS NOT NULL;
