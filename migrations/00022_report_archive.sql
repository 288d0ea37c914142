-- +goose Up
-- report_archive (report): every report a schedule or a job made, kept
-- with its SHA-256 so that a copy sent by email or downloaded later can be
-- checked against it. run_id is the scheduler firing that made it: one
-- report per firing, however often the run is retried.
CREATE TABLE report_archive (
    id           bigserial   PRIMARY KEY,
    kind         text        NOT NULL,
    subject      text        NOT NULL DEFAULT '',
    period       text        NOT NULL DEFAULT '',
    format       text        NOT NULL CHECK (format IN ('json', 'html', 'pdf')),
    lang         text        NOT NULL CHECK (lang IN ('en', 'zh-CN')),
    filename     text        NOT NULL,
    content_type text        NOT NULL,
    size         bigint      NOT NULL CHECK (size = octet_length(body)),
    sha256       text        NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    body         bytea       NOT NULL,
    schedule_id  bigint      REFERENCES schedules (id) ON DELETE SET NULL,
    run_id       bigint      UNIQUE REFERENCES schedule_runs (id) ON DELETE SET NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    created_by   text        NOT NULL
);
CREATE INDEX report_archive_newest ON report_archive (id DESC);
CREATE INDEX report_archive_kind ON report_archive (kind, id DESC);

-- report_jobs (report): a report asked for that took longer than the
-- request was willing to wait. The replica making it updates stage,
-- progress and heartbeat_at; a running job whose heartbeat stopped lost
-- its replica. A finished job points at its report in the archive.
CREATE TABLE report_jobs (
    id           bigserial   PRIMARY KEY,
    request      jsonb       NOT NULL,
    status       text        NOT NULL CHECK (status IN ('running', 'done', 'failed')),
    stage        text        NOT NULL,
    progress     real        NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 1),
    error        text        NOT NULL DEFAULT '' CHECK (octet_length(error) <= 2048),
    archive_id   bigint      REFERENCES report_archive (id) ON DELETE SET NULL,
    replica      text        NOT NULL DEFAULT '',
    heartbeat_at timestamptz NOT NULL DEFAULT now(),
    created_at   timestamptz NOT NULL DEFAULT now(),
    created_by   text        NOT NULL,
    finished_at  timestamptz,
    CHECK ((status = 'running') = (finished_at IS NULL)),
    CHECK (status <> 'failed' OR error <> '')
);
CREATE INDEX report_jobs_finished ON report_jobs (finished_at) WHERE finished_at IS NOT NULL;

-- +goose Down
DROP TABLE report_jobs;
DROP TABLE report_archive;
