package drills

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/runbooks"
)

// unknownTier is the tier a service without an approved BIA is planned
// as: the least critical, said in its entry.
const unknownTier = 4

// approvedRunbook is what the programme needs of one approved runbook.
type approvedRunbook struct {
	ID       int64
	Service  string   // the service it recovers; empty for a scenario runbook
	Services []string // the services it covers
	Scope    []string // the approved version's CMDB scope
	Retest   *runbooks.RetestDetail
}

// approvedRunbooks lists every approved runbook with its approved scope
// and whether it needs a retest, reading the runbooks of each page of the
// listing together.
func (s *Service) approvedRunbooks(ctx context.Context) ([]approvedRunbook, error) {
	var out []approvedRunbook
	page := orchestrator.Page{Limit: 1000}
	for {
		list, err := s.opts.Runbooks.List(ctx, runbooks.Filter{Status: runbooks.StatusApproved}, page)
		if err != nil {
			return nil, err
		}
		ids := make([]int64, len(list.Items))
		for i, sm := range list.Items {
			ids[i] = sm.ID
		}
		briefs, err := s.opts.Runbooks.Briefs(ctx, ids, runbooks.BriefOptions{Staleness: true, Outline: true})
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			if rb, ok := briefs[id]; ok {
				out = append(out, approvedOf(rb))
			}
		}
		if list.Next == "" {
			return out, nil
		}
		if page.After, err = orchestrator.DecodeCursor(list.Next); err != nil {
			return nil, err
		}
	}
}

// approvedOf is what the programme needs of an approved runbook's brief.
func approvedOf(rb runbooks.Brief) approvedRunbook {
	a := approvedRunbook{ID: rb.ID, Service: rb.Scope.Service, Services: rb.Services}
	v := rb.Version
	a.Scope = v.ScopeCIs
	if v.Approval != nil && len(v.Approval.ScopeCIs) > 0 {
		a.Scope = v.Approval.ScopeCIs
	}
	if slices.Contains(rb.Staleness.Flags, runbooks.FlagRetestRequired) {
		a.Retest = rb.Staleness.RetestRequired
	}
	return a
}

// planInputs reads what a proposal for year is computed from.
func (s *Service) planInputs(ctx context.Context, year int, settings Settings) (planInput, error) {
	in := planInput{Year: year, Settings: settings, Now: s.rt.Now(), Policy: map[int]Policy{}}
	ps, err := s.Policies(ctx)
	if err != nil {
		return in, err
	}
	for _, p := range ps {
		in.Policy[p.Tier] = p
	}
	rbs, err := s.approvedRunbooks(ctx)
	if err != nil {
		return in, err
	}
	bias, err := s.opts.Impact.ApprovedBIAs(ctx, nil)
	if err != nil {
		return in, err
	}
	tier := func(svc string) int {
		if b, ok := bias[svc]; ok {
			return b.Tier
		}
		return unknownTier
	}
	due, err := s.retestsDue(ctx)
	if err != nil {
		return in, err
	}
	seen := map[string]bool{}
	for _, rb := range rbs {
		if rb.Service != "" && !seen[rb.Service] {
			seen[rb.Service] = true
			_, hasBIA := bias[rb.Service]
			in.Services = append(in.Services, planService{Key: rb.Service, Tier: tier(rb.Service), NoBIA: !hasBIA,
				Runbook: rb.ID, Scope: rb.Scope, Periods: bias[rb.Service].CriticalPeriods})
		}
		findings := due[rb.ID]
		if rb.Retest == nil && len(findings) == 0 {
			continue
		}
		r := planRetest{Runbook: rb.ID, Services: rb.Services, Tier: unknownTier, Findings: findings}
		for _, svc := range rb.Services {
			r.Tier = min(r.Tier, tier(svc))
		}
		if rb.Retest != nil {
			r.Reasons = append(r.Reasons, "retest_required since "+describeTouches(rb.Retest))
		}
		if len(findings) > 0 {
			r.Reasons = append(r.Reasons, "open findings "+joinIDs(findings)+" need a retest")
		}
		in.Retests = append(in.Retests, r)
	}
	// Services only a scenario runbook covers still get their critical
	// periods avoided by a retest of it.
	in.Periods = map[string][]string{}
	for _, r := range in.Retests {
		for _, svc := range r.Services {
			if !seen[svc] {
				in.Periods[svc] = bias[svc].CriticalPeriods
			}
		}
	}
	in.Load, err = s.weekLoad(ctx, year, settings.Timezone)
	return in, err
}

// describeTouches names the changes and releases that made a runbook stale.
func describeTouches(d *runbooks.RetestDetail) string {
	var names []string
	for _, t := range d.Changes {
		name := t.ExternalID
		if name == "" {
			name = fmt.Sprintf("%s %d", t.Kind, t.ID)
		}
		names = append(names, fmt.Sprintf("%s %q (%s)", name, t.Title, t.At.Format(time.DateOnly)))
	}
	return listNames(names)
}

// weekLoad counts the drills not in the year's programme per ISO week
// (isoYear*100 + week) of the programme's time zone.
func (s *Service) weekLoad(ctx context.Context, year int, tz string) (map[int]int, error) {
	loc, err := loadZone(tz)
	if err != nil {
		return nil, err
	}
	from := time.Date(year, 1, 1, 0, 0, 0, 0, loc).AddDate(0, 0, -7)
	rows, err := s.pool.Query(ctx, `SELECT planned_start FROM drills
		WHERE status <> 'cancelled' AND programme_year IS DISTINCT FROM $1 AND planned_start >= $2 AND planned_start < $3`,
		year, from, from.AddDate(1, 0, 14))
	if err != nil {
		return nil, fmt.Errorf("read planned drills: %w", err)
	}
	defer rows.Close()
	load := map[int]int{}
	for rows.Next() {
		var t time.Time
		if err := rows.Scan(&t); err != nil {
			return nil, fmt.Errorf("read planned drills: %w", err)
		}
		y, w := t.In(loc).ISOWeek()
		load[y*100+w]++
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read planned drills: %w", err)
	}
	return load, nil
}

// fieldsUnder prefixes the fields of a validation error, so an error about
// a drill created from entry i names entries[i].field.
func fieldsUnder(prefix string, err error) error {
	if orchestrator.ErrorCode(err) != orchestrator.EINVALID {
		return err
	}
	fields := orchestrator.ErrorFields(err)
	if len(fields) == 0 {
		return orchestrator.Invalid(strings.TrimSuffix(prefix, "."), "%s", orchestrator.ErrorMessage(err))
	}
	out := make([]orchestrator.FieldError, len(fields))
	for i, f := range fields {
		out[i] = orchestrator.FieldError{Field: prefix + f.Field, Message: f.Message}
	}
	return &orchestrator.Error{Code: orchestrator.EINVALID, Message: orchestrator.ErrorMessage(err), Fields: out}
}
