-- +goose Up
-- Executions of runbooks (runbooks/execution): a real invocation of the
-- plan or a drill. The steps are copied from the runbook version when the
-- execution starts, so later edits of the runbook change nothing in it.
CREATE TABLE executions (
    id            bigserial PRIMARY KEY,
    runbook_id    bigint      NOT NULL REFERENCES runbooks (id),
    version       integer     NOT NULL,
    title         text        NOT NULL,
    -- targets: each business service in scope and its RTO in seconds
    -- (null without an approved BIA), as the runbook stood at the start.
    targets       jsonb       NOT NULL DEFAULT '{}',
    mode          text        NOT NULL CHECK (mode IN ('invocation', 'drill')),
    scenario      jsonb,
    failure_point timestamptz,
    note          text        NOT NULL DEFAULT '' CHECK (length(note) <= 4000),
    status        text        NOT NULL DEFAULT 'running'
                  CHECK (status IN ('running', 'paused', 'succeeded', 'failed', 'aborted')),
    reason        text        NOT NULL DEFAULT '' CHECK (length(reason) <= 2000),
    started_by    text        NOT NULL,
    started_at    timestamptz NOT NULL,
    -- measured_at: every step but the clean-up ones had ended, so the
    -- recovery is measured; finished_at: every step had ended.
    measured_at   timestamptz,
    finished_at   timestamptz,
    updated_at    timestamptz NOT NULL,
    -- How many steps have not ended (open), of them not clean-up ones,
    -- failed, and waiting, queued or running (active): kept by every
    -- transition, so that deciding the execution's status reads one row.
    open_steps     integer     NOT NULL DEFAULT 0,
    open_recovery  integer     NOT NULL DEFAULT 0,
    failed_steps   integer     NOT NULL DEFAULT 0,
    active_steps   integer     NOT NULL DEFAULT 0
);
CREATE INDEX executions_runbook ON executions (runbook_id, id DESC);
CREATE INDEX executions_active ON executions (id) WHERE status IN ('running', 'paused');

-- One row per step. Automated steps are work on the lease queue
-- (orchestrator/leasequeue): pending, claimed into running by one replica,
-- finished under its lease. Manual and decision steps wait for a person.
-- blocked: a dependency has not ended; bypassed: on a branch a decision
-- did not take.
CREATE TABLE execution_steps (
    id               bigserial PRIMARY KEY,
    execution_id     bigint      NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
    step_id          text        NOT NULL,
    position         integer     NOT NULL,
    -- spec is the runbook step as it was copied; the columns after it are
    -- what the engine and the board read of it.
    spec             jsonb       NOT NULL,
    kind             text        NOT NULL CHECK (kind IN ('automated', 'manual', 'decision')),
    runbook_kind     text        NOT NULL,
    title            text        NOT NULL,
    ci               text        NOT NULL DEFAULT '',
    owner_role       text        NOT NULL DEFAULT '',
    estimate_ms      bigint      NOT NULL DEFAULT 0,
    decision_role    text        NOT NULL DEFAULT '',
    depends_on       text[]      NOT NULL,
    mandatory        boolean     NOT NULL,
    cleanup          boolean     NOT NULL,
    on_reject        text        NOT NULL DEFAULT '',
    -- callable: the engine calls this step (automated, and in a drill only
    -- with a drill URL); otherwise a person performs it.
    callable         boolean     NOT NULL,
    delay_ms         bigint      NOT NULL DEFAULT 0,
    status           text        NOT NULL DEFAULT 'blocked'
                     CHECK (status IN ('blocked', 'waiting', 'pending', 'running', 'succeeded', 'failed',
                                       'gave_up', 'skipped', 'rejected', 'bypassed', 'cancelled')),
    attempts         integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    replica          text        NOT NULL DEFAULT '',
    lease_expires_at timestamptz,
    heartbeat_at     timestamptz,
    run_after        timestamptz NOT NULL DEFAULT now(),
    idempotency_key  text        NOT NULL,
    ready_at         timestamptz,
    started_at       timestamptz,
    finished_at      timestamptz,
    done_by          text        NOT NULL DEFAULT '',
    note             text        NOT NULL DEFAULT '' CHECK (length(note) <= 4000),
    evidence         text[]      NOT NULL DEFAULT '{}',
    recovered_at     timestamptz,
    output           text        NOT NULL DEFAULT '' CHECK (octet_length(output) <= 4096),
    error            text        NOT NULL DEFAULT '' CHECK (octet_length(error) <= 2048),
    UNIQUE (execution_id, step_id),
    CHECK ((status = 'running') = (lease_expires_at IS NOT NULL))
);
CREATE INDEX execution_steps_due ON execution_steps (run_after, id) WHERE status = 'pending';
-- The steps waiting on a step, found when it ends.
CREATE INDEX execution_steps_depends ON execution_steps USING gin (depends_on) WHERE status = 'blocked';
CREATE INDEX execution_steps_leases ON execution_steps (lease_expires_at) WHERE status = 'running';

-- The timeline: one row per transition, in order; the audit chain holds
-- the same transitions.
CREATE TABLE execution_events (
    id           bigserial PRIMARY KEY,
    execution_id bigint      NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
    at           timestamptz NOT NULL,
    actor        text        NOT NULL,
    step_id      text        NOT NULL DEFAULT '',
    type         text        NOT NULL,
    detail       text        NOT NULL DEFAULT '' CHECK (octet_length(detail) <= 4096)
);
CREATE INDEX execution_events_execution ON execution_events (execution_id, id);

-- Text files attached to a step by the person who did it (a console
-- transcript, a checklist): evidence kept with the execution.
CREATE TABLE execution_attachments (
    id           bigserial PRIMARY KEY,
    execution_id bigint      NOT NULL REFERENCES executions (id) ON DELETE CASCADE,
    step_id      text        NOT NULL,
    name         text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    content      text        NOT NULL CHECK (octet_length(content) <= 65536),
    added_by     text        NOT NULL,
    added_at     timestamptz NOT NULL
);
CREATE INDEX execution_attachments_step ON execution_attachments (execution_id, step_id, id);

-- +goose Down
DROP TABLE execution_attachments;
DROP TABLE execution_events;
DROP TABLE execution_steps;
DROP TABLE executions;
