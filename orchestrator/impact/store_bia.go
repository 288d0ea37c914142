package impact

import (
	"context"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/audit"
	"github.com/bcdr/bcdr/orchestrator/postgres"
)

const biaSelect = `SELECT c.key, b.version, b.status, b.assessment, b.settings, b.created_at, b.updated_at,
	b.updated_by, b.approved_at, b.approved_by
	FROM bia_versions b JOIN cis c ON c.id = b.service_id`

// scanBIA reads one row of biaSelect and derives its figures with the
// settings stored on the version.
func scanBIA(row pgx.CollectableRow) (BIA, error) {
	var b BIA
	err := row.Scan(&b.Service, &b.Version, &b.Status, &b.Assessment, &b.settings, &b.CreatedAt, &b.UpdatedAt,
		&b.UpdatedBy, &b.ApprovedAt, &b.ApprovedBy)
	if err != nil {
		return BIA{}, err
	}
	b.Assessment.normalize()
	b.Derived = Derive(b.settings, b.Assessment)
	b.Currency = b.settings.Currency
	return b, nil
}

func queryBIAs(ctx context.Context, q postgres.Querier, where string, args ...any) ([]BIA, error) {
	rows, err := q.Query(ctx, biaSelect+" "+where, args...)
	if err != nil {
		return nil, fmt.Errorf("read BIAs: %w", err)
	}
	out, err := pgx.CollectRows(rows, scanBIA)
	if err != nil {
		return nil, fmt.Errorf("read BIAs: %w", err)
	}
	return out, nil
}

// latestBIA returns the newest version of the service's BIA; ok is false
// when it has none.
func latestBIA(ctx context.Context, q postgres.Querier, serviceID int64) (BIA, bool, error) {
	bs, err := queryBIAs(ctx, q, `WHERE b.service_id = $1 ORDER BY b.version DESC LIMIT 1`, serviceID)
	if err != nil || len(bs) == 0 {
		return BIA{}, false, err
	}
	return bs[0], true, nil
}

// CurrentBIA returns the service's newest BIA version: its draft while one
// is being edited, else the approved version in force.
func (s *Service) CurrentBIA(ctx context.Context, key string) (BIA, error) {
	id, err := serviceCI(ctx, s.pool, key, false)
	if err != nil {
		return BIA{}, err
	}
	b, ok, err := latestBIA(ctx, s.pool, id)
	if err != nil {
		return BIA{}, err
	}
	if !ok {
		return BIA{}, orchestrator.Errorf(orchestrator.ENOTFOUND, "service %q has no BIA yet; PUT one to start a draft", key)
	}
	return b, nil
}

// BIAVersions returns every version of the service's BIA, newest first.
func (s *Service) BIAVersions(ctx context.Context, key string) ([]BIA, error) {
	id, err := serviceCI(ctx, s.pool, key, false)
	if err != nil {
		return nil, err
	}
	return queryBIAs(ctx, s.pool, `WHERE b.service_id = $1 ORDER BY b.version DESC`, id)
}

// BIAVersion returns one version of the service's BIA.
func (s *Service) BIAVersion(ctx context.Context, key, version string) (BIA, error) {
	id, err := serviceCI(ctx, s.pool, key, false)
	if err != nil {
		return BIA{}, err
	}
	notFound := orchestrator.Errorf(orchestrator.ENOTFOUND, "service %q has no BIA version %s", key, version)
	n, err := strconv.Atoi(version)
	if err != nil || n < 1 {
		return BIA{}, notFound
	}
	bs, err := queryBIAs(ctx, s.pool, `WHERE b.service_id = $1 AND b.version = $2`, id, n)
	if err != nil {
		return BIA{}, err
	}
	if len(bs) == 0 {
		return BIA{}, notFound
	}
	return bs[0], nil
}

// ApprovedBIA returns the approved BIA in force of the service with key:
// not_found when it has none.
func (s *Service) ApprovedBIA(ctx context.Context, key string) (BIA, error) {
	if _, err := serviceCI(ctx, s.pool, key, false); err != nil {
		return BIA{}, err
	}
	bias, err := approvedBIAs(ctx, s.pool, []string{key})
	if err != nil {
		return BIA{}, err
	}
	b, ok := bias[key]
	if !ok {
		return BIA{}, orchestrator.Errorf(orchestrator.ENOTFOUND, "service %q has no approved BIA", key)
	}
	return b, nil
}

// ApprovedBIAs returns the approved BIA in force of each business service
// named (nil: of every one), by key, with its figures derived under the
// settings it was approved with. A key without one is absent, not an
// error: callers reading BIAs for many services skip those.
func (s *Service) ApprovedBIAs(ctx context.Context, keys []string) (map[string]BIA, error) {
	return approvedBIAs(ctx, s.pool, keys)
}

// LossAfter evaluates a BIA version (0: the newest) for an outage of after.
func (s *Service) LossAfter(ctx context.Context, key string, after orchestrator.Duration, version int) (Loss, error) {
	var (
		b   BIA
		err error
	)
	if version > 0 {
		b, err = s.BIAVersion(ctx, key, strconv.Itoa(version))
	} else {
		b, err = s.CurrentBIA(ctx, key)
	}
	if err != nil {
		return Loss{}, err
	}
	return b.At(after), nil
}

// SaveBIA writes the service's draft: it replaces the open draft, or, when
// the newest version is approved (or there is none), starts the next
// version. The assessment is validated against the current settings.
func (s *Service) SaveBIA(ctx context.Context, key string, a Assessment) (BIA, error) {
	a.normalize()
	var version int
	err := postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		id, err := serviceCI(ctx, tx, key, true)
		if err != nil {
			return err
		}
		settings, err := loadSettings(ctx, tx)
		if err != nil {
			return err
		}
		if err := Validate(settings, a); err != nil {
			return err
		}
		latest, ok, err := latestBIA(ctx, tx, id)
		if err != nil {
			return err
		}
		actor := orchestrator.ActorFrom(ctx).Name
		action := "update"
		if ok && latest.Status == StatusDraft {
			version = latest.Version
			const update = `UPDATE bia_versions SET assessment = $3, settings = $4, rto_s = $5, rpo_s = $6, wrt_s = $7,
				updated_at = now(), updated_by = $8 WHERE service_id = $1 AND version = $2`
			_, err = tx.Exec(ctx, update, id, version, a, settings, a.RTO.Seconds(), a.RPO.Seconds(), a.WRT.Seconds(), actor)
		} else {
			version, action = latest.Version+1, "create"
			const insert = `INSERT INTO bia_versions (service_id, version, status, assessment, settings, rto_s, rpo_s, wrt_s, updated_by)
				VALUES ($1, $2, 'draft', $3, $4, $5, $6, $7, $8)`
			_, err = tx.Exec(ctx, insert, id, version, a, settings, a.RTO.Seconds(), a.RPO.Seconds(), a.WRT.Seconds(), actor)
		}
		if err != nil {
			return fmt.Errorf("save BIA of %s: %w", key, postgres.Translate(err))
		}
		return audit.Record(ctx, tx, audit.Change{Action: action, Resource: "bia", ResourceID: fmt.Sprintf("%s v%d", key, version),
			Summary: fmt.Sprintf("draft: RTO %s, RPO %s, WRT %s", a.RTO, a.RPO, a.WRT)})
	})
	if err != nil {
		return BIA{}, err
	}
	return s.BIAVersion(ctx, key, strconv.Itoa(version))
}

// ApproveBIA freezes the service's draft. It is checked again against the
// current settings, which may have changed since it was saved, and keeps
// those settings from then on. Without a draft there is nothing to approve:
// a conflict when the newest version is already approved.
func (s *Service) ApproveBIA(ctx context.Context, key string) (BIA, error) {
	var version int
	err := postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		id, err := serviceCI(ctx, tx, key, true)
		if err != nil {
			return err
		}
		latest, ok, err := latestBIA(ctx, tx, id)
		switch {
		case err != nil:
			return err
		case !ok:
			return orchestrator.Errorf(orchestrator.ENOTFOUND, "service %q has no BIA to approve", key)
		case latest.Status == StatusApproved:
			return orchestrator.Errorf(orchestrator.ECONFLICT,
				"version %d of the BIA of %s is already approved; edit it to start version %d", latest.Version, key, latest.Version+1)
		}
		version = latest.Version
		settings, err := loadSettings(ctx, tx)
		if err != nil {
			return err
		}
		if err := Validate(settings, latest.Assessment); err != nil {
			return err
		}
		const approve = `UPDATE bia_versions SET status = 'approved', settings = $3, approved_at = now(), approved_by = $4
			WHERE service_id = $1 AND version = $2`
		if _, err := tx.Exec(ctx, approve, id, version, settings, orchestrator.ActorFrom(ctx).Name); err != nil {
			return fmt.Errorf("approve BIA of %s: %w", key, postgres.Translate(err))
		}
		d := Derive(settings, latest.Assessment)
		return audit.Record(ctx, tx, audit.Change{Action: "approve", Resource: "bia", ResourceID: fmt.Sprintf("%s v%d", key, version),
			Summary: fmt.Sprintf("RTO %s, RPO %s, tier %d", latest.RTO, latest.RPO, d.Tier)})
	})
	if err != nil {
		return BIA{}, err
	}
	return s.BIAVersion(ctx, key, strconv.Itoa(version))
}

// approvedTargets returns the RTO and RPO of the approved BIA in force for
// every business service that has one, by service key.
func approvedTargets(ctx context.Context, q postgres.Querier) (map[string]Target, error) {
	const query = `SELECT DISTINCT ON (b.service_id) c.key, b.rto_s, b.rpo_s
		FROM bia_versions b JOIN cis c ON c.id = b.service_id
		WHERE b.status = 'approved' AND c.class = 'business_service'
		ORDER BY b.service_id, b.version DESC`
	rows, err := q.Query(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("read BIA targets: %w", err)
	}
	defer rows.Close()
	out := map[string]Target{}
	for rows.Next() {
		var (
			key      string
			rto, rpo int64
		)
		if err := rows.Scan(&key, &rto, &rpo); err != nil {
			return nil, fmt.Errorf("read BIA targets: %w", err)
		}
		out[key] = Target{RTO: orchestrator.DurationFromSeconds(rto), RPO: orchestrator.DurationFromSeconds(rpo)}
	}
	return out, rows.Err()
}

// approvedBIAs returns the approved BIA in force of each of the services
// named (nil: of every service), by key; services without one are absent.
func approvedBIAs(ctx context.Context, q postgres.Querier, keys []string) (map[string]BIA, error) {
	bs, err := queryBIAs(ctx, q, `WHERE b.status = 'approved' AND c.class = 'business_service' AND ($1::text[] IS NULL OR c.key = ANY($1))
		AND b.version = (SELECT max(v.version) FROM bia_versions v WHERE v.service_id = b.service_id AND v.status = 'approved')`, keys)
	if err != nil {
		return nil, err
	}
	out := make(map[string]BIA, len(bs))
	for _, b := range bs {
		out[b.Service] = b
	}
	return out, nil
}
