-- Signing schemes besides Standard Webhooks' HMAC, for receivers that exist
-- already: ed25519 (v1a), a hex HMAC in a named header, or a shared token.
ALTER TABLE endpoints ADD COLUMN signing_scheme text NOT NULL DEFAULT 'standard';
ALTER TABLE endpoints ADD COLUMN signature_header text NOT NULL DEFAULT '';
ALTER TABLE endpoints ADD COLUMN signature_prefix text NOT NULL DEFAULT '';
