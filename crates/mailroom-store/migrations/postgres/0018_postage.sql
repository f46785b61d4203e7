-- Postage: cost centres with monthly limits, postage accounts (per organisation, optionally per
-- site) with their balance, the append-only ledger of every movement, and the rate table.
-- Amounts are integer fen (CNY minor units).
CREATE TABLE cost_centre (
    tenant_id UUID NOT NULL REFERENCES tenant(id),
    id UUID NOT NULL,
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    department_id UUID,
    soft_limit BIGINT,
    hard_limit BIGINT,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX cost_centre_code ON cost_centre (tenant_id, code);

CREATE TABLE postage_account (
    tenant_id UUID NOT NULL REFERENCES tenant(id),
    id UUID NOT NULL,
    site_id UUID,
    name TEXT NOT NULL,
    balance BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX postage_account_name ON postage_account (tenant_id, name);

-- Written once, never changed: top_up, charge, refund, adjustment. `amount` is the change to
-- the account's balance (charges negative); `balance_after` the balance it left; `seq` numbers
-- an account's entries in the order they were written (under the account's row lock).
CREATE TABLE postage_ledger (
    tenant_id UUID NOT NULL REFERENCES tenant(id),
    id UUID NOT NULL,
    account_id UUID NOT NULL,
    seq BIGINT NOT NULL,
    kind TEXT NOT NULL,
    amount BIGINT NOT NULL,
    balance_after BIGINT NOT NULL,
    cost_centre_id UUID,
    carrier TEXT,
    method TEXT,
    zone TEXT,
    weight_g BIGINT,
    reference TEXT,
    note TEXT,
    actor TEXT NOT NULL,
    at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX postage_ledger_account ON postage_ledger (tenant_id, account_id, seq);
CREATE INDEX postage_ledger_cost_centre ON postage_ledger (tenant_id, cost_centre_id, at);
CREATE INDEX postage_ledger_at ON postage_ledger (tenant_id, at);

-- The rate table in force, replaced whole (each replacement is an audit event).
CREATE TABLE postage_rate (
    tenant_id UUID NOT NULL REFERENCES tenant(id),
    carrier TEXT NOT NULL,
    method TEXT NOT NULL,
    zone TEXT NOT NULL,
    max_weight_g BIGINT NOT NULL,
    price BIGINT NOT NULL,
    step_price BIGINT,
    PRIMARY KEY (tenant_id, carrier, method, zone, max_weight_g)
);
