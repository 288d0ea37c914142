-- +goose Up
-- Retention prunes finished schedule runs and old backup checks by age, in
-- small batches; these indexes keep each batch an index range scan.
CREATE INDEX schedule_runs_finished ON schedule_runs (finished_at) WHERE finished_at IS NOT NULL;
CREATE INDEX backup_checks_started ON backup_checks (started_at);

-- +goose Down
DROP INDEX backup_checks_started;
DROP INDEX schedule_runs_finished;
