-- +goose Up
-- relations (orchestrator/cmdb): fails_over_to names a standby that can take
-- over the role of its source (any class), as replicates_to names a data
-- replica. Both may carry how a failover to them goes: the time to switch,
-- whether it happens by itself, and for data the replication mode and the
-- data a failover loses (lag). Other relation types carry none of these.
ALTER TABLE relations DROP CONSTRAINT relations_type_check;
ALTER TABLE relations ADD CONSTRAINT relations_type_check
    CHECK (type IN ('depends_on', 'runs_on', 'hosted_in', 'backed_up_by', 'replicates_to', 'provided_by', 'fails_over_to'));
ALTER TABLE relations
    ADD COLUMN failover_estimate_s bigint CHECK (failover_estimate_s >= 0),
    ADD COLUMN activation          text NOT NULL DEFAULT '' CHECK (activation IN ('', 'automatic', 'manual')),
    ADD COLUMN replication         text NOT NULL DEFAULT '' CHECK (replication IN ('', 'sync', 'async')),
    ADD COLUMN lag_s               bigint CHECK (lag_s >= 0),
    ADD CONSTRAINT relations_failover_attributes CHECK (type IN ('replicates_to', 'fails_over_to')
        OR (failover_estimate_s IS NULL AND activation = '' AND replication = '' AND lag_s IS NULL));

-- +goose Down
DELETE FROM relations WHERE type = 'fails_over_to';
ALTER TABLE relations DROP CONSTRAINT relations_failover_attributes;
ALTER TABLE relations DROP COLUMN failover_estimate_s, DROP COLUMN activation, DROP COLUMN replication, DROP COLUMN lag_s;
ALTER TABLE relations DROP CONSTRAINT relations_type_check;
ALTER TABLE relations ADD CONSTRAINT relations_type_check
    CHECK (type IN ('depends_on', 'runs_on', 'hosted_in', 'backed_up_by', 'replicates_to', 'provided_by'));
