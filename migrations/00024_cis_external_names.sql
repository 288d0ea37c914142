-- +goose Up
-- Imports name CIs the way their source system does: by key, by the
-- source's id (ServiceNow's sys_id) or by display name. These indexes let a
-- few references resolve against a large CMDB without scanning it.
CREATE INDEX cis_external_id ON cis (external_id);
CREATE INDEX cis_name ON cis (name);

-- +goose Down
DROP INDEX cis_name;
DROP INDEX cis_external_id;
