-- Where users act outside their own organisation: the operator's staff assigned to client
-- organisations, with the role they have there and, optionally, the one site they work at.
-- A user acts in their own organisation with their own role; nowhere else without a row here
-- (operator administrators excepted).
CREATE TABLE user_assignment (
    tenant_id UUID NOT NULL REFERENCES tenant(id),
    user_id UUID NOT NULL REFERENCES app_user(id),
    home_tenant_id UUID NOT NULL REFERENCES tenant(id),
    role TEXT NOT NULL,
    site_id UUID REFERENCES site(id),
    created_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tenant_id, user_id)
);
-- "Where may this user act": the organisation switcher of the user themself.
CREATE INDEX user_assignment_user ON user_assignment (user_id, tenant_id);
