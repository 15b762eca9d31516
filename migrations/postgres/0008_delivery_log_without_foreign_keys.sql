-- The delivery log (messages, deliveries, attempts) is written on every emit
-- and attempt. Its foreign keys made each insert lock the tenant, endpoint,
-- message or delivery row it names (FOR KEY SHARE), the same few rows from
-- every concurrent transaction: measured, 18% of PostgreSQL's time per
-- delivery. The store deletes a tenant's or an endpoint's log itself, and
-- the worker drops a delivery whose endpoint is gone.
ALTER TABLE messages DROP CONSTRAINT messages_tenant_id_fkey;
ALTER TABLE deliveries DROP CONSTRAINT deliveries_tenant_id_fkey;
ALTER TABLE deliveries DROP CONSTRAINT deliveries_message_id_fkey;
ALTER TABLE deliveries DROP CONSTRAINT deliveries_endpoint_id_fkey;
ALTER TABLE attempts DROP CONSTRAINT attempts_delivery_id_fkey;
