-- The durable job queue: work to be done in the background (sending notices, …), claimed by the
-- workers of every server node. A job is `pending` until a worker claims it (`running`, leased
-- to that worker until `locked_until`), then `done`, or `pending` again with a later `run_at`
-- after a failure, or `dead` after its last attempt (the dead-letter list, which an
-- administrator may send back to `pending`).
CREATE TABLE job (
    id UUID PRIMARY KEY,
    tenant_id UUID NOT NULL REFERENCES tenant(id),
    kind TEXT NOT NULL,
    -- JSON
    payload TEXT NOT NULL,
    -- Unique per tenant: enqueueing a job whose key exists does nothing.
    idempotency_key TEXT NOT NULL,
    -- pending, running, done or dead
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    run_at TIMESTAMPTZ NOT NULL,
    locked_by TEXT,
    locked_until TIMESTAMPTZ,
    last_error TEXT,
    created_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ
);
CREATE UNIQUE INDEX job_idempotency ON job (tenant_id, idempotency_key);
-- The admin list (by status, newest first) and the counts per status.
CREATE INDEX job_tenant_status ON job (tenant_id, status, created_at, id);
-- Exception to "every index leads with tenant_id": workers claim due jobs of every tenant at
-- once (one queue for the installation), by status and due time, so this index cannot start
-- with the tenant. Only pending and running jobs are in it: done and dead ones stay out of the
-- way of the claim however many are kept.
CREATE INDEX job_due ON job (run_at) WHERE status IN ('pending', 'running');
-- Pruning finished jobs (also cross-tenant, for the same reason).
CREATE INDEX job_finished ON job (finished_at) WHERE status = 'done';
