-- The admin UI's search finds messages by idempotency key across tenants;
-- the unique index leads with the tenant. Only keyed messages are indexed.
CREATE INDEX messages_by_idempotency_key ON messages (idempotency_key) WHERE idempotency_key IS NOT NULL;
