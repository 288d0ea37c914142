-- +goose Up
-- cmdb_changes (beside cmdb_version, which orchestrator/impact reads too)
-- logs which CIs changed at which cmdb_version, so a replica holding the
-- graph at version V reads "what changed since V" in one query and patches
-- its copy instead of reading the whole CMDB again. kind 'ci' is the CI's
-- own row (inserted, updated or deleted); kind 'relations' means its
-- outgoing relations changed (for a relation moved to another CI, both CIs
-- are logged).
--
-- The log describes every version above cmdb_version.logged_from. It keeps
-- the last 1,000 versions, pruned by the statement that writes a newer one
-- (so no replica's progress is needed to prune it, and a replica further
-- behind reads the whole CMDB); a statement changing more than 1,000 rows
-- (a bulk import) is not logged row by row but moves logged_from to its own
-- version, which sends every replica to a full read.
ALTER TABLE cmdb_version ADD COLUMN logged_from bigint;
UPDATE cmdb_version SET logged_from = version;
ALTER TABLE cmdb_version ALTER COLUMN logged_from SET NOT NULL;

CREATE TABLE cmdb_changes (
    version bigint NOT NULL,
    kind    text   NOT NULL CHECK (kind IN ('ci', 'relations')),
    ci_id   bigint NOT NULL
);
CREATE INDEX cmdb_changes_version ON cmdb_changes (version);

-- One function for the six statement triggers: it still bumps the version
-- once per statement that changed rows, under the cmdb_version row lock,
-- which also orders every write to the log.
-- +goose StatementBegin
CREATE FUNCTION cmdb_log_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changed bigint[];
    v       bigint;
BEGIN
    IF TG_TABLE_NAME = 'cis' AND TG_OP = 'DELETE' THEN
        SELECT array_agg(id) INTO changed FROM old_rows;
    ELSIF TG_TABLE_NAME = 'cis' THEN
        SELECT array_agg(id) INTO changed FROM new_rows;
    ELSIF TG_OP = 'INSERT' THEN
        SELECT array_agg(DISTINCT from_id) INTO changed FROM new_rows;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(DISTINCT from_id) INTO changed FROM old_rows;
    ELSE
        SELECT array_agg(DISTINCT from_id) INTO changed
        FROM (SELECT from_id FROM old_rows UNION ALL SELECT from_id FROM new_rows) r;
    END IF;
    IF changed IS NULL THEN
        RETURN NULL;
    END IF;
    UPDATE cmdb_version SET version = version + 1 WHERE id = 1 RETURNING version INTO v;
    IF cardinality(changed) > 1000 THEN
        DELETE FROM cmdb_changes;
        UPDATE cmdb_version SET logged_from = v WHERE id = 1;
        RETURN NULL;
    END IF;
    INSERT INTO cmdb_changes (version, kind, ci_id)
    SELECT v, CASE TG_TABLE_NAME WHEN 'cis' THEN 'ci' ELSE 'relations' END, unnest(changed);
    DELETE FROM cmdb_changes WHERE version <= v - 1000;
    UPDATE cmdb_version SET logged_from = v - 1000 WHERE id = 1 AND logged_from < v - 1000;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

DROP TRIGGER cis_bump_on_insert ON cis;
DROP TRIGGER cis_bump_on_update ON cis;
DROP TRIGGER cis_bump_on_delete ON cis;
DROP TRIGGER relations_bump_on_insert ON relations;
DROP TRIGGER relations_bump_on_update ON relations;
DROP TRIGGER relations_bump_on_delete ON relations;
DROP FUNCTION cmdb_bump_version();

CREATE TRIGGER cis_log_insert AFTER INSERT ON cis REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION cmdb_log_change();
CREATE TRIGGER cis_log_update AFTER UPDATE ON cis REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION cmdb_log_change();
CREATE TRIGGER cis_log_delete AFTER DELETE ON cis REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION cmdb_log_change();
CREATE TRIGGER relations_log_insert AFTER INSERT ON relations REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION cmdb_log_change();
CREATE TRIGGER relations_log_update AFTER UPDATE ON relations REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION cmdb_log_change();
CREATE TRIGGER relations_log_delete AFTER DELETE ON relations REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION cmdb_log_change();

-- +goose Down
DROP TRIGGER cis_log_insert ON cis;
DROP TRIGGER cis_log_update ON cis;
DROP TRIGGER cis_log_delete ON cis;
DROP TRIGGER relations_log_insert ON relations;
DROP TRIGGER relations_log_update ON relations;
DROP TRIGGER relations_log_delete ON relations;
DROP FUNCTION cmdb_log_change();
DROP TABLE cmdb_changes;
ALTER TABLE cmdb_version DROP COLUMN logged_from;

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
