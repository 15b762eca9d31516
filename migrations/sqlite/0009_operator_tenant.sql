-- The tenant that owns the operator's endpoints for hookd's operational
-- events (endpoint.disabled, delivery.failed, …). The tenants' API and the
-- lists never show it; /v1/operational-endpoints manages its endpoints.
INSERT INTO tenants (id, uid, name, created_at, updated_at)
VALUES ('ten_hookd_operational', NULL, 'hookd operational events', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP);
