-- +goose Up
-- web_sessions (auth): a browser signed in to the web UI with a token. The
-- cookie holds a random secret of which only the SHA-256 is kept; the
-- session acts as its token, ends with it (revoked or deleted) and expires
-- after a fixed time.
CREATE TABLE web_sessions (
    id         bigserial   PRIMARY KEY,
    token_id   bigint      NOT NULL REFERENCES api_tokens (id) ON DELETE CASCADE,
    hash       bytea       NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE INDEX web_sessions_expires ON web_sessions (expires_at);

-- +goose Down
DROP TABLE web_sessions;
