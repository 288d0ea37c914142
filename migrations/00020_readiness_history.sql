-- +goose Up
-- readiness_snapshots (report): the organisation's readiness, one row per
-- day (UTC). Taking the day's snapshot again replaces it, so several
-- replicas or a manual run never make two. source says who took it: the
-- scheduler's job, or the demo (whose earlier points are derived, not
-- measured).
CREATE TABLE readiness_snapshots (
    day        date        PRIMARY KEY,
    score      numeric(5, 1) NOT NULL CHECK (score BETWEEN 0 AND 100),
    status     text        NOT NULL CHECK (status IN ('ready', 'at_risk', 'not_ready')),
    counts     jsonb       NOT NULL,
    services   jsonb       NOT NULL DEFAULT '[]',
    source     text        NOT NULL CHECK (source IN ('scheduler', 'demo')),
    taken_at   timestamptz NOT NULL
);

-- schedules (scheduler): the daily snapshot is a schedule of its own kind.
ALTER TABLE schedules DROP CONSTRAINT schedules_kind_check,
    ADD CONSTRAINT schedules_kind_check
    CHECK (kind IN ('backup_check', 'drill', 'kit_export', 'report', 'review_reminder', 'readiness_snapshot'));

-- +goose Down
DELETE FROM schedules WHERE kind = 'readiness_snapshot';
ALTER TABLE schedules DROP CONSTRAINT schedules_kind_check,
    ADD CONSTRAINT schedules_kind_check
    CHECK (kind IN ('backup_check', 'drill', 'kit_export', 'report', 'review_reminder'));
DROP TABLE readiness_snapshots;
