-- +goose Up
-- Configuration items. Business services are CIs of class business_service
-- with the extra columns of business_services.
CREATE TABLE cis (
    id                  bigserial PRIMARY KEY,
    key                 text        NOT NULL UNIQUE,
    name                text        NOT NULL,
    class               text        NOT NULL,
    environment         text        NOT NULL DEFAULT '',
    site                text        NOT NULL DEFAULT '',
    owner               text        NOT NULL DEFAULT '',
    status              text        NOT NULL DEFAULT 'operational'
                        CHECK (status IN ('planned', 'operational', 'maintenance', 'retired')),
    data_bearing        boolean     NOT NULL DEFAULT false,
    recovery_strategy   text        NOT NULL DEFAULT 'manual'
                        CHECK (recovery_strategy IN ('failover', 'restore', 'rebuild', 'supplier', 'manual')),
    recovery_estimate_s bigint      NOT NULL DEFAULT 0 CHECK (recovery_estimate_s >= 0),
    attributes          jsonb       NOT NULL DEFAULT '{}',
    source              text        NOT NULL DEFAULT 'manual',
    external_id         text        NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (source, external_id)
);
CREATE INDEX cis_class ON cis (class, key);
CREATE INDEX cis_site ON cis (site, key);

CREATE TABLE business_services (
    ci_id               bigint PRIMARY KEY REFERENCES cis (id) ON DELETE CASCADE,
    description         text  NOT NULL DEFAULT '',
    timezone            text  NOT NULL DEFAULT 'UTC',
    business_hours      jsonb NOT NULL DEFAULT '[]',
    maintenance_windows jsonb NOT NULL DEFAULT '[]'
);

-- A relation "from TYPE to": depends_on, runs_on, hosted_in and provided_by
-- propagate failure from "to" to "from"; backed_up_by and replicates_to do not.
CREATE TABLE relations (
    id          bigserial PRIMARY KEY,
    from_id     bigint      NOT NULL REFERENCES cis (id) ON DELETE CASCADE,
    to_id       bigint      NOT NULL REFERENCES cis (id) ON DELETE CASCADE,
    type        text        NOT NULL
                CHECK (type IN ('depends_on', 'runs_on', 'hosted_in', 'backed_up_by', 'replicates_to', 'provided_by')),
    grp         text        NOT NULL DEFAULT '',
    min_up      integer     NOT NULL DEFAULT 0 CHECK (min_up >= 0),
    source      text        NOT NULL DEFAULT 'manual',
    external_id text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (from_id <> to_id),
    CHECK ((grp = '') = (min_up = 0)),
    UNIQUE (from_id, to_id, type),
    UNIQUE (source, external_id)
);
CREATE INDEX relations_to ON relations (to_id);

-- cmdb_version counts changes to the graph so a replica can tell its
-- in-memory copy is stale.
CREATE TABLE cmdb_version (
    id      integer PRIMARY KEY CHECK (id = 1),
    version bigint  NOT NULL
);
INSERT INTO cmdb_version VALUES (1, 0);

-- The bump runs once per statement and only when the statement changed
-- rows, so re-importing an unchanged file leaves the version alone.
-- +goose StatementBegin
CREATE FUNCTION cmdb_bump_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM changed_rows) THEN
        UPDATE cmdb_version SET version = version + 1 WHERE id = 1;
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER cis_bump_on_insert AFTER INSERT ON cis REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION cmdb_bump_version();
CREATE TRIGGER cis_bump_on_update AFTER UPDATE ON cis REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION cmdb_bump_version();
CREATE TRIGGER cis_bump_on_delete AFTER DELETE ON cis REFERENCING OLD TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION cmdb_bump_version();
CREATE TRIGGER relations_bump_on_insert AFTER INSERT ON relations REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION cmdb_bump_version();
CREATE TRIGGER relations_bump_on_update AFTER UPDATE ON relations REFERENCING NEW TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION cmdb_bump_version();
CREATE TRIGGER relations_bump_on_delete AFTER DELETE ON relations REFERENCING OLD TABLE AS changed_rows
    FOR EACH STATEMENT EXECUTE FUNCTION cmdb_bump_version();

-- +goose Down
DROP TABLE cmdb_version;
DROP FUNCTION cmdb_bump_version();
DROP TABLE relations;
DROP TABLE business_services;
DROP TABLE cis;
