-- +goose Up
-- notification_channels (notify): email channels, whose url is a mailto:
-- URL of their recipients, sent through the server's SMTP settings.
ALTER TABLE notification_channels DROP CONSTRAINT notification_channels_kind_check,
    ADD CONSTRAINT notification_channels_kind_check
    CHECK (kind IN ('webhook', 'slack', 'teams', 'email'));

-- +goose Down
DELETE FROM notification_channels WHERE kind = 'email';
ALTER TABLE notification_channels DROP CONSTRAINT notification_channels_kind_check,
    ADD CONSTRAINT notification_channels_kind_check
    CHECK (kind IN ('webhook', 'slack', 'teams'));
