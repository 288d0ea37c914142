-- +goose Up
-- The RPO state last announced for a target's CI, so that a breach and its
-- end are each announced once.
ALTER TABLE backup_targets ADD COLUMN rpo_state text NOT NULL DEFAULT 'unknown'
    CHECK (rpo_state IN ('compliant', 'at_risk', 'breached', 'unknown'));

-- +goose Down
ALTER TABLE backup_targets DROP COLUMN rpo_state;
