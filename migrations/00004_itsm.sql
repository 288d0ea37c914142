-- +goose Up
-- ITSM records: problems, incidents, changes and releases, each linked to
-- the CIs it affects. Every table has (source, external_id) unique so bulk
-- imports can upsert on it. Link tables refuse to let an affected CI be
-- deleted while a record still names it.

-- Trigram index support for incident title search (a trusted extension).
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE problems (
    id          bigserial PRIMARY KEY,
    source      text        NOT NULL DEFAULT 'manual',
    external_id text        NOT NULL,
    title       text        NOT NULL CHECK (length(title) BETWEEN 1 AND 500),
    root_cause  text        NOT NULL DEFAULT '',
    known_error boolean     NOT NULL DEFAULT false,
    workaround  text        NOT NULL DEFAULT '',
    status      text        NOT NULL DEFAULT 'open'
                CHECK (status IN ('open', 'known_error', 'resolved', 'closed')),
    opened_at   timestamptz NOT NULL,
    resolved_at timestamptz CHECK (resolved_at >= opened_at),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (source, external_id)
);
CREATE INDEX problems_status ON problems (status, id);
CREATE INDEX problems_known_error ON problems (id) WHERE known_error;

-- status is derived from the timestamps so it can never disagree with them.
CREATE TABLE incidents (
    id                 bigserial PRIMARY KEY,
    source             text        NOT NULL DEFAULT 'manual',
    external_id        text        NOT NULL,
    title              text        NOT NULL CHECK (length(title) BETWEEN 1 AND 500),
    description        text        NOT NULL DEFAULT '',
    priority           text        NOT NULL CHECK (priority IN ('P1', 'P2', 'P3', 'P4')),
    major              boolean     NOT NULL DEFAULT false,
    cause              text        NOT NULL CHECK (cause IN ('hardware', 'software', 'network', 'power', 'fire',
                           'natural_disaster', 'cyber_attack', 'ransomware', 'human_error', 'supplier', 'other')),
    opened_at          timestamptz NOT NULL,
    restored_at        timestamptz CHECK (restored_at >= opened_at),
    closed_at          timestamptz CHECK (closed_at >= opened_at),
    problem_id         bigint REFERENCES problems (id) ON DELETE SET NULL,
    continuity_invoked boolean     NOT NULL DEFAULT false,
    status             text GENERATED ALWAYS AS (
                           CASE WHEN closed_at IS NOT NULL THEN 'closed'
                                WHEN restored_at IS NOT NULL THEN 'restored'
                                ELSE 'open' END) STORED,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (source, external_id)
);
-- Lists are newest first ((opened_at, id) descending, read backwards from
-- these indexes); each common equality filter has its own leading column so
-- a filtered page of 100 stops after 100 index entries.
CREATE INDEX incidents_opened ON incidents (opened_at, id);
CREATE INDEX incidents_priority ON incidents (priority, opened_at, id);
CREATE INDEX incidents_cause ON incidents (cause, opened_at, id);
CREATE INDEX incidents_status ON incidents (status, opened_at, id);
CREATE INDEX incidents_major ON incidents (opened_at, id) WHERE major;
CREATE INDEX incidents_problem ON incidents (problem_id) WHERE problem_id IS NOT NULL;
CREATE INDEX incidents_title_trgm ON incidents USING gin (title gin_trgm_ops);

CREATE TABLE incident_cis (
    incident_id bigint NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    ci_id       bigint NOT NULL REFERENCES cis (id) ON DELETE RESTRICT,
    PRIMARY KEY (incident_id, ci_id)
);
CREATE INDEX incident_cis_ci ON incident_cis (ci_id, incident_id);

-- Affected business services (CIs of class business_service).
CREATE TABLE incident_services (
    incident_id bigint NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    service_id  bigint NOT NULL REFERENCES cis (id) ON DELETE RESTRICT,
    PRIMARY KEY (incident_id, service_id)
);
CREATE INDEX incident_services_service ON incident_services (service_id, incident_id);

-- implemented_at is when a change took effect: its actual end, else its
-- actual start.
CREATE TABLE changes (
    id             bigserial PRIMARY KEY,
    source         text        NOT NULL DEFAULT 'manual',
    external_id    text        NOT NULL,
    title          text        NOT NULL CHECK (length(title) BETWEEN 1 AND 500),
    type           text        NOT NULL CHECK (type IN ('standard', 'normal', 'emergency')),
    risk           text        NOT NULL CHECK (risk IN ('low', 'medium', 'high')),
    major          boolean     NOT NULL DEFAULT false,
    status         text        NOT NULL DEFAULT 'requested'
                   CHECK (status IN ('requested', 'approved', 'implemented', 'failed', 'rolled_back')),
    planned_start  timestamptz,
    planned_end    timestamptz CHECK (planned_end >= planned_start),
    actual_start   timestamptz,
    actual_end     timestamptz CHECK (actual_end >= actual_start),
    implemented_at timestamptz GENERATED ALWAYS AS (coalesce(actual_end, actual_start)) STORED,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (source, external_id)
);
CREATE INDEX changes_status ON changes (status, id);
CREATE INDEX changes_implemented ON changes (implemented_at) WHERE implemented_at IS NOT NULL;

CREATE TABLE change_cis (
    change_id bigint NOT NULL REFERENCES changes (id) ON DELETE CASCADE,
    ci_id     bigint NOT NULL REFERENCES cis (id) ON DELETE RESTRICT,
    PRIMARY KEY (change_id, ci_id)
);
CREATE INDEX change_cis_ci ON change_cis (ci_id, change_id);

CREATE TABLE releases (
    id          bigserial PRIMARY KEY,
    source      text        NOT NULL DEFAULT 'manual',
    external_id text        NOT NULL,
    version     text        NOT NULL CHECK (length(version) BETWEEN 1 AND 100),
    title       text        NOT NULL DEFAULT '',
    status      text        NOT NULL DEFAULT 'planned'
                CHECK (status IN ('planned', 'deployed', 'failed', 'rolled_back')),
    deployed_at timestamptz CHECK (status <> 'deployed' OR deployed_at IS NOT NULL),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (source, external_id)
);
CREATE INDEX releases_status ON releases (status, id);
CREATE INDEX releases_deployed ON releases (deployed_at) WHERE deployed_at IS NOT NULL;

CREATE TABLE release_cis (
    release_id bigint NOT NULL REFERENCES releases (id) ON DELETE CASCADE,
    ci_id      bigint NOT NULL REFERENCES cis (id) ON DELETE RESTRICT,
    PRIMARY KEY (release_id, ci_id)
);
CREATE INDEX release_cis_ci ON release_cis (ci_id, release_id);

-- +goose Down
DROP TABLE release_cis;
DROP TABLE releases;
DROP TABLE change_cis;
DROP TABLE changes;
DROP TABLE incident_services;
DROP TABLE incident_cis;
DROP TABLE incidents;
DROP TABLE problems;
