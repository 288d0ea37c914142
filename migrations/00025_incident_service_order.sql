-- +goose Up
-- A service's incidents are listed newest first. Found through the link
-- table alone, a busy service's few thousand incidents had to be fetched
-- one by one and sorted to fill each page; with the incident's opened_at
-- copied onto its service links, the page is the first rows of one index.
-- Triggers keep the copy equal to the incident's: it is filled when a link
-- is written and follows the incident when opened_at changes, so no writer
-- has to know about it.
ALTER TABLE incident_services ADD COLUMN opened_at timestamptz;
UPDATE incident_services l SET opened_at = i.opened_at FROM incidents i WHERE i.id = l.incident_id;

-- +goose StatementBegin
CREATE FUNCTION incident_services_opened_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT i.opened_at INTO NEW.opened_at FROM incidents i WHERE i.id = NEW.incident_id;
    RETURN NEW;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER incident_services_opened_at BEFORE INSERT OR UPDATE OF incident_id, opened_at ON incident_services
    FOR EACH ROW EXECUTE FUNCTION incident_services_opened_at();

-- +goose StatementBegin
CREATE FUNCTION incidents_opened_at_to_services() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE incident_services SET opened_at = NEW.opened_at WHERE incident_id = NEW.id;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER incidents_opened_at_to_services AFTER UPDATE OF opened_at ON incidents
    FOR EACH ROW WHEN (OLD.opened_at IS DISTINCT FROM NEW.opened_at)
    EXECUTE FUNCTION incidents_opened_at_to_services();

-- The listing index replaces (service_id, incident_id): it serves every
-- lookup of a service's incidents, and the foreign key's checks, as well.
CREATE INDEX incident_services_listed ON incident_services (service_id, opened_at, incident_id);
DROP INDEX incident_services_service;

-- +goose Down
CREATE INDEX incident_services_service ON incident_services (service_id, incident_id);
DROP INDEX incident_services_listed;
DROP TRIGGER incidents_opened_at_to_services ON incidents;
DROP FUNCTION incidents_opened_at_to_services();
DROP TRIGGER incident_services_opened_at ON incident_services;
DROP FUNCTION incident_services_opened_at();
ALTER TABLE incident_services DROP COLUMN opened_at;
