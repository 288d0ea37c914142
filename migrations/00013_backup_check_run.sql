-- +goose Up
-- backup_checks (orchestrator/backup): the scheduled run a check was made
-- for; NULL for a check run on request. A run's check is written in the
-- transaction that finishes the run, and the unique index is what keeps a
-- run from recording its check twice, whichever replica tries.
ALTER TABLE backup_checks ADD COLUMN run_id bigint;
CREATE UNIQUE INDEX backup_checks_run ON backup_checks (run_id);

-- +goose Down
DROP INDEX backup_checks_run;
ALTER TABLE backup_checks DROP COLUMN run_id;
