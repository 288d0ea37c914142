-- +goose Up
-- The impact model's records: organisation-wide BIA settings, versioned
-- business impact analyses and the risk register. The dependency graph
-- itself is the CMDB (cis, relations) read into memory.

-- One row at most; without it the DESIGN.md defaults apply.
CREATE TABLE bia_settings (
    id         integer     PRIMARY KEY CHECK (id = 1),
    settings   jsonb       NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by text        NOT NULL DEFAULT ''
);

-- Each BIA version of a business service. At most one draft per service,
-- always the newest version; approving freezes it, and editing after that
-- starts version n+1. settings are those the version was validated with,
-- so its derived figures (MTPD, tier) do not move when settings change.
-- rto_s and rpo_s repeat the assessment's targets for roll-down queries.
CREATE TABLE bia_versions (
    service_id  bigint      NOT NULL REFERENCES cis (id) ON DELETE RESTRICT,
    version     integer     NOT NULL CHECK (version >= 1),
    status      text        NOT NULL CHECK (status IN ('draft', 'approved')),
    assessment  jsonb       NOT NULL,
    settings    jsonb       NOT NULL,
    rto_s       bigint      NOT NULL CHECK (rto_s > 0),
    rpo_s       bigint      NOT NULL CHECK (rpo_s >= 0),
    wrt_s       bigint      NOT NULL CHECK (wrt_s >= 0),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    updated_by  text        NOT NULL DEFAULT '',
    approved_at timestamptz,
    approved_by text        NOT NULL DEFAULT '',
    PRIMARY KEY (service_id, version),
    CHECK ((status = 'approved') = (approved_at IS NOT NULL))
);
CREATE UNIQUE INDEX bia_versions_one_draft ON bia_versions (service_id) WHERE status = 'draft';
CREATE INDEX bia_versions_approved ON bia_versions (service_id, version DESC) WHERE status = 'approved';

-- The risk register. Threats are the incident cause categories so that
-- incident history can be matched to them. The scope names CIs, sites and
-- suppliers by key; they are checked when a risk is written, and a key
-- that disappears later is reported when the risk is quantified.
CREATE TABLE risks (
    id                  bigserial   PRIMARY KEY,
    title               text        NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    threat              text        NOT NULL CHECK (threat IN ('hardware', 'software', 'network', 'power', 'fire',
                            'natural_disaster', 'cyber_attack', 'ransomware', 'human_error', 'supplier', 'other')),
    scope_cis           text[]      NOT NULL DEFAULT '{}',
    scope_sites         text[]      NOT NULL DEFAULT '{}',
    scope_suppliers     text[]      NOT NULL DEFAULT '{}',
    description         text        NOT NULL DEFAULT '',
    likelihood          integer     NOT NULL CHECK (likelihood BETWEEN 1 AND 5),
    impact              integer     NOT NULL CHECK (impact BETWEEN 1 AND 5),
    inherent_score      integer     GENERATED ALWAYS AS (likelihood * impact) STORED,
    controls            text[]      NOT NULL DEFAULT '{}',
    residual_likelihood integer     NOT NULL CHECK (residual_likelihood BETWEEN 1 AND 5),
    residual_impact     integer     NOT NULL CHECK (residual_impact BETWEEN 1 AND 5),
    residual_score      integer     GENERATED ALWAYS AS (residual_likelihood * residual_impact) STORED,
    treatment           text        NOT NULL CHECK (treatment IN ('mitigate', 'accept', 'transfer', 'avoid')),
    owner               text        NOT NULL DEFAULT '',
    review_date         date,
    source              text        NOT NULL DEFAULT 'manual',
    external_id         text        NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (source, external_id)
);
CREATE INDEX risks_threat ON risks (threat, id);
CREATE INDEX risks_scope_cis ON risks USING gin (scope_cis);

-- +goose Down
DROP TABLE risks;
DROP TABLE bia_versions;
DROP TABLE bia_settings;
