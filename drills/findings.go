package drills

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/audit"
	"github.com/bcdr/bcdr/orchestrator/cmdb"
	"github.com/bcdr/bcdr/orchestrator/directory"
	"github.com/bcdr/bcdr/orchestrator/postgres"
	"github.com/bcdr/bcdr/runbooks"
)

// Finding sources.
const (
	SourceDrill            = "drill"
	SourceModelGap         = "model_gap"
	SourceAudit            = "audit"
	SourceIncidentReview   = "incident_review"
	SourceInvocationReview = "invocation_review"
)

// Sources lists the finding sources.
var Sources = []string{SourceDrill, SourceModelGap, SourceAudit, SourceIncidentReview, SourceInvocationReview}

// Severities of a finding, most urgent first.
var Severities = []string{"critical", "high", "medium", "low"}

// Finding statuses: open → in_progress → resolved → verified. A finding
// that needs a retest becomes verified only when a later drill of its
// scope passes; one that does not is verified by a person.
const (
	FindingOpen       = "open"
	FindingInProgress = "in_progress"
	FindingResolved   = "resolved"
	FindingVerified   = "verified"
)

// FindingStatuses lists the finding statuses in order.
var FindingStatuses = []string{FindingOpen, FindingInProgress, FindingResolved, FindingVerified}

// dueIn is how long after it is raised an automatic finding is due, by
// severity.
var dueIn = map[string]int{"critical": 30, "high": 60, "medium": 90, "low": 180}

// Finding is one entry of the improvement register (服务改进汇总表).
type Finding struct {
	ID          int64           `json:"id"`
	Source      string          `json:"source"`
	Severity    string          `json:"severity"`
	Title       string          `json:"title"`
	Description string          `json:"description"`
	Owner       string          `json:"owner"`
	DueDate     *directory.Date `json:"due_date"`
	Status      string          `json:"status"`
	Overdue     bool            `json:"overdue"`
	Services    []string        `json:"services"`
	Runbooks    []int64         `json:"runbooks"`
	CIs         []string        `json:"cis"`
	Retest      bool            `json:"retest"`
	Drill       *int64          `json:"drill"`
	Execution   *int64          `json:"execution"`
	VerifiedBy  *int64          `json:"verified_by"`
	Origin      *string         `json:"origin"`
	Resolution  string          `json:"resolution"`
	CreatedBy   string          `json:"created_by"`
	CreatedAt   time.Time       `json:"created_at"`
	UpdatedAt   time.Time       `json:"updated_at"`
	ResolvedAt  *time.Time      `json:"resolved_at"`
	VerifiedAt  *time.Time      `json:"verified_at"`
}

// FindingInput raises a finding by hand or, for Update, changes one: nil
// fields keep their value.
type FindingInput struct {
	Source      *string         `json:"source"`
	Severity    *string         `json:"severity"`
	Title       *string         `json:"title"`
	Description *string         `json:"description"`
	Owner       *string         `json:"owner"`
	DueDate     *directory.Date `json:"due_date"`
	Status      *string         `json:"status"`
	Services    []string        `json:"services"`
	Runbooks    []int64         `json:"runbooks"`
	CIs         []string        `json:"cis"`
	Retest      *bool           `json:"retest"`
	Resolution  *string         `json:"resolution"`
	// Execution links a finding of an invocation review to the invocation;
	// only when it is raised.
	Execution *int64 `json:"execution"`
}

const findingColumns = `id, source, severity, title, description, owner, due_date, status, services, runbooks, cis, retest,
	drill_id, execution_id, verified_by, origin, resolution, created_by, created_at, updated_at, resolved_at, verified_at`

// scanFinding reads a finding; today (UTC) decides whether it is overdue.
func scanFinding(today time.Time) pgx.RowToFunc[Finding] {
	return func(row pgx.CollectableRow) (Finding, error) {
		var (
			f   Finding
			due *time.Time
		)
		err := row.Scan(&f.ID, &f.Source, &f.Severity, &f.Title, &f.Description, &f.Owner, &due, &f.Status, &f.Services,
			&f.Runbooks, &f.CIs, &f.Retest, &f.Drill, &f.Execution, &f.VerifiedBy, &f.Origin, &f.Resolution, &f.CreatedBy,
			&f.CreatedAt, &f.UpdatedAt, &f.ResolvedAt, &f.VerifiedAt)
		if due != nil {
			d := directory.DateOf(*due)
			f.DueDate = &d
			f.Overdue = f.Status != FindingResolved && f.Status != FindingVerified && due.Before(today)
		}
		return f, err
	}
}

// today is the current day at midnight UTC.
func (s *Service) today() time.Time { return directory.DateOf(s.rt.Now()).Time() }

// FindingFilter narrows the register.
type FindingFilter struct {
	Status   string
	Source   string
	Severity string
	Service  string
	Runbook  int64
	Drill    int64
	// Overdue keeps only findings past their due date and not resolved.
	Overdue bool
	// Open keeps only findings not verified.
	Open bool
}

// Findings lists the register ordered by id.
func (s *Service) Findings(ctx context.Context, f FindingFilter, page orchestrator.Page) (orchestrator.List[Finding], error) {
	var after int64
	if page.After != "" {
		var err error
		if after, err = strconv.ParseInt(page.After, 10, 64); err != nil {
			return orchestrator.List[Finding]{}, orchestrator.Invalid("after", "is not a cursor returned by this server")
		}
	}
	var v orchestrator.Validation
	for _, c := range []struct {
		field, value string
		allowed      []string
	}{{"status", f.Status, FindingStatuses}, {"source", f.Source, Sources}, {"severity", f.Severity, Severities}} {
		if c.value != "" && !slices.Contains(c.allowed, c.value) {
			v.Add(c.field, "must be one of %s", strings.Join(c.allowed, ", "))
		}
	}
	if err := v.Err(); err != nil {
		return orchestrator.List[Finding]{}, err
	}
	today := s.today()
	rows, err := s.pool.Query(ctx, `SELECT `+findingColumns+` FROM findings
		WHERE id > $1 AND ($2 = '' OR status = $2) AND ($3 = '' OR source = $3) AND ($4 = '' OR severity = $4)
		AND ($5 = '' OR $5 = ANY (services)) AND ($6 = 0 OR $6 = ANY (runbooks)) AND ($7 = 0 OR drill_id = $7)
		AND (NOT $8 OR (due_date < $9 AND status IN ('open', 'in_progress'))) AND (NOT $10 OR status <> 'verified')
		ORDER BY id LIMIT $11`, after, f.Status, f.Source, f.Severity, f.Service, f.Runbook, f.Drill, f.Overdue, today, f.Open, page.Limit+1)
	if err != nil {
		return orchestrator.List[Finding]{}, fmt.Errorf("list findings: %w", err)
	}
	items, err := pgx.CollectRows(rows, scanFinding(today))
	if err != nil {
		return orchestrator.List[Finding]{}, fmt.Errorf("list findings: %w", err)
	}
	return orchestrator.Paginate(items, page.Limit, func(f Finding) string { return strconv.FormatInt(f.ID, 10) }), nil
}

// Finding returns one finding.
func (s *Service) Finding(ctx context.Context, id int64) (Finding, error) {
	return s.getFinding(ctx, s.pool, id, false)
}

func (s *Service) getFinding(ctx context.Context, q postgres.Querier, id int64, forUpdate bool) (Finding, error) {
	query := `SELECT ` + findingColumns + ` FROM findings WHERE id = $1`
	if forUpdate {
		query += ` FOR UPDATE`
	}
	rows, err := q.Query(ctx, query, id)
	if err != nil {
		return Finding{}, fmt.Errorf("read finding %d: %w", id, err)
	}
	f, err := pgx.CollectExactlyOneRow(rows, scanFinding(s.today()))
	if err == pgx.ErrNoRows {
		return Finding{}, orchestrator.Errorf(orchestrator.ENOTFOUND, "finding %d not found", id)
	}
	if err != nil {
		return Finding{}, fmt.Errorf("read finding %d: %w", id, err)
	}
	return f, nil
}

// CreateFinding enters a finding by hand.
func (s *Service) CreateFinding(ctx context.Context, in FindingInput) (Finding, error) {
	f := Finding{Source: SourceAudit, Severity: "medium", Status: FindingOpen, Services: []string{}, Runbooks: []int64{}, CIs: []string{}}
	if in.Execution != nil {
		f.Source = SourceInvocationReview
		if _, err := s.invocation(ctx, *in.Execution); err != nil {
			if orchestrator.ErrorCode(err) == orchestrator.ENOTFOUND {
				return Finding{}, orchestrator.Invalid("execution", "%s", err.Error())
			}
			return Finding{}, err
		}
		f.Execution = in.Execution
	}
	if err := s.applyFinding(ctx, &f, in, true); err != nil {
		return Finding{}, err
	}
	var id int64
	err := postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		id, err = s.insertFinding(ctx, tx, f)
		return err
	})
	if err != nil {
		return Finding{}, err
	}
	return s.Finding(ctx, id)
}

// insertFinding writes f unless a finding of the same origin exists, and
// returns the id of the one that holds it.
func (s *Service) insertFinding(ctx context.Context, tx pgx.Tx, f Finding) (int64, error) {
	now := s.rt.Now()
	for _, list := range []*[]string{&f.Services, &f.CIs} {
		if *list == nil {
			*list = []string{}
		}
	}
	if f.Runbooks == nil {
		f.Runbooks = []int64{}
	}
	if f.DueDate == nil {
		d := directory.DateOf(now).AddDays(dueIn[f.Severity])
		f.DueDate = &d
	}
	var id int64
	err := tx.QueryRow(ctx, `INSERT INTO findings (source, severity, title, description, owner, due_date, status, services,
			runbooks, cis, retest, drill_id, execution_id, origin, created_by, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16)
		ON CONFLICT (origin) DO NOTHING RETURNING id`,
		f.Source, f.Severity, f.Title, f.Description, f.Owner, f.DueDate.Time(), f.Status, f.Services, f.Runbooks, f.CIs,
		f.Retest, f.Drill, f.Execution, f.Origin, orchestrator.ActorFrom(ctx).Name, now).Scan(&id)
	if err == pgx.ErrNoRows {
		err = tx.QueryRow(ctx, `SELECT id FROM findings WHERE origin = $1`, f.Origin).Scan(&id)
		return id, postgres.Translate(err)
	}
	if err != nil {
		return 0, fmt.Errorf("insert finding: %w", postgres.Translate(err))
	}
	return id, audit.Record(ctx, tx, audit.Change{Action: "create", Resource: "findings", ResourceID: strconv.FormatInt(id, 10),
		Summary: fmt.Sprintf("%s finding (%s): %s", f.Severity, f.Source, orchestrator.Excerpt(f.Title, 120))})
}

// UpdateFinding changes a finding: its owner, due date, severity, text and
// status. Only a passed drill verifies a finding that needs a retest.
func (s *Service) UpdateFinding(ctx context.Context, id int64, in FindingInput) (Finding, error) {
	err := postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		f, err := s.getFinding(ctx, tx, id, true)
		if err != nil {
			return err
		}
		before := f.Status
		if in.Source != nil && *in.Source != f.Source {
			return orchestrator.Invalid("source", "cannot change once raised")
		}
		if in.Execution != nil {
			return orchestrator.Invalid("execution", "cannot change once raised")
		}
		if err := s.applyFinding(ctx, &f, in, false); err != nil {
			return err
		}
		if err := transition(f, before); err != nil {
			return err
		}
		now := s.rt.Now()
		resolvedAt, verifiedAt := f.ResolvedAt, f.VerifiedAt
		switch f.Status {
		case FindingResolved:
			if before != FindingResolved {
				resolvedAt = &now
			}
		case FindingVerified:
			verifiedAt = &now
		default:
			resolvedAt, verifiedAt = nil, nil
		}
		_, err = tx.Exec(ctx, `UPDATE findings SET severity = $2, title = $3, description = $4, owner = $5, due_date = $6,
			status = $7, services = $8, runbooks = $9, cis = $10, retest = $11, resolution = $12, updated_at = $13,
			resolved_at = $14, verified_at = $15 WHERE id = $1`, id, f.Severity, f.Title, f.Description, f.Owner,
			dateOrNil(f.DueDate), f.Status, f.Services, f.Runbooks, f.CIs, f.Retest, f.Resolution, now, resolvedAt, verifiedAt)
		if err != nil {
			return fmt.Errorf("update finding %d: %w", id, postgres.Translate(err))
		}
		summary := "updated"
		if before != f.Status {
			summary = before + " → " + f.Status
		}
		return audit.Record(ctx, tx, audit.Change{Action: "update", Resource: "findings", ResourceID: strconv.FormatInt(id, 10), Summary: summary})
	})
	if err != nil {
		return Finding{}, err
	}
	return s.Finding(ctx, id)
}

// transition checks a status change made by a person.
func transition(f Finding, before string) error {
	if f.Status == before {
		return nil
	}
	switch {
	case before == FindingVerified:
		return orchestrator.Invalid("status", "a verified finding is closed; raise a new one")
	case f.Status == FindingVerified && f.Retest:
		return orchestrator.Invalid("status", "this finding needs a retest: it is verified when a later drill of its scope passes")
	case f.Status == FindingVerified && before != FindingResolved:
		return orchestrator.Invalid("status", "resolve the finding before verifying it")
	case f.Status == FindingResolved && strings.TrimSpace(f.Resolution) == "":
		return orchestrator.Invalid("resolution", "say how the finding was resolved")
	}
	return nil
}

func dateOrNil(d *directory.Date) *time.Time {
	if d == nil || d.IsZero() {
		return nil
	}
	t := d.Time()
	return &t
}

// applyFinding copies the set fields of in onto f and checks the result.
func (s *Service) applyFinding(ctx context.Context, f *Finding, in FindingInput, creating bool) error {
	var v orchestrator.Validation
	set := func(dst *string, src *string) {
		if src != nil {
			*dst = strings.TrimSpace(*src)
		}
	}
	set(&f.Source, in.Source)
	set(&f.Severity, in.Severity)
	set(&f.Title, in.Title)
	set(&f.Description, in.Description)
	set(&f.Owner, in.Owner)
	set(&f.Status, in.Status)
	set(&f.Resolution, in.Resolution)
	if in.DueDate != nil {
		f.DueDate = in.DueDate
	}
	if in.Retest != nil {
		f.Retest = *in.Retest
	}
	if in.Services != nil {
		f.Services = in.Services
	}
	if in.Runbooks != nil {
		f.Runbooks = in.Runbooks
	}
	if in.CIs != nil {
		f.CIs = in.CIs
	}
	if creating && !slices.Contains(Sources, f.Source) {
		v.Add("source", "must be one of %s", strings.Join(Sources, ", "))
	}
	if !slices.Contains(Severities, f.Severity) {
		v.Add("severity", "must be one of %s", strings.Join(Severities, ", "))
	}
	if !slices.Contains(FindingStatuses, f.Status) {
		v.Add("status", "must be one of %s", strings.Join(FindingStatuses, ", "))
	}
	checkText(&v, "title", f.Title, maxTitle, true)
	checkText(&v, "description", f.Description, 8000, false)
	checkText(&v, "owner", f.Owner, maxTitle, false)
	checkText(&v, "resolution", f.Resolution, maxText, false)
	if f.Retest && len(f.Runbooks)+len(f.Services) == 0 {
		v.Add("retest", "a finding that needs a retest names the services or runbooks a drill must pass")
	}
	if err := s.checkLinks(ctx, f, &v); err != nil {
		return err
	}
	return v.Err()
}

// checkLinks adds to v the links to services, runbooks and CIs that do not
// exist, and sorts the links; it fails only when the database does.
func (s *Service) checkLinks(ctx context.Context, f *Finding, v *orchestrator.Validation) error {
	for i, id := range f.Runbooks {
		if _, err := s.opts.Runbooks.Brief(ctx, strconv.FormatInt(id, 10), runbooks.BriefOptions{}); orchestrator.ErrorCode(err) == orchestrator.ENOTFOUND {
			v.Add(fmt.Sprintf("runbooks[%d]", i), "no runbook has id %d", id)
		} else if err != nil {
			return err
		}
	}
	refs, err := cmdb.Resolve(ctx, s.pool, append(slices.Clone(f.Services), f.CIs...), cmdb.ResolveOptions{})
	if err != nil && !cmdb.IsUnknown(err) {
		return err
	}
	for field, list := range map[string][]string{"services": f.Services, "cis": f.CIs} {
		for i, k := range list {
			if _, ok := refs[k]; !ok {
				v.Add(fmt.Sprintf("%s[%d]", field, i), "no CI has key %q", k)
			}
		}
	}
	slices.Sort(f.Services)
	slices.Sort(f.CIs)
	slices.Sort(f.Runbooks)
	f.Services, f.CIs, f.Runbooks = slices.Compact(f.Services), slices.Compact(f.CIs), slices.Compact(f.Runbooks)
	return nil
}

// retestsDue maps each runbook with open findings that need a retest to
// those findings' ids.
func (s *Service) retestsDue(ctx context.Context) (map[int64][]int64, error) {
	rows, err := s.pool.Query(ctx, `SELECT r, array_agg(id ORDER BY id) FROM findings, unnest(runbooks) AS r
		WHERE retest AND status <> 'verified' GROUP BY r`)
	if err != nil {
		return nil, fmt.Errorf("read findings due a retest: %w", err)
	}
	due := map[int64][]int64{}
	var (
		rb  int64
		ids []int64
	)
	_, err = pgx.ForEachRow(rows, []any{&rb, &ids}, func() error {
		due[rb] = slices.Clone(ids)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read findings due a retest: %w", err)
	}
	return due, nil
}
