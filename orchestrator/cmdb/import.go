package cmdb

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/bcdr/bcdr/orchestrator/importer"
)

// ciAliases maps the CSV headers of ServiceNow (cmdb_ci and its classes)
// and iTop (FunctionalCI classes, with field codes) CI exports to CIInput's
// fields. A ServiceNow export has no key column: a row without a key takes
// one derived from its name (DeriveKey).
var ciAliases = map[string]string{
	// ServiceNow cmdb_ci
	"sys_id": "external_id", "sys_class_name": "class", "u_environment": "environment", "environment": "environment",
	"location": "site", "owned_by": "owner", "managed_by": "owner",
	"operational_status": "status", "asset_tag": "key", "u_key": "key", "hardware_status": "install_status",
	// iTop (org_id->name and location_id->name are read as org_id, location_id)
	"id": "external_id", "finalclass": "class", "org_id_friendlyname": "owner", "location_id_friendlyname": "site",
	"friendlyname": "name", "org_id": "owner", "location_id": "site",
	// bcdr's own aliases
	"ci": "key", "ci_key": "key", "type": "class", "ci_class": "class", "data bearing": "data_bearing",
}

// CIImport imports CIs. CSV columns are the JSON field names, or the
// column names of ServiceNow (cmdb_ci) and iTop exports listed in
// docs/import.md; columns no field takes go into attributes.
func CIImport() *importer.Spec[CIRow] {
	return &importer.Spec[CIRow]{
		Type:      "cis",
		Aliases:   ciAliases,
		Required:  []string{"name", "class"},
		ExtraInto: "attributes",
		Validate: func(r *CIRow) error {
			in := &r.CIInput
			in.Class = importedClass(in.Class)
			in.Status = importedStatus(in.Status, r.InstallStatus)
			r.deriveKey()
			in.Normalize("")
			return in.Validate()
		},
		Stage: []importer.Column{
			{Name: "key", Type: "text"}, {Name: "name", Type: "text"}, {Name: "class", Type: "text"},
			{Name: "environment", Type: "text"}, {Name: "site", Type: "text"}, {Name: "owner", Type: "text"},
			{Name: "status", Type: "text"}, {Name: "data_bearing", Type: "boolean"}, {Name: "recovery_strategy", Type: "text"},
			{Name: "recovery_estimate_s", Type: "bigint"}, {Name: "attributes", Type: "jsonb"},
			{Name: "source", Type: "text"}, {Name: "external_id", Type: "text"}, {Name: "service", Type: "jsonb"},
			{Name: "key_derived", Type: "boolean"},
		},
		Values: func(r *CIRow, source string) []any {
			in := &r.CIInput
			if in.Source == "" {
				in.Source = source
			}
			return []any{in.Key, in.Name, in.Class, in.Environment, in.Site, in.Owner, in.Status, in.DataBearing,
				in.RecoveryStrategy, in.RecoveryEstimate.Seconds(), in.Attributes, in.Source, in.ExternalID, in.Service, r.derived}
		},
		Identity: []string{"source", "external_id"},
		Resolve:  resolveDerivedKeys,
		Check: `SELECT row_no, 'key', 'duplicates the key of row ' || first_row || ' of this file'
				FROM (SELECT row_no, min(row_no) OVER (PARTITION BY key) AS first_row FROM import_stage) d
				WHERE row_no <> first_row
			UNION ALL
			SELECT s.row_no, 'key', format('key %s already belongs to the CI with source %s and external_id %s', s.key, c.source, c.external_id)
				FROM import_stage s JOIN cis c ON c.key = s.key
				WHERE (c.source, c.external_id) IS DISTINCT FROM (s.source, s.external_id)`,
		Merge: `INSERT INTO cis AS c (key, name, class, environment, site, owner, status, data_bearing, recovery_strategy,
				recovery_estimate_s, attributes, source, external_id)
			SELECT key, name, class, environment, site, owner, status, data_bearing, recovery_strategy,
				recovery_estimate_s, attributes, source, external_id
			FROM import_stage ORDER BY row_no
			ON CONFLICT (source, external_id) DO UPDATE SET key = EXCLUDED.key, name = EXCLUDED.name, class = EXCLUDED.class,
				environment = EXCLUDED.environment, site = EXCLUDED.site, owner = EXCLUDED.owner, status = EXCLUDED.status,
				data_bearing = EXCLUDED.data_bearing, recovery_strategy = EXCLUDED.recovery_strategy,
				recovery_estimate_s = EXCLUDED.recovery_estimate_s, attributes = EXCLUDED.attributes, updated_at = now()
			WHERE (c.key, c.name, c.class, c.environment, c.site, c.owner, c.status, c.data_bearing, c.recovery_strategy,
				c.recovery_estimate_s, c.attributes)
				IS DISTINCT FROM (EXCLUDED.key, EXCLUDED.name, EXCLUDED.class, EXCLUDED.environment, EXCLUDED.site,
				EXCLUDED.owner, EXCLUDED.status, EXCLUDED.data_bearing, EXCLUDED.recovery_strategy,
				EXCLUDED.recovery_estimate_s, EXCLUDED.attributes)
			RETURNING (xmax = 0)`,
		After: mergeServiceDetails,
	}
}

// mergeServiceDetails writes the service columns of imported business
// services, leaving unchanged rows alone.
func mergeServiceDetails(ctx context.Context, tx pgx.Tx) error {
	const upsert = `INSERT INTO business_services AS b (ci_id, description, timezone, business_hours, maintenance_windows)
		SELECT c.id, s.service->>'description', s.service->>'timezone', s.service->'business_hours', s.service->'maintenance_windows'
		FROM import_stage s JOIN cis c ON c.key = s.key WHERE s.service IS NOT NULL
		ON CONFLICT (ci_id) DO UPDATE SET description = EXCLUDED.description, timezone = EXCLUDED.timezone,
			business_hours = EXCLUDED.business_hours, maintenance_windows = EXCLUDED.maintenance_windows
		WHERE (b.description, b.timezone, b.business_hours, b.maintenance_windows)
			IS DISTINCT FROM (EXCLUDED.description, EXCLUDED.timezone, EXCLUDED.business_hours, EXCLUDED.maintenance_windows)`
	if _, err := tx.Exec(ctx, upsert); err != nil {
		return fmt.Errorf("merge service details: %w", err)
	}
	return nil
}

// RelationImport imports relations between CIs that exist (or are in the
// same import's database state). ServiceNow's cmdb_rel_ci and iTop's
// link columns are accepted as aliases.
func RelationImport() *importer.Spec[RelationInput] {
	return &importer.Spec[RelationInput]{
		Type: "relations",
		Aliases: map[string]string{
			// ServiceNow cmdb_rel_ci: parent depends on child
			"parent": "from", "child": "to", "sys_id": "external_id",
			// iTop
			"id": "external_id", "functionalci_id_friendlyname": "from", "dependency_friendlyname": "to",
			// plain words
			"source_ci": "from", "target_ci": "to", "relation": "type", "relation_type": "type",
			"redundancy_group": "group", "min up": "min_up",
			"failover_time": "failover_estimate", "failover estimate": "failover_estimate", "switchover_time": "failover_estimate",
			"replication_mode": "replication", "replication_lag": "lag", "rpo_lag": "lag",
		},
		Required: []string{"from", "to"},
		Resolve: func(ctx context.Context, tx pgx.Tx) ([]importer.Problem, error) {
			return nil, ResolveStaged(ctx, tx, relationEnds...)
		},
		Validate: func(in *RelationInput) error {
			var reversed bool
			if in.Type, reversed = importedRelationType(in.Type); reversed {
				in.From, in.To = in.To, in.From
			}
			in.Normalize("")
			return in.Validate()
		},
		Stage: []importer.Column{
			{Name: "from_key", Type: "text"}, {Name: "to_key", Type: "text"}, {Name: "type", Type: "text"},
			{Name: "grp", Type: "text"}, {Name: "min_up", Type: "integer"}, {Name: "source", Type: "text"}, {Name: "external_id", Type: "text"},
			{Name: "failover_estimate_s", Type: "bigint"}, {Name: "activation", Type: "text"}, {Name: "replication", Type: "text"},
			{Name: "lag_s", Type: "bigint"},
		},
		Values: func(in *RelationInput, source string) []any {
			if in.Source == "" {
				in.Source = source
			}
			estimate, lag := in.failover().values()
			return []any{in.From, in.To, in.Type, in.Group, in.MinUp, in.Source, in.ExternalID,
				estimate, in.Activation, in.Replication, lag}
		},
		Identity: []string{"source", "external_id"},
		Check: AmbiguousCheck(relationEnds[0], "from") + ` UNION ALL ` + AmbiguousCheck(relationEnds[1], "to") + `
			UNION ALL
			SELECT s.row_no, 'from', format('no CI has key %s', s.from_key)
				FROM import_stage s WHERE NOT EXISTS (SELECT 1 FROM cis c WHERE c.key = s.from_key)
			UNION ALL
			SELECT s.row_no, 'to', format('no CI has key %s', s.to_key)
				FROM import_stage s WHERE NOT EXISTS (SELECT 1 FROM cis c WHERE c.key = s.to_key)
			UNION ALL
			SELECT row_no, 'to', 'duplicates the relation of row ' || first_row || ' of this file'
				FROM (SELECT row_no, min(row_no) OVER (PARTITION BY from_key, to_key, type) AS first_row FROM import_stage) d
				WHERE row_no <> first_row
			UNION ALL
			SELECT s.row_no, 'to', format('%s %s %s already exists with source %s and external_id %s', s.from_key, s.type, s.to_key, r.source, r.external_id)
				FROM import_stage s JOIN cis f ON f.key = s.from_key JOIN cis t ON t.key = s.to_key
				JOIN relations r ON r.from_id = f.id AND r.to_id = t.id AND r.type = s.type
				WHERE (r.source, r.external_id) IS DISTINCT FROM (s.source, s.external_id)
			UNION ALL
			SELECT * FROM (` + standbyCycleCheck + `) cycles`,
		Merge: `INSERT INTO relations AS r (from_id, to_id, type, grp, min_up, source, external_id,
				failover_estimate_s, activation, replication, lag_s)
			SELECT f.id, t.id, s.type, s.grp, s.min_up, s.source, s.external_id,
				s.failover_estimate_s, s.activation, s.replication, s.lag_s
			FROM import_stage s JOIN cis f ON f.key = s.from_key JOIN cis t ON t.key = s.to_key ORDER BY s.row_no
			ON CONFLICT (source, external_id) DO UPDATE SET from_id = EXCLUDED.from_id, to_id = EXCLUDED.to_id,
				type = EXCLUDED.type, grp = EXCLUDED.grp, min_up = EXCLUDED.min_up,
				failover_estimate_s = EXCLUDED.failover_estimate_s, activation = EXCLUDED.activation,
				replication = EXCLUDED.replication, lag_s = EXCLUDED.lag_s
			WHERE (r.from_id, r.to_id, r.type, r.grp, r.min_up, r.failover_estimate_s, r.activation, r.replication, r.lag_s)
				IS DISTINCT FROM (EXCLUDED.from_id, EXCLUDED.to_id, EXCLUDED.type, EXCLUDED.grp, EXCLUDED.min_up,
				EXCLUDED.failover_estimate_s, EXCLUDED.activation, EXCLUDED.replication, EXCLUDED.lag_s)
			RETURNING (xmax = 0)`,
	}
}

// relationEnds are the staged columns naming a relation's CIs.
var relationEnds = []StagedRef{{Column: "from_key"}, {Column: "to_key"}}

// standbyCycleCheck selects (row_no, 'to', message) for each staged
// standby relation that closes a cycle of standby relations with a
// fails_over_to in it (rings of replicates_to alone are multi-master
// replication), counting the staged rows and the stored ones the import
// does not replace.
const standbyCycleCheck = `WITH RECURSIVE edges(from_id, to_id, fo, row_no) AS (
		SELECT f.id, t.id, s.type = 'fails_over_to', s.row_no FROM import_stage s
		JOIN cis f ON f.key = s.from_key JOIN cis t ON t.key = s.to_key
		WHERE s.type IN ('replicates_to', 'fails_over_to')
		UNION ALL
		SELECT r.from_id, r.to_id, r.type = 'fails_over_to', NULL::bigint FROM relations r WHERE r.type IN ('replicates_to', 'fails_over_to')
			AND NOT EXISTS (SELECT 1 FROM import_stage s WHERE s.source = r.source AND s.external_id = r.external_id)
	), walk(row_no, origin, id, path, fo) AS (
		SELECT e.row_no, e.from_id, e.to_id, ARRAY[e.from_id, e.to_id], e.fo FROM edges e WHERE e.row_no IS NOT NULL
		UNION ALL
		SELECT w.row_no, w.origin, e.to_id, w.path || e.to_id, w.fo OR e.fo FROM walk w JOIN edges e ON e.from_id = w.id
		WHERE w.id <> w.origin AND NOT e.to_id = ANY(w.path[2:])
	)
	SELECT DISTINCT ON (w.row_no) w.row_no, 'to', 'forms a standby cycle: ' || array_to_string(ARRAY(
			SELECT c.key FROM unnest(w.path) WITH ORDINALITY p(id, i) JOIN cis c ON c.id = p.id ORDER BY p.i), ' → ')
	FROM walk w WHERE w.id = w.origin AND w.fo ORDER BY w.row_no, cardinality(w.path)`
