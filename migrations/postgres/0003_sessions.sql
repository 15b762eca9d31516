-- Admin web UI sessions. Only a hash of the cookie's token is stored.
CREATE TABLE sessions (
    id         text PRIMARY KEY,
    api_key_id text NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX sessions_expires_at ON sessions (expires_at);
