-- +goose Up
-- Backup targets: where a CI's backups live and how to prove them. config
-- holds references to secrets (environment variable names, file paths),
-- never the secrets themselves. Each target owns one backup_check schedule;
-- deleting the schedule by hand leaves the target without one (NULL).
CREATE TABLE backup_targets (
    id           bigserial PRIMARY KEY,
    ci_id        bigint      NOT NULL REFERENCES cis (id),
    name         text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    kind         text        NOT NULL
                 CHECK (kind IN ('restic', 'borg', 'pgbackrest', 'pg_basebackup', 'file', 'http')),
    config       jsonb       NOT NULL DEFAULT '{}',
    restore_test boolean     NOT NULL DEFAULT false,
    timeout_s    bigint      NOT NULL CHECK (timeout_s > 0),
    max_age_s    bigint      CHECK (max_age_s > 0),
    schedule_id  bigint      REFERENCES schedules (id) ON DELETE SET NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX backup_targets_ci ON backup_targets (ci_id, id);
CREATE UNIQUE INDEX backup_targets_schedule ON backup_targets (schedule_id);

-- One row per check. verified means the backup's integrity was proven by
-- this check (restic/borg check, pg_verifybackup, a SHA-256 manifest, ...);
-- RPO compliance counts verified backups only.
CREATE TABLE backup_checks (
    id               bigserial PRIMARY KEY,
    target_id        bigint      NOT NULL REFERENCES backup_targets (id) ON DELETE CASCADE,
    trigger          text        NOT NULL CHECK (trigger IN ('manual', 'schedule')),
    status           text        NOT NULL CHECK (status IN ('ok', 'warning', 'failed', 'error')),
    latest_backup_at timestamptz,
    verified         boolean     NOT NULL,
    size_bytes       bigint      CHECK (size_bytes >= 0),
    attempts         integer     NOT NULL DEFAULT 1 CHECK (attempts >= 0),
    started_at       timestamptz NOT NULL,
    duration_ms      bigint      NOT NULL CHECK (duration_ms >= 0),
    message          text        NOT NULL DEFAULT '' CHECK (octet_length(message) <= 1024),
    output           text        NOT NULL DEFAULT '' CHECK (octet_length(output) <= 4096),
    CHECK (status IN ('ok', 'warning') OR NOT verified)
);
CREATE INDEX backup_checks_target ON backup_checks (target_id, id DESC);
CREATE INDEX backup_checks_verified ON backup_checks (target_id, latest_backup_at DESC) WHERE verified;

-- +goose Down
DROP TABLE backup_checks;
DROP TABLE backup_targets;
