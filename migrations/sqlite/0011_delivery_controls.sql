-- Delivery controls of an endpoint: the Standard Webhooks envelope, headers
-- of its own (the secret ones' values sealed like its signing secret), a timeout and
-- retry schedule of its own (NULL: the operator's defaults), a CEL filter on
-- the payload ('' : none) and FIFO ordering.
ALTER TABLE endpoints ADD COLUMN envelope boolean NOT NULL DEFAULT false;
ALTER TABLE endpoints ADD COLUMN headers text NOT NULL DEFAULT '{}';
ALTER TABLE endpoints ADD COLUMN secret_headers text NOT NULL DEFAULT '{}';
ALTER TABLE endpoints ADD COLUMN timeout_seconds integer;
ALTER TABLE endpoints ADD COLUMN retry_schedule text;
ALTER TABLE endpoints ADD COLUMN filter text NOT NULL DEFAULT '';
ALTER TABLE endpoints ADD COLUMN ordering text NOT NULL DEFAULT 'none';

-- A replay sends a message to an endpoint again as a new delivery, so a
-- message may have several deliveries to one endpoint. SQLite cannot drop a
-- table's UNIQUE constraint: deliveries is built anew, and attempts with it,
-- since dropping deliveries would cascade to the attempts that reference it.
-- (Renaming deliveries_new rewrites attempts_new's reference.)
CREATE TABLE deliveries_new (
    id               text PRIMARY KEY,
    tenant_id        text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    message_id       text NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    endpoint_id      text NOT NULL REFERENCES endpoints (id) ON DELETE CASCADE,
    event_type       text NOT NULL,
    status           text NOT NULL,
    attempt_count    integer NOT NULL DEFAULT 0,
    next_attempt_at  datetime,
    next_trigger     text NOT NULL DEFAULT 'scheduled',
    locked_until     datetime,
    lock_token       text,
    last_status_code integer,
    last_error       text NOT NULL DEFAULT '',
    created_at       datetime NOT NULL,
    updated_at       datetime NOT NULL,
    -- ordered: the delivery waits for the earlier open deliveries of its FIFO endpoint.
    ordered          boolean NOT NULL DEFAULT false
);
INSERT INTO deliveries_new (id, tenant_id, message_id, endpoint_id, event_type, status, attempt_count, next_attempt_at,
    next_trigger, locked_until, lock_token, last_status_code, last_error, created_at, updated_at)
SELECT id, tenant_id, message_id, endpoint_id, event_type, status, attempt_count, next_attempt_at,
    next_trigger, locked_until, lock_token, last_status_code, last_error, created_at, updated_at FROM deliveries;

CREATE TABLE attempts_new (
    id                   text PRIMARY KEY,
    delivery_id          text NOT NULL REFERENCES deliveries_new (id) ON DELETE CASCADE,
    number               integer NOT NULL,
    trigger_type         text NOT NULL,
    url                  text NOT NULL,
    request_headers      text NOT NULL DEFAULT '{}',
    response_status_code integer,
    response_headers     text NOT NULL DEFAULT '{}',
    response_body        text NOT NULL DEFAULT '',
    duration_ms          integer NOT NULL DEFAULT 0,
    error                text NOT NULL DEFAULT '',
    created_at           datetime NOT NULL
);
INSERT INTO attempts_new SELECT id, delivery_id, number, trigger_type, url, request_headers, response_status_code,
    response_headers, response_body, duration_ms, error, created_at FROM attempts;

DROP TABLE attempts;
DROP TABLE deliveries;
ALTER TABLE deliveries_new RENAME TO deliveries;
ALTER TABLE attempts_new RENAME TO attempts;

CREATE INDEX deliveries_tenant_id ON deliveries (tenant_id, id);
CREATE INDEX deliveries_endpoint_id ON deliveries (endpoint_id, id);
CREATE INDEX deliveries_message_id ON deliveries (message_id, id);
CREATE INDEX deliveries_pending_due ON deliveries (next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX deliveries_inflight_lock ON deliveries (locked_until) WHERE status = 'inflight';
CREATE INDEX deliveries_ordered_open ON deliveries (endpoint_id, id) WHERE ordered AND status IN ('pending', 'inflight');
CREATE INDEX attempts_delivery_id ON attempts (delivery_id, id);
