-- +goose Up
-- itsm_sync_marks (itsmsync): how far each itsm_sync schedule has read each
-- table of its ServiceNow instance. high_water is the largest
-- sys_updated_on imported (UTC, whole seconds, as ServiceNow stores it) and
-- tie_ids the sys_ids imported at exactly that instant, so the next run
-- asks for sys_updated_on >= high_water and skips those rows instead of
-- losing the others updated in the same second. A mark moves only after
-- its table's import committed; a run that fails leaves it where it was.
CREATE TABLE itsm_sync_marks (
    schedule_id bigint      NOT NULL REFERENCES schedules (id) ON DELETE CASCADE,
    instance    text        NOT NULL CHECK (length(instance) BETWEEN 1 AND 500),
    sn_table    text        NOT NULL CHECK (length(sn_table) BETWEEN 1 AND 80),
    high_water  timestamptz NOT NULL,
    tie_ids     text[]      NOT NULL DEFAULT '{}',
    rows_read   bigint      NOT NULL DEFAULT 0,
    synced_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (schedule_id, instance, sn_table)
);

-- schedules (scheduler): pulling records from an ITSM tool is a kind of its own.
ALTER TABLE schedules DROP CONSTRAINT schedules_kind_check,
    ADD CONSTRAINT schedules_kind_check
    CHECK (kind IN ('backup_check', 'drill', 'kit_export', 'report', 'review_reminder', 'readiness_snapshot', 'itsm_sync'));

-- +goose Down
DELETE FROM schedules WHERE kind = 'itsm_sync';
ALTER TABLE schedules DROP CONSTRAINT schedules_kind_check,
    ADD CONSTRAINT schedules_kind_check
    CHECK (kind IN ('backup_check', 'drill', 'kit_export', 'report', 'review_reminder', 'readiness_snapshot'));
DROP TABLE itsm_sync_marks;
