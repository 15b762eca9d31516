-- PostgreSQL drops the delivery log's foreign keys here (see its 0008). SQLite
-- keeps them: it checks them in process, and cannot drop a constraint without
-- rebuilding the table. The store deletes the log itself on both.
SELECT 1;
