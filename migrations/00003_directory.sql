-- +goose Up
-- The directory: contacts and their deputies, call trees, suppliers with
-- their contracts, and SLAs. Every reference to a CI or a contact is a
-- foreign key with ON DELETE RESTRICT, so deleting something still named
-- here fails instead of leaving a dangling reference. Child rows keep the
-- order the user gave in "position". (source, external_id) is the identity
-- bulk import upserts on; it defaults to the record's natural key.
CREATE TABLE contacts (
    id           bigserial PRIMARY KEY,
    key          text        NOT NULL UNIQUE,
    name         text        NOT NULL,
    role         text        NOT NULL DEFAULT '',
    organisation text        NOT NULL DEFAULT '',
    phone        text        NOT NULL DEFAULT '',
    email        text        NOT NULL DEFAULT '',
    chat         text        NOT NULL DEFAULT '',
    notes        text        NOT NULL DEFAULT '',
    source       text        NOT NULL DEFAULT 'manual',
    external_id  text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (source, external_id)
);
CREATE INDEX contacts_role ON contacts (lower(role), key);
CREATE INDEX contacts_organisation ON contacts (lower(organisation), key);

CREATE TABLE contact_deputies (
    contact_id bigint  NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    position   integer NOT NULL,
    deputy_id  bigint  NOT NULL REFERENCES contacts (id) ON DELETE RESTRICT,
    PRIMARY KEY (contact_id, position),
    UNIQUE (contact_id, deputy_id),
    CHECK (contact_id <> deputy_id)
);
CREATE INDEX contact_deputies_deputy ON contact_deputies (deputy_id);

-- A call tree is scoped to a business service, a runbook, or both; there
-- is at most one per scope.
CREATE TABLE call_trees (
    id          bigserial PRIMARY KEY,
    key         text        NOT NULL UNIQUE,
    name        text        NOT NULL,
    service_id  bigint      REFERENCES cis (id) ON DELETE RESTRICT,
    runbook     text,
    source      text        NOT NULL DEFAULT 'manual',
    external_id text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (service_id IS NOT NULL OR runbook IS NOT NULL),
    CONSTRAINT call_trees_scope_key UNIQUE NULLS NOT DISTINCT (service_id, runbook),
    UNIQUE (source, external_id)
);

CREATE TABLE call_tree_levels (
    call_tree_id bigint  NOT NULL REFERENCES call_trees (id) ON DELETE CASCADE,
    level        integer NOT NULL CHECK (level >= 1),
    wait_s       bigint  NOT NULL DEFAULT 0 CHECK (wait_s >= 0),
    PRIMARY KEY (call_tree_id, level)
);

CREATE TABLE call_tree_contacts (
    call_tree_id bigint  NOT NULL,
    level        integer NOT NULL,
    position     integer NOT NULL,
    contact_id   bigint  NOT NULL REFERENCES contacts (id) ON DELETE RESTRICT,
    PRIMARY KEY (call_tree_id, level, position),
    UNIQUE (call_tree_id, level, contact_id),
    FOREIGN KEY (call_tree_id, level) REFERENCES call_tree_levels (call_tree_id, level) ON DELETE CASCADE
);
CREATE INDEX call_tree_contacts_contact ON call_tree_contacts (contact_id);

CREATE TABLE suppliers (
    id          bigserial PRIMARY KEY,
    key         text        NOT NULL UNIQUE,
    name        text        NOT NULL,
    notes       text        NOT NULL DEFAULT '',
    source      text        NOT NULL DEFAULT 'manual',
    external_id text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (source, external_id)
);

CREATE TABLE supplier_contacts (
    supplier_id bigint  NOT NULL REFERENCES suppliers (id) ON DELETE CASCADE,
    position    integer NOT NULL,
    contact_id  bigint  NOT NULL REFERENCES contacts (id) ON DELETE RESTRICT,
    PRIMARY KEY (supplier_id, position),
    UNIQUE (supplier_id, contact_id)
);
CREATE INDEX supplier_contacts_contact ON supplier_contacts (contact_id);

-- Contract dates are calendar days; end_date is the last day covered.
CREATE TABLE supplier_contracts (
    supplier_id   bigint  NOT NULL REFERENCES suppliers (id) ON DELETE CASCADE,
    position      integer NOT NULL,
    reference     text    NOT NULL,
    start_date    date    NOT NULL,
    end_date      date    NOT NULL,
    rto_s         bigint  CHECK (rto_s >= 0),
    rpo_s         bigint  CHECK (rpo_s >= 0),
    support_hours text    NOT NULL CHECK (support_hours IN ('24x7', 'business_hours')),
    notes         text    NOT NULL DEFAULT '',
    PRIMARY KEY (supplier_id, position),
    UNIQUE (supplier_id, reference),
    CHECK (end_date >= start_date)
);
CREATE INDEX supplier_contracts_dates ON supplier_contracts (supplier_id, end_date);

-- The supplier_service CIs a supplier provides (the class is checked when
-- the link is written).
CREATE TABLE supplier_services (
    supplier_id bigint  NOT NULL REFERENCES suppliers (id) ON DELETE CASCADE,
    position    integer NOT NULL,
    ci_id       bigint  NOT NULL REFERENCES cis (id) ON DELETE RESTRICT,
    PRIMARY KEY (supplier_id, position),
    UNIQUE (supplier_id, ci_id)
);
CREATE INDEX supplier_services_ci ON supplier_services (ci_id);

CREATE TABLE slas (
    id                  bigserial PRIMARY KEY,
    service_id          bigint           NOT NULL REFERENCES cis (id) ON DELETE RESTRICT,
    name                text             NOT NULL,
    period              text             NOT NULL CHECK (period IN ('month', 'quarter', 'year')),
    availability_target double precision NOT NULL CHECK (availability_target > 0 AND availability_target <= 100),
    measured_in         text             NOT NULL CHECK (measured_in IN ('business_hours', '24x7')),
    valid_from          date             NOT NULL,
    valid_to            date,
    source              text             NOT NULL DEFAULT 'manual',
    external_id         text             NOT NULL,
    created_at          timestamptz      NOT NULL DEFAULT now(),
    updated_at          timestamptz      NOT NULL DEFAULT now(),
    CHECK (valid_to IS NULL OR valid_to >= valid_from),
    UNIQUE (source, external_id)
);
CREATE INDEX slas_service ON slas (service_id, id);

CREATE TABLE sla_targets (
    sla_id       bigint NOT NULL REFERENCES slas (id) ON DELETE CASCADE,
    priority     text   NOT NULL CHECK (priority IN ('P1', 'P2', 'P3', 'P4')),
    response_s   bigint NOT NULL CHECK (response_s > 0),
    resolution_s bigint NOT NULL CHECK (resolution_s >= response_s),
    PRIMARY KEY (sla_id, priority)
);

-- +goose Down
DROP TABLE sla_targets;
DROP TABLE slas;
DROP TABLE supplier_services;
DROP TABLE supplier_contracts;
DROP TABLE supplier_contacts;
DROP TABLE suppliers;
DROP TABLE call_tree_contacts;
DROP TABLE call_tree_levels;
DROP TABLE call_trees;
DROP TABLE contact_deputies;
DROP TABLE contacts;
