-- Secret rotation: the previous secret keeps signing until it expires, so
-- receivers can switch without dropping a webhook.
ALTER TABLE endpoints ADD COLUMN previous_secret text;
ALTER TABLE endpoints ADD COLUMN previous_secret_expires_at timestamptz;
