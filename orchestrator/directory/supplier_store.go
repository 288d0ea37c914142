package directory

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/audit"
	"github.com/bcdr/bcdr/orchestrator/postgres"
)

// supplierSelect reads suppliers with their derived contract status as of
// the day $1. The status is computed here, once, so that the expiring
// filter and the flags a client reads cannot disagree. Cover ends within 90
// days (ExpiryWarningDays) when some contract ends in that window and no
// contract covers the day after it.
const supplierSelect = `SELECT key, name, contacts, services, contracts, notes, active, expired, expiring,
	source, external_id, created_at, updated_at FROM (
	SELECT s.key, s.name, s.notes, s.source, s.external_id, s.created_at, s.updated_at,
		ARRAY(SELECT c.key FROM supplier_contacts sc JOIN contacts c ON c.id = sc.contact_id
		      WHERE sc.supplier_id = s.id ORDER BY sc.position) AS contacts,
		ARRAY(SELECT ci.key FROM supplier_services ss JOIN cis ci ON ci.id = ss.ci_id
		      WHERE ss.supplier_id = s.id ORDER BY ss.position) AS services,
		coalesce((SELECT jsonb_agg(jsonb_build_object('reference', k.reference, 'start', k.start_date,
			'end', k.end_date, 'rto_s', k.rto_s, 'rpo_s', k.rpo_s, 'support_hours', k.support_hours,
			'notes', k.notes) ORDER BY k.position)
			FROM supplier_contracts k WHERE k.supplier_id = s.id), '[]') AS contracts,
		a.position AS active,
		a.position IS NULL AND EXISTS (SELECT 1 FROM supplier_contracts e
			WHERE e.supplier_id = s.id AND e.end_date < $1::date) AS expired,
		a.position IS NOT NULL AND EXISTS (SELECT 1 FROM supplier_contracts k
			WHERE k.supplier_id = s.id AND k.end_date BETWEEN $1::date AND $1::date + 90
			  AND NOT EXISTS (SELECT 1 FROM supplier_contracts r WHERE r.supplier_id = s.id
			                  AND r.start_date <= k.end_date + 1 AND r.end_date > k.end_date)) AS expiring
	FROM suppliers s
	LEFT JOIN LATERAL (SELECT a.position FROM supplier_contracts a
		WHERE a.supplier_id = s.id AND a.start_date <= $1::date AND a.end_date >= $1::date
		ORDER BY a.end_date DESC, a.position LIMIT 1) a ON true
	) x`

// contractRow is a contract as supplierSelect writes it in JSON.
type contractRow struct {
	Reference    string `json:"reference"`
	Start        Date   `json:"start"`
	End          Date   `json:"end"`
	RTOSeconds   *int64 `json:"rto_s"`
	RPOSeconds   *int64 `json:"rpo_s"`
	SupportHours string `json:"support_hours"`
	Notes        string `json:"notes"`
}

func durationPtr(s *int64) *orchestrator.Duration {
	if s == nil {
		return nil
	}
	d := orchestrator.DurationFromSeconds(*s)
	return &d
}

// scanSupplier reads one row of supplierSelect.
func scanSupplier(row pgx.CollectableRow) (Supplier, error) {
	var (
		s         Supplier
		contracts []contractRow
		active    *int32
	)
	err := row.Scan(&s.Key, &s.Name, &s.Contacts, &s.Services, &contracts, &s.Notes, &active, &s.ContractExpired,
		&s.ExpiringWithin90d, &s.Source, &s.ExternalID, &s.CreatedAt, &s.UpdatedAt)
	if err != nil {
		return Supplier{}, err
	}
	s.Contacts, s.Services = trimList(s.Contacts), trimList(s.Services)
	s.Contracts = make([]Contract, len(contracts))
	for i, c := range contracts {
		s.Contracts[i] = Contract{Reference: c.Reference, Start: c.Start, End: c.End, RTO: durationPtr(c.RTOSeconds),
			RPO: durationPtr(c.RPOSeconds), SupportHours: c.SupportHours, Notes: c.Notes}
	}
	if active != nil && int(*active) >= 1 && int(*active) <= len(s.Contracts) {
		s.ActiveContract = &s.Contracts[*active-1]
	}
	return s, nil
}

func (s *Service) getSupplier(ctx context.Context, q postgres.Querier, key string) (Supplier, error) {
	if !keyPattern.MatchString(key) {
		return Supplier{}, notFound("supplier", key)
	}
	return getRecord(ctx, q, scanSupplier, "supplier "+key, notFound("supplier", key),
		supplierSelect+` WHERE key = $2`, s.today().Time(), key)
}

// GetSupplier returns the supplier with key.
func (s *Service) GetSupplier(ctx context.Context, key string) (Supplier, error) {
	return s.getSupplier(ctx, s.pool, key)
}

// ListSuppliers returns suppliers ordered by key.
func (s *Service) ListSuppliers(ctx context.Context, f SupplierFilter, page orchestrator.Page) (orchestrator.List[Supplier], error) {
	if err := checkList(f.validate(), page); err != nil {
		return orchestrator.List[Supplier]{}, err
	}
	const where = ` WHERE ($2 = '' OR strpos(lower(key), lower($2)) > 0 OR strpos(lower(name), lower($2)) > 0)
		AND ($3 = '' OR $3 = ANY(services)) AND ($4::boolean IS NULL OR expiring = $4)
		AND ($5 = '' OR key > $5) ORDER BY key LIMIT $6`
	return listRecords(ctx, s.pool, scanSupplier, "suppliers", page.Limit, func(s Supplier) string { return s.Key },
		supplierSelect+where, s.today().Time(), f.Query, f.Service, f.Expiring, page.After, page.Limit+1)
}

// CreateSupplier adds a supplier; its contacts and services must exist.
func (s *Service) CreateSupplier(ctx context.Context, in SupplierInput) (Supplier, error) {
	const insert = `INSERT INTO suppliers (key, name, notes, source, external_id) VALUES ($1, $2, $3, $4, $5) RETURNING id`
	return saveInTx(ctx, s.pool, &in, func(tx pgx.Tx, out *Supplier) error {
		return s.saveSupplier(ctx, tx, "create", in, out, func() (int64, error) {
			return scanID(tx.QueryRow(ctx, insert, in.Key, in.Name, in.Notes, in.Source, in.ExternalID), nil)
		})
	})
}

// ReplaceSupplier overwrites the supplier with key, contracts and links
// included; the body may repeat the key but not change it.
func (s *Service) ReplaceSupplier(ctx context.Context, key string, in SupplierInput) (Supplier, error) {
	if err := pathKey(&in.Key, key, "supplier"); err != nil {
		return Supplier{}, err
	}
	keep := keepIdentity(in.Source, in.ExternalID)
	const update = `UPDATE suppliers SET name = $2, notes = $3, source = CASE WHEN $4 THEN source ELSE $5 END,
		external_id = CASE WHEN $4 THEN external_id ELSE $6 END, updated_at = now() WHERE key = $1 RETURNING id`
	return saveInTx(ctx, s.pool, &in, func(tx pgx.Tx, out *Supplier) error {
		return s.saveSupplier(ctx, tx, "update", in, out, func() (int64, error) {
			return scanID(tx.QueryRow(ctx, update, key, in.Name, in.Notes, keep, in.Source, in.ExternalID), notFound("supplier", key))
		})
	})
}

// saveSupplier resolves the contacts and services, writes the supplier row
// with write, replaces its child rows, records the change and reads the
// result into out.
func (s *Service) saveSupplier(ctx context.Context, tx pgx.Tx, action string, in SupplierInput, out *Supplier, write func() (int64, error)) error {
	var v orchestrator.Validation
	contacts, err := contactIDs(ctx, tx, &v, refs("contacts", in.Contacts))
	if err != nil {
		return err
	}
	services, err := ciIDs(ctx, tx, &v, ClassSupplierService, refs("services", in.Services))
	if err != nil {
		return err
	}
	if err := v.Err(); err != nil {
		return err
	}
	id, err := write()
	if err != nil {
		return conflict(err, "supplier", map[string]orchestrator.FieldError{
			"suppliers_key_key":                taken("key", in.Key),
			"suppliers_source_external_id_key": taken("external_id", in.ExternalID),
		})
	}
	if err := replaceList(ctx, tx, "supplier_contacts", "supplier_id", "contact_id", id, idList(contacts, in.Contacts)); err != nil {
		return fmt.Errorf("save contacts of supplier %s: %w", in.Key, err)
	}
	if err := replaceList(ctx, tx, "supplier_services", "supplier_id", "ci_id", id, idList(services, in.Services)); err != nil {
		return fmt.Errorf("save services of supplier %s: %w", in.Key, err)
	}
	if err := saveContracts(ctx, tx, id, in.Contracts); err != nil {
		return fmt.Errorf("save contracts of supplier %s: %w", in.Key, err)
	}
	if err := audit.Record(ctx, tx, audit.Change{Action: action, Resource: "suppliers", ResourceID: in.Key,
		Summary: fmt.Sprintf("supplier %q with %d contracts", in.Name, len(in.Contracts))}); err != nil {
		return err
	}
	*out, err = s.getSupplier(ctx, tx, in.Key)
	return err
}

// saveContracts replaces a supplier's contracts.
func saveContracts(ctx context.Context, tx pgx.Tx, id int64, contracts []Contract) error {
	var (
		refs, hours, notes []string
		starts, ends       []time.Time
		rtos, rpos         []*int64
	)
	for _, c := range contracts {
		refs, hours, notes = append(refs, c.Reference), append(hours, c.SupportHours), append(notes, c.Notes)
		starts, ends = append(starts, c.Start.Time()), append(ends, c.End.Time())
		rtos, rpos = append(rtos, seconds(c.RTO)), append(rpos, seconds(c.RPO))
	}
	if _, err := tx.Exec(ctx, `DELETE FROM supplier_contracts WHERE supplier_id = $1`, id); err != nil {
		return postgres.Translate(err)
	}
	const insert = `INSERT INTO supplier_contracts (supplier_id, position, reference, start_date, end_date, rto_s, rpo_s,
			support_hours, notes)
		SELECT $1, n, r, s, e, rto, rpo, h, t
		FROM unnest($2::text[], $3::date[], $4::date[], $5::bigint[], $6::bigint[], $7::text[], $8::text[])
			WITH ORDINALITY AS u(r, s, e, rto, rpo, h, t, n)`
	_, err := tx.Exec(ctx, insert, id, refs, starts, ends, rtos, rpos, hours, notes)
	return postgres.Translate(err)
}

func seconds(d *orchestrator.Duration) *int64 {
	if d == nil {
		return nil
	}
	s := d.Seconds()
	return &s
}

// DeleteSupplier removes a supplier with its contracts and links.
func (s *Service) DeleteSupplier(ctx context.Context, key string) error {
	if !keyPattern.MatchString(key) {
		return notFound("supplier", key)
	}
	const del = `DELETE FROM suppliers WHERE key = $1`
	return s.deleteRecord(ctx, "supplier "+key, notFound("supplier", key), del, key, "suppliers", key)
}
