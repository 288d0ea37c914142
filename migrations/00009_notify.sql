-- +goose Up
-- Outbound notification channels (webhooks). secret_env / secret_file name
-- the HMAC signing secret; the secret itself is never stored.
CREATE TABLE notification_channels (
    id          bigserial PRIMARY KEY,
    name        text        NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
    kind        text        NOT NULL CHECK (kind IN ('webhook', 'slack', 'teams')),
    url         text        NOT NULL CHECK (length(url) BETWEEN 1 AND 2000),
    events      text[]      NOT NULL CHECK (cardinality(events) > 0),
    secret_env  text        NOT NULL DEFAULT '' CHECK (length(secret_env) <= 128),
    secret_file text        NOT NULL DEFAULT '' CHECK (length(secret_file) <= 1024),
    enabled     boolean     NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    created_by  text        NOT NULL DEFAULT '',
    CHECK (secret_env = '' OR secret_file = '')
);

-- The outbox: one row per (channel, event occurrence), inserted in the
-- transaction that records what happened. The unique (channel_id,
-- dedup_key) makes publishing the same occurrence twice deliver once;
-- idempotency_key is sent with every attempt so receivers can drop the
-- duplicates an at-least-once delivery may produce. A delivering row
-- belongs to the replica holding its lease; (replica, attempts) fences late
-- writes from a replica whose lease expired.
CREATE TABLE notification_outbox (
    id               bigserial PRIMARY KEY,
    channel_id       bigint      NOT NULL REFERENCES notification_channels (id) ON DELETE CASCADE,
    dedup_key        text        NOT NULL CHECK (length(dedup_key) BETWEEN 1 AND 1000),
    idempotency_key  text        NOT NULL UNIQUE,
    event_type       text        NOT NULL,
    subject          text        NOT NULL,
    event            jsonb       NOT NULL,
    status           text        NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'delivering', 'delivered', 'dead')),
    attempts         integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    replica          text        NOT NULL DEFAULT '',
    next_attempt_at  timestamptz NOT NULL,
    lease_expires_at timestamptz,
    last_attempt_at  timestamptz,
    last_status_code integer,
    last_error       text        NOT NULL DEFAULT '' CHECK (octet_length(last_error) <= 2048),
    finished_at      timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (channel_id, dedup_key),
    CHECK ((status = 'delivering') = (lease_expires_at IS NOT NULL))
);
CREATE INDEX notification_outbox_due ON notification_outbox (next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX notification_outbox_leases ON notification_outbox (lease_expires_at) WHERE status = 'delivering';
CREATE INDEX notification_outbox_channel ON notification_outbox (channel_id, id);
CREATE INDEX notification_outbox_finished ON notification_outbox (finished_at) WHERE finished_at IS NOT NULL;

-- +goose Down
DROP TABLE notification_outbox;
DROP TABLE notification_channels;
