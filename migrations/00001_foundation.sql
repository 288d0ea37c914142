-- +goose Up
CREATE TABLE api_tokens (
    id           bigserial PRIMARY KEY,
    name         text        NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    role         text        NOT NULL CHECK (role IN ('admin', 'continuity_manager', 'operator', 'executive', 'auditor')),
    prefix       text        NOT NULL UNIQUE,
    hash         bytea       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    created_by   text        NOT NULL,
    last_used_at timestamptz,
    revoked_at   timestamptz
);
CREATE UNIQUE INDEX api_tokens_active_name ON api_tokens (name) WHERE revoked_at IS NULL;

-- The audit log is append-only and hash-chained: each row's hash covers the
-- previous row's hash and the row's own canonical text.
CREATE TABLE audit_log (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL,
    actor       text        NOT NULL,
    role        text        NOT NULL,
    action      text        NOT NULL,
    resource    text        NOT NULL,
    resource_id text        NOT NULL,
    request_id  text        NOT NULL,
    summary     text        NOT NULL,
    prev_hash   text        NOT NULL,
    hash        text        NOT NULL
);
CREATE INDEX audit_log_resource ON audit_log (resource, resource_id, id);
CREATE INDEX audit_log_at ON audit_log (at);

-- +goose StatementBegin
CREATE FUNCTION audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM PUBLIC;

-- +goose Down
DROP TABLE audit_log;
DROP FUNCTION audit_log_refuse_change();
DROP TABLE api_tokens;
