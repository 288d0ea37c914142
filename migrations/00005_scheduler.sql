-- +goose Up
-- Cron schedules. next_fire_at is the next firing the tick has not yet
-- turned into a run row; NULL when the expression never fires again.
CREATE TABLE schedules (
    id                bigserial PRIMARY KEY,
    name              text        NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
    kind              text        NOT NULL
                      CHECK (kind IN ('backup_check', 'drill', 'kit_export', 'report', 'review_reminder')),
    target            text        NOT NULL DEFAULT '' CHECK (length(target) <= 500),
    cron              text        NOT NULL CHECK (length(cron) BETWEEN 1 AND 200),
    timezone          text        NOT NULL DEFAULT 'UTC',
    enabled           boolean     NOT NULL DEFAULT true,
    -- Misfire policy: a firing noticed late but within the window runs once;
    -- older ones are recorded as missed.
    catch_up_window_s bigint      NOT NULL DEFAULT 3600 CHECK (catch_up_window_s >= 0),
    jitter_s          bigint      NOT NULL DEFAULT 0 CHECK (jitter_s >= 0),
    max_run_s         bigint      NOT NULL DEFAULT 3600 CHECK (max_run_s > 0),
    next_fire_at      timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    created_by        text        NOT NULL DEFAULT ''
);
CREATE INDEX schedules_due ON schedules (next_fire_at) WHERE enabled;
CREATE INDEX schedules_kind_target ON schedules (kind, target);

-- One row per firing: the unique key is what makes a firing happen once
-- however many replicas compute it. A running row belongs to the replica
-- that holds its lease; (replica, attempts) fences late writes from a
-- replica whose lease was taken over.
CREATE TABLE schedule_runs (
    id               bigserial PRIMARY KEY,
    schedule_id      bigint      NOT NULL REFERENCES schedules (id) ON DELETE CASCADE,
    fire_at          timestamptz NOT NULL,
    run_after        timestamptz NOT NULL,
    manual           boolean     NOT NULL DEFAULT false,
    status           text        NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'running', 'succeeded', 'failed', 'missed', 'cancelled')),
    attempts         integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    replica          text        NOT NULL DEFAULT '',
    lease_expires_at timestamptz,
    heartbeat_at     timestamptz,
    started_at       timestamptz,
    finished_at      timestamptz,
    output           text        NOT NULL DEFAULT '' CHECK (octet_length(output) <= 4096),
    error            text        NOT NULL DEFAULT '' CHECK (octet_length(error) <= 2048),
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (schedule_id, fire_at),
    CHECK ((status = 'running') = (lease_expires_at IS NOT NULL))
);
CREATE INDEX schedule_runs_due ON schedule_runs (run_after, id) WHERE status = 'pending';
CREATE INDEX schedule_runs_leases ON schedule_runs (lease_expires_at) WHERE status = 'running';

-- +goose Down
DROP TABLE schedule_runs;
DROP TABLE schedules;
