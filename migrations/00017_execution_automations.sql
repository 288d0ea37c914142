-- +goose Up
-- executions (runbooks/execution): which automated steps a drill calls.
-- '' as the mode says (an invocation calls every URL, a drill only drill
-- URLs); 'off' calls none (a simulation: people perform every step);
-- 'live' calls the real URLs in a drill (a full interruption).
ALTER TABLE executions
    ADD COLUMN automations text NOT NULL DEFAULT '' CHECK (automations IN ('', 'off', 'live'));

-- +goose Down
ALTER TABLE executions DROP COLUMN automations;
