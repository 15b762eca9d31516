-- An optional JSON Schema per event type; emitted payloads must match it.
ALTER TABLE event_types ADD COLUMN schema text;
