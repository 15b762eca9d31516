-- Tenant portal links. Only a hash of the link's token is stored; the
-- tenant, what the link may do and the app's branding come from this row.
CREATE TABLE portal_sessions (
    id            text PRIMARY KEY,
    tenant_id     text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    read_only     boolean NOT NULL DEFAULT false,
    title         text NOT NULL DEFAULT '',
    logo_url      text NOT NULL DEFAULT '',
    primary_color text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL
);
CREATE INDEX portal_sessions_expires_at ON portal_sessions (expires_at);
CREATE INDEX portal_sessions_tenant_id ON portal_sessions (tenant_id);
