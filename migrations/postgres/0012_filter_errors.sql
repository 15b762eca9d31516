-- Why an endpoint's filter last failed at run time (it went over its cost
-- limit or deadline, or met a payload it cannot read), and when: so that
-- the endpoint's owner sees why messages did not reach it. Adding columns
-- with defaults is safe while an older hookd runs: it neither reads nor writes them.
ALTER TABLE endpoints ADD COLUMN filter_error text NOT NULL DEFAULT '';
ALTER TABLE endpoints ADD COLUMN filter_error_at timestamptz;
