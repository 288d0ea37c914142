package backup

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/cmdb"
	"github.com/bcdr/bcdr/orchestrator/postgres"
)

// atRiskShare is the part of the RPO past which a backup's age is at risk.
const atRiskShare = 0.8

// Classify judges the age of the newest verified backup (nil when there is
// none) against a required RPO.
func Classify(age *time.Duration, required orchestrator.Duration) orchestrator.RPOState {
	switch {
	case age == nil:
		return orchestrator.RPOUnknown
	case *age > time.Duration(required):
		return orchestrator.RPOBreached
	case float64(*age) > atRiskShare*float64(required):
		return orchestrator.RPOAtRisk
	}
	return orchestrator.RPOCompliant
}

// TargetStatus is one target's part in a CI's backup status.
type TargetStatus struct {
	ID        int64  `json:"id"`
	Name      string `json:"name"`
	Kind      Kind   `json:"kind"`
	LastCheck *Check `json:"last_check"`
	// LatestVerifiedBackupAt is the newest backup a check of this target
	// verified; nil when the latest check failed, since a repository found
	// broken proves none of its backups.
	LatestVerifiedBackupAt *time.Time `json:"latest_verified_backup_at"`
}

// Status is a CI's backup status at EvaluatedAt: its targets, the age of
// its newest verified backup and, against a required RPO, its RPO state.
// For a business service, Dependencies holds the status of every
// data-bearing CI it depends on, and the service's age and state are those
// of the weakest of them.
type Status struct {
	CI          string         `json:"ci"`
	DataBearing bool           `json:"data_bearing"`
	Targets     []TargetStatus `json:"targets"`
	// LatestVerifiedBackupAt and Age are nil without a verified backup.
	LatestVerifiedBackupAt *time.Time             `json:"latest_verified_backup_at"`
	Age                    *orchestrator.Duration `json:"age"`
	// RequiredRPO and State are set only when a requirement was given.
	RequiredRPO  *orchestrator.Duration `json:"required_rpo,omitempty"`
	State        orchestrator.RPOState  `json:"state,omitempty"`
	Reason       string                 `json:"reason"`
	EvaluatedAt  time.Time              `json:"evaluated_at"`
	Dependencies []Status               `json:"dependencies,omitempty"`
}

// CIStatus reports a CI's backups and the age of its newest verified
// backup, without judging it against an RPO.
func CIStatus(ctx context.Context, q postgres.Querier, ciKey string, now time.Time) (Status, error) {
	return status(ctx, q, ciKey, nil, now)
}

// RPOStatus reports a CI's backup status judged against requiredRPO (the
// CI's required RPO: for a business service its own, for another CI the
// minimum over the services depending on it). A business service is judged
// by its data-bearing dependencies, each against requiredRPO.
func RPOStatus(ctx context.Context, q postgres.Querier, ciKey string, requiredRPO orchestrator.Duration, now time.Time) (Status, error) {
	return status(ctx, q, ciKey, &requiredRPO, now)
}

// businessService is the class whose status rolls up its dependencies.
const businessService = "business_service"

func status(ctx context.Context, q postgres.Querier, ciKey string, required *orchestrator.Duration, now time.Time) (Status, error) {
	st := Status{CI: ciKey, RequiredRPO: required, EvaluatedAt: now.UTC(), Targets: []TargetStatus{}}
	ci, err := cmdb.ResolveOne(ctx, q, ciKey, cmdb.ResolveOptions{})
	if cmdb.IsUnknown(err) {
		return Status{}, orchestrator.Errorf(orchestrator.ENOTFOUND, "CI %q not found", ciKey)
	}
	if err != nil {
		return Status{}, fmt.Errorf("backup status of CI %s: %w", ciKey, err)
	}
	id, class := ci.ID, ci.Class
	st.DataBearing = ci.DataBearing
	if st.Targets, err = targetStatuses(ctx, q, id); err != nil {
		return Status{}, err
	}
	if class != businessService {
		st.judge(now)
		return st, nil
	}
	deps, err := dataDependencies(ctx, q, id)
	if err != nil {
		return Status{}, err
	}
	for _, key := range deps {
		d, err := status(ctx, q, key, required, now)
		if err != nil {
			return Status{}, err
		}
		st.Dependencies = append(st.Dependencies, d)
	}
	st.rollUp()
	return st, nil
}

// targetStatuses loads each target of a CI with its latest check and the
// newest backup any of its checks verified.
func targetStatuses(ctx context.Context, q postgres.Querier, ciID int64) ([]TargetStatus, error) {
	const query = `SELECT t.id, t.name, t.kind,
			lc.id, lc.target_id, lc.trigger, lc.status, lc.latest_backup_at, lc.verified, lc.size_bytes, lc.attempts,
			lc.started_at, lc.duration_ms, lc.message, lc.output,
			(SELECT max(v.latest_backup_at) FROM backup_checks v WHERE v.target_id = t.id AND v.verified)
		FROM backup_targets t
		LEFT JOIN LATERAL (SELECT ` + checkColumns + ` FROM backup_checks WHERE target_id = t.id ORDER BY id DESC LIMIT 1) lc ON true
		WHERE t.ci_id = $1 ORDER BY t.id`
	rows, err := q.Query(ctx, query, ciID)
	if err != nil {
		return nil, fmt.Errorf("load backup targets of CI %d: %w", ciID, err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (TargetStatus, error) {
		var ts TargetStatus
		var last nullCheck
		dest := append([]any{&ts.ID, &ts.Name, &ts.Kind}, last.dest()...)
		err := row.Scan(append(dest, &ts.LatestVerifiedBackupAt)...)
		ts.LastCheck, ts.LatestVerifiedBackupAt = last.check(), utc(ts.LatestVerifiedBackupAt)
		if ts.LastCheck != nil && ts.LastCheck.Status == StatusFailed {
			ts.LatestVerifiedBackupAt = nil
		}
		return ts, err
	})
	if err != nil {
		return nil, fmt.Errorf("load backup targets of CI %d: %w", ciID, err)
	}
	if out == nil {
		out = []TargetStatus{}
	}
	return out, nil
}

// dataDependencies returns the keys of the data-bearing CIs a CI depends
// on, transitively, along the relations that propagate failure.
func dataDependencies(ctx context.Context, q postgres.Querier, ciID int64) ([]string, error) {
	const query = `WITH RECURSIVE reach(id) AS (
			SELECT $1::bigint
			UNION
			SELECT r.to_id FROM relations r JOIN reach ON r.from_id = reach.id
			WHERE r.type IN ('depends_on', 'runs_on', 'hosted_in', 'provided_by')
		)
		SELECT c.key FROM cis c JOIN reach ON reach.id = c.id
		WHERE c.data_bearing AND c.id <> $1 ORDER BY c.key`
	rows, err := q.Query(ctx, query, ciID)
	if err != nil {
		return nil, fmt.Errorf("find data-bearing dependencies of CI %d: %w", ciID, err)
	}
	keys, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("find data-bearing dependencies of CI %d: %w", ciID, err)
	}
	return keys, nil
}

// judge sets the newest verified backup, its age and, with a requirement,
// the state and its reason.
func (st *Status) judge(now time.Time) {
	for _, ts := range st.Targets {
		if v := ts.LatestVerifiedBackupAt; v != nil && (st.LatestVerifiedBackupAt == nil || v.After(*st.LatestVerifiedBackupAt)) {
			st.LatestVerifiedBackupAt = v
		}
	}
	var age *time.Duration
	if st.LatestVerifiedBackupAt != nil {
		a := max(0, now.Sub(*st.LatestVerifiedBackupAt)).Truncate(time.Second)
		age = &a
		st.Age = ptr(orchestrator.Duration(a))
	}
	switch {
	case len(st.Targets) == 0:
		st.Reason = "no backup target"
	case age == nil:
		st.Reason = "no verified backup"
	default:
		st.Reason = fmt.Sprintf("newest verified backup is %s old", roundAge(*age))
	}
	if st.RequiredRPO == nil {
		return
	}
	st.State = Classify(age, *st.RequiredRPO)
	switch st.State {
	case orchestrator.RPOBreached:
		st.Reason += fmt.Sprintf(", beyond the required RPO of %s", st.RequiredRPO)
	case orchestrator.RPOAtRisk:
		st.Reason += fmt.Sprintf(", more than 80%% of the required RPO of %s", st.RequiredRPO)
	case orchestrator.RPOCompliant:
		st.Reason += fmt.Sprintf(", within the required RPO of %s", st.RequiredRPO)
	}
}

// stateRank orders states from best to worst for a roll-up: an unproven
// backup weighs more than one nearing its limit.
var stateRank = map[orchestrator.RPOState]int{orchestrator.RPOCompliant: 0, orchestrator.RPOAtRisk: 1, orchestrator.RPOUnknown: 2, orchestrator.RPOBreached: 3}

// rollUp makes a service's status that of its weakest data-bearing
// dependency: the oldest newest-verified backup, the worst state.
func (st *Status) rollUp() {
	if len(st.Dependencies) == 0 {
		st.Reason = "no data-bearing CI among its dependencies"
		if st.RequiredRPO != nil {
			st.State = orchestrator.RPOUnknown
		}
		return
	}
	worst := st.Dependencies[0]
	for _, d := range st.Dependencies[1:] {
		if st.weaker(d, worst) {
			worst = d
		}
	}
	st.LatestVerifiedBackupAt, st.Age, st.State = worst.LatestVerifiedBackupAt, worst.Age, worst.State
	st.Reason = fmt.Sprintf("weakest data-bearing dependency %s: %s", worst.CI, worst.Reason)
}

// weaker reports whether a is a weaker link than b: a worse state when
// judged, else an older (or no) verified backup.
func (st *Status) weaker(a, b Status) bool {
	if st.RequiredRPO != nil && a.State != b.State {
		return stateRank[a.State] > stateRank[b.State]
	}
	switch {
	case a.Age == nil:
		return b.Age != nil
	case b.Age == nil:
		return false
	}
	return *a.Age > *b.Age
}
