-- The core schema: tenants, keys, event types, endpoints, and the delivery log.
-- IDs are prefixed ULIDs, so ordering by id is ordering by creation time.

CREATE TABLE tenants (
    id          text PRIMARY KEY,
    uid         text UNIQUE,
    name        text NOT NULL DEFAULT '',
    created_at  datetime NOT NULL,
    updated_at  datetime NOT NULL
);

CREATE TABLE api_keys (
    id           text PRIMARY KEY,
    tenant_id    text REFERENCES tenants (id) ON DELETE CASCADE, -- NULL: an admin key
    name         text NOT NULL DEFAULT '',
    prefix       text NOT NULL,
    hash         text NOT NULL UNIQUE,
    created_at   datetime NOT NULL,
    last_used_at datetime,
    revoked_at   datetime
);

CREATE TABLE event_types (
    name        text PRIMARY KEY,
    description text NOT NULL DEFAULT '',
    archived_at datetime,
    created_at  datetime NOT NULL,
    updated_at  datetime NOT NULL
);

CREATE TABLE endpoints (
    id              text PRIMARY KEY,
    tenant_id       text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    url             text NOT NULL,
    description     text NOT NULL DEFAULT '',
    event_types     text NOT NULL, -- JSON array of names, or ["*"]
    enabled         boolean NOT NULL DEFAULT 1,
    disabled_reason text NOT NULL DEFAULT '',
    secret          text NOT NULL,
    created_at      datetime NOT NULL,
    updated_at      datetime NOT NULL
);
CREATE INDEX endpoints_tenant_id ON endpoints (tenant_id, id);

-- payload is text, not jsonb: jsonb reorders keys and the signed bytes must be the stored bytes.
CREATE TABLE messages (
    id              text PRIMARY KEY,
    tenant_id       text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    event_type      text NOT NULL,
    payload         text NOT NULL,
    idempotency_key text,
    created_at      datetime NOT NULL
);
CREATE INDEX messages_tenant_id ON messages (tenant_id, id);
CREATE UNIQUE INDEX messages_idempotency_key ON messages (tenant_id, idempotency_key);

CREATE TABLE deliveries (
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
    UNIQUE (message_id, endpoint_id)
);
CREATE INDEX deliveries_tenant_id ON deliveries (tenant_id, id);
CREATE INDEX deliveries_endpoint_id ON deliveries (endpoint_id, id);
CREATE INDEX deliveries_status_due ON deliveries (status, next_attempt_at);
CREATE INDEX deliveries_status_locked ON deliveries (status, locked_until);

CREATE TABLE attempts (
    id                   text PRIMARY KEY,
    delivery_id          text NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
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
CREATE INDEX attempts_delivery_id ON attempts (delivery_id, id);
