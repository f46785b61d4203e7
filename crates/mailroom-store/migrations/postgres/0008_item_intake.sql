-- The item_intake view of the SQLite schema has no counterpart here: PostgreSQL registers an item
-- and its first custody event in one statement with a data-modifying WITH query.
SELECT 1;
