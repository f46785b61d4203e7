-- Counting the items kept at each location (for suggesting where to store a new one) walks this
-- index instead of the organisation's items.
CREATE INDEX item_location ON item (tenant_id, location_id, status);
