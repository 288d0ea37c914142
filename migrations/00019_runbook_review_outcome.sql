-- +goose Up
-- runbook_reviews (runbooks): the annual review (年度审查) records its
-- outcome and the actions it decided, beside the reviewer, date and notes.
ALTER TABLE runbook_reviews
    ADD COLUMN outcome text   NOT NULL DEFAULT 'fit' CHECK (outcome IN ('fit', 'update_needed', 'retire')),
    ADD COLUMN actions text[] NOT NULL DEFAULT '{}';

-- +goose Down
ALTER TABLE runbook_reviews DROP COLUMN outcome, DROP COLUMN actions;
