-- +goose Up
-- Recovery runbooks. A runbook is scoped to the loss of one business
-- service or to a scenario of failed CIs (kept by key: a scenario CI that
-- leaves the CMDB shows up as a changed scope, it does not block the
-- deletion). At most one runbook in force per service.
CREATE TABLE runbooks (
    id         bigserial   PRIMARY KEY,
    title      text        NOT NULL CHECK (length(title) BETWEEN 1 AND 1000),
    service_id bigint      REFERENCES cis (id) ON DELETE RESTRICT,
    failed     text[]      NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    retired_at timestamptz,
    retired_by text        NOT NULL DEFAULT '',
    CHECK ((service_id IS NULL) <> (cardinality(failed) = 0))
);
CREATE UNIQUE INDEX runbooks_one_per_service ON runbooks (service_id) WHERE retired_at IS NULL AND service_id IS NOT NULL;

-- Every version is kept. A draft is edited in place; approving it
-- supersedes the approved one; editing an approved version starts a new
-- draft. scope_cis and scope_relations are the CMDB scope the steps were
-- generated over and fingerprint its hash: approval records them, and
-- staleness compares them with the CMDB as it is.
CREATE TABLE runbook_versions (
    runbook_id      bigint      NOT NULL REFERENCES runbooks (id) ON DELETE CASCADE,
    version         integer     NOT NULL CHECK (version >= 1),
    status          text        NOT NULL CHECK (status IN ('draft', 'approved', 'superseded', 'retired')),
    steps           jsonb       NOT NULL,
    sections        jsonb       NOT NULL,
    next_step       integer     NOT NULL CHECK (next_step >= 1),
    scope_cis       text[]      NOT NULL,
    scope_relations text[]      NOT NULL,
    redundant       text[]      NOT NULL DEFAULT '{}',
    fingerprint     text        NOT NULL,
    bia_versions    jsonb       NOT NULL DEFAULT '{}',
    created_at      timestamptz NOT NULL,
    created_by      text        NOT NULL,
    approved_at     timestamptz,
    approved_by     text        NOT NULL DEFAULT '',
    ended_at        timestamptz,
    PRIMARY KEY (runbook_id, version),
    CHECK (status <> 'draft' OR approved_at IS NULL),
    CHECK (status NOT IN ('approved', 'superseded') OR approved_at IS NOT NULL)
);
CREATE UNIQUE INDEX runbook_versions_one_draft ON runbook_versions (runbook_id) WHERE status = 'draft';
CREATE UNIQUE INDEX runbook_versions_one_approved ON runbook_versions (runbook_id) WHERE status = 'approved';

-- Annual reviews (年度审查) of approved versions.
CREATE TABLE runbook_reviews (
    id          bigserial   PRIMARY KEY,
    runbook_id  bigint      NOT NULL,
    version     integer     NOT NULL,
    reviewed_at timestamptz NOT NULL,
    reviewed_by text        NOT NULL,
    notes       text        NOT NULL DEFAULT '',
    FOREIGN KEY (runbook_id, version) REFERENCES runbook_versions (runbook_id, version) ON DELETE CASCADE
);
CREATE INDEX runbook_reviews_version ON runbook_reviews (runbook_id, version, reviewed_at DESC);

-- +goose Down
DROP TABLE runbook_reviews;
DROP TABLE runbook_versions;
DROP TABLE runbooks;
