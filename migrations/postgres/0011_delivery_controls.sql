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
-- message may have several deliveries to one endpoint.
ALTER TABLE deliveries DROP CONSTRAINT deliveries_message_id_endpoint_id_key;
CREATE INDEX deliveries_message_id ON deliveries (message_id, id);

-- ordered: the delivery waits for the earlier open deliveries of its FIFO
-- endpoint. The index holds only the open ordered ones, so that deliveries
-- to other endpoints write no entry in it.
ALTER TABLE deliveries ADD COLUMN ordered boolean NOT NULL DEFAULT false;
CREATE INDEX deliveries_ordered_open ON deliveries (endpoint_id, id) WHERE ordered AND status IN ('pending', 'inflight');
