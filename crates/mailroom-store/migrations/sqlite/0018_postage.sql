-- Postage: cost centres with monthly limits, postage accounts (per organisation, optionally per
-- site) with their balance, the append-only ledger of every movement, and the rate table.
-- Amounts are integer fen (CNY minor units).
CREATE TABLE cost_centre (
    tenant_id BLOB NOT NULL REFERENCES tenant(id),
    id BLOB NOT NULL,
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    department_id BLOB,
    soft_limit INTEGER,
    hard_limit INTEGER,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX cost_centre_code ON cost_centre (tenant_id, code);

CREATE TABLE postage_account (
    tenant_id BLOB NOT NULL REFERENCES tenant(id),
    id BLOB NOT NULL,
    site_id BLOB,
    name TEXT NOT NULL,
    balance INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX postage_account_name ON postage_account (tenant_id, name);

-- Written once, never changed: top_up, charge, refund, adjustment. `amount` is the change to
-- the account's balance (charges negative); `balance_after` the balance it left; `seq` numbers
-- an account's entries in the order they were written (under the account's row lock).
CREATE TABLE postage_ledger (
    tenant_id BLOB NOT NULL REFERENCES tenant(id),
    id BLOB NOT NULL,
    account_id BLOB NOT NULL,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    amount INTEGER NOT NULL,
    balance_after INTEGER NOT NULL,
    cost_centre_id BLOB,
    carrier TEXT,
    method TEXT,
    zone TEXT,
    weight_g INTEGER,
    reference TEXT,
    note TEXT,
    actor TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE UNIQUE INDEX postage_ledger_account ON postage_ledger (tenant_id, account_id, seq);
CREATE INDEX postage_ledger_cost_centre ON postage_ledger (tenant_id, cost_centre_id, at);
CREATE INDEX postage_ledger_at ON postage_ledger (tenant_id, at);

-- The rate table in force, replaced whole (each replacement is an audit event).
CREATE TABLE postage_rate (
    tenant_id BLOB NOT NULL REFERENCES tenant(id),
    carrier TEXT NOT NULL,
    method TEXT NOT NULL,
    zone TEXT NOT NULL,
    max_weight_g INTEGER NOT NULL,
    price INTEGER NOT NULL,
    step_price INTEGER,
    PRIMARY KEY (tenant_id, carrier, method, zone, max_weight_g)
);
