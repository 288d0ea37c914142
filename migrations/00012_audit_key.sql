-- +goose Up
-- audit_log (orchestrator/audit): which key a row's hash is an HMAC under,
-- the first 8 hex digits of the SHA-256 of the key; '' for the plain
-- SHA-256 of rows written without a key. The key itself never reaches the
-- database.
ALTER TABLE audit_log ADD COLUMN key_id text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE audit_log DROP COLUMN key_id;
