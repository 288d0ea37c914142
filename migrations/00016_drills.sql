-- +goose Up
-- Drills (drills/): the policy per tier, the yearly programme, drills and
-- their timelines, the improvement register (服务改进汇总表), retest
-- waivers, invocation reviews and calendar feeds.

-- How often each tier is drilled and how (DESIGN.md defaults), editable.
CREATE TABLE drill_policies (
    tier       smallint    PRIMARY KEY CHECK (tier BETWEEN 0 AND 4),
    drill_type text        NOT NULL CHECK (drill_type IN ('tabletop', 'walkthrough', 'simulation', 'technical', 'full_interruption')),
    per_year   integer     NOT NULL CHECK (per_year BETWEEN 1 AND 12),
    updated_by text        NOT NULL DEFAULT '',
    updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO drill_policies (tier, drill_type, per_year) VALUES
    (0, 'technical', 2), (1, 'technical', 2), (2, 'simulation', 1), (3, 'tabletop', 1), (4, 'tabletop', 1);

-- One programme per year: the settings it was proposed under and its
-- entries, editable while a draft; approval creates the drills.
CREATE TABLE drill_programmes (
    year        integer     PRIMARY KEY CHECK (year BETWEEN 2000 AND 2200),
    status      text        NOT NULL CHECK (status IN ('draft', 'approved')),
    settings    jsonb       NOT NULL,
    entries     jsonb       NOT NULL,
    proposed_by text        NOT NULL,
    proposed_at timestamptz NOT NULL,
    approved_by text        NOT NULL DEFAULT '',
    approved_at timestamptz,
    updated_at  timestamptz NOT NULL
);

CREATE TABLE drills (
    id             bigserial   PRIMARY KEY,
    programme_year integer     REFERENCES drill_programmes (year),
    title          text        NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
    type           text        NOT NULL CHECK (type IN ('tabletop', 'walkthrough', 'simulation', 'technical', 'full_interruption')),
    -- scenario: {"kind": "risk"|"disruption"|"text", "ref": ..., "text": ...}
    scenario       jsonb       NOT NULL DEFAULT '{}',
    services       text[]      NOT NULL,
    runbooks       bigint[]    NOT NULL,
    participants   jsonb       NOT NULL DEFAULT '[]',
    objectives     text[]      NOT NULL DEFAULT '{}',
    -- criteria: success criteria beyond the targets (free text), and
    -- per-service RTO/RPO overrides; the approved targets by default.
    criteria       jsonb       NOT NULL DEFAULT '{}',
    planned_start  timestamptz NOT NULL,
    -- retest: planned to retest open findings or a stale runbook.
    retest         boolean     NOT NULL DEFAULT false,
    status         text        NOT NULL DEFAULT 'planned'
                   CHECK (status IN ('planned', 'in_progress', 'completed', 'cancelled')),
    -- A full interruption runs only once an admin approved it.
    approved_by    text        NOT NULL DEFAULT '',
    approved_at    timestamptz,
    executions     bigint[]    NOT NULL DEFAULT '{}',
    started_by     text        NOT NULL DEFAULT '',
    started_at     timestamptz,
    completed_at   timestamptz,
    result         text        CHECK (result IN ('pass', 'partial', 'fail')),
    -- outcome: per service RTO/RPO achieved against the criteria, steps
    -- that overran, mandatory steps not done, as scored at completion.
    outcome        jsonb,
    -- report: the after-action report's written parts.
    report         jsonb       NOT NULL DEFAULT '{}',
    schedule_id    bigint,
    reminded_at    timestamptz,
    created_by     text        NOT NULL,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL
);
CREATE INDEX drills_planned ON drills (planned_start);
CREATE INDEX drills_runbooks ON drills USING gin (runbooks);

-- The timeline of a drill without an execution (tabletop, walkthrough),
-- and evidence, notes and hot-wash answers of every drill.
CREATE TABLE drill_events (
    id       bigserial   PRIMARY KEY,
    drill_id bigint      NOT NULL REFERENCES drills (id) ON DELETE CASCADE,
    at       timestamptz NOT NULL,
    actor    text        NOT NULL,
    type     text        NOT NULL CHECK (type IN ('started', 'walked', 'confirmed', 'decision', 'issue', 'note',
                                                  'evidence', 'hotwash', 'completed', 'cancelled', 'approved')),
    step     text        NOT NULL DEFAULT '',
    detail   text        NOT NULL DEFAULT '' CHECK (length(detail) <= 8000)
);
CREATE INDEX drill_events_drill ON drill_events (drill_id, id);

-- The improvement register (服务改进汇总表).
CREATE TABLE findings (
    id              bigserial   PRIMARY KEY,
    source          text        NOT NULL CHECK (source IN ('drill', 'model_gap', 'audit', 'incident_review', 'invocation_review')),
    severity        text        NOT NULL CHECK (severity IN ('critical', 'high', 'medium', 'low')),
    title           text        NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
    description     text        NOT NULL DEFAULT '' CHECK (length(description) <= 8000),
    owner           text        NOT NULL DEFAULT '',
    due_date        date,
    status          text        NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'in_progress', 'resolved', 'verified')),
    services        text[]      NOT NULL DEFAULT '{}',
    runbooks        bigint[]    NOT NULL DEFAULT '{}',
    cis             text[]      NOT NULL DEFAULT '{}',
    retest          boolean     NOT NULL DEFAULT false,
    drill_id        bigint      REFERENCES drills (id),
    execution_id    bigint      REFERENCES executions (id),
    verified_by     bigint      REFERENCES drills (id),
    -- origin: what raised it automatically ("drill/12/rto/etax",
    -- "gap/rpo_breach/etax-db"), so raising it twice adds nothing.
    origin          text        UNIQUE,
    resolution      text        NOT NULL DEFAULT '' CHECK (length(resolution) <= 4000),
    created_by      text        NOT NULL,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    resolved_at     timestamptz,
    verified_at     timestamptz,
    overdue_noticed date
);
CREATE INDEX findings_open ON findings (due_date) WHERE status <> 'verified';
CREATE INDEX findings_runbooks ON findings USING gin (runbooks);

-- An admin's waiver of a runbook's retest: clears retest_required as of
-- its time, and is reported as a waiver, never as a pass.
CREATE TABLE retest_waivers (
    id         bigserial   PRIMARY KEY,
    runbook_id bigint      NOT NULL REFERENCES runbooks (id),
    reason     text        NOT NULL CHECK (length(reason) BETWEEN 10 AND 2000),
    waived_by  text        NOT NULL,
    waived_at  timestamptz NOT NULL
);
CREATE INDEX retest_waivers_runbook ON retest_waivers (runbook_id, waived_at DESC);

-- The review of a real invocation, shaped like a drill's after-action report.
CREATE TABLE invocation_reviews (
    execution_id bigint      PRIMARY KEY REFERENCES executions (id),
    report       jsonb       NOT NULL DEFAULT '{}',
    status       text        NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    created_at   timestamptz NOT NULL,
    updated_by   text        NOT NULL DEFAULT '',
    updated_at   timestamptz NOT NULL
);

-- Read-only calendar feed tokens: only the SHA-256 of the token is kept.
CREATE TABLE drill_calendar_feeds (
    id         bigserial   PRIMARY KEY,
    token_hash bytea       NOT NULL UNIQUE,
    name       text        NOT NULL DEFAULT '',
    created_by text        NOT NULL,
    created_at timestamptz NOT NULL,
    revoked_at timestamptz
);

-- +goose Down
DROP TABLE drill_calendar_feeds;
DROP TABLE invocation_reviews;
DROP TABLE retest_waivers;
DROP TABLE findings;
DROP TABLE drill_events;
DROP TABLE drills;
DROP TABLE drill_programmes;
DROP TABLE drill_policies;
