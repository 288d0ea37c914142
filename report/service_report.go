package report

import (
	"context"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"golang.org/x/sync/errgroup"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/cmdb"
	"github.com/bcdr/bcdr/orchestrator/impact"
	"github.com/bcdr/bcdr/orchestrator/itsm"
)

// ServiceReport is one business service's monthly service report
// (服务报告, ISO/IEC 20000): its performance against the SLA, the period's
// incidents, problems, changes and releases, and its continuity.
type ServiceReport struct {
	Service     string    `json:"service"`
	Name        string    `json:"name"`
	Owner       string    `json:"owner"`
	Period      string    `json:"period"`
	Lang        string    `json:"lang"`
	From        time.Time `json:"from"`
	To          time.Time `json:"to"`
	GeneratedAt time.Time `json:"generated_at"`

	SLA        ServiceSLA        `json:"sla"`
	Incidents  ServiceIncidents  `json:"incidents"`
	Problems   []ProblemRow      `json:"problems"`
	Changes    ServiceChanges    `json:"changes"`
	Releases   DeploymentSection `json:"releases"`
	Continuity ContinuitySection `json:"continuity"`
}

// ServiceSLA is the service's availability in the period and the month
// before against its SLA, and the incident figures behind it.
type ServiceSLA struct {
	SLA        string   `json:"sla"`
	MeasuredIn string   `json:"measured_in"`
	Target     *float64 `json:"target"`
	Achieved   *float64 `json:"achieved"`
	Previous   *float64 `json:"previous"`
	Met        *bool    `json:"met"`
	// OutageMinutes is the scheduled time lost in the period.
	OutageMinutes         float64                `json:"outage_minutes"`
	PreviousOutageMinutes float64                `json:"previous_outage_minutes"`
	MTTR                  *orchestrator.Duration `json:"mttr"`
}

// ServiceIncidents are the incidents affecting the service opened in the
// period, and the month before's counts.
type ServiceIncidents struct {
	Count         int                  `json:"count"`
	Major         int                  `json:"major"`
	PreviousCount int                  `json:"previous_count"`
	PreviousMajor int                  `json:"previous_major"`
	Items         []ServiceIncidentRow `json:"items"`
}

// ServiceIncidentRow is one incident of the service.
type ServiceIncidentRow struct {
	ID                int64      `json:"id"`
	ExternalID        string     `json:"external_id"`
	Title             string     `json:"title"`
	Priority          string     `json:"priority"`
	Major             bool       `json:"major"`
	Cause             string     `json:"cause"`
	Status            string     `json:"status"`
	OpenedAt          time.Time  `json:"opened_at"`
	RestoredAt        *time.Time `json:"restored_at"`
	ContinuityInvoked bool       `json:"continuity_invoked"`
	Problem           *int64     `json:"problem"`
}

// ProblemRow is a problem behind incidents of the service that was open
// in the period.
type ProblemRow struct {
	ID         int64      `json:"id"`
	ExternalID string     `json:"external_id"`
	Title      string     `json:"title"`
	Status     string     `json:"status"`
	KnownError bool       `json:"known_error"`
	OpenedAt   time.Time  `json:"opened_at"`
	ResolvedAt *time.Time `json:"resolved_at"`
}

// ServiceChanges are the changes carried out in the period on the service
// or on a CI it depends on, and the month before's count.
type ServiceChanges struct {
	Count         int         `json:"count"`
	Major         int         `json:"major"`
	Failed        int         `json:"failed"`
	PreviousCount int         `json:"previous_count"`
	Items         []ChangeRow `json:"items"`
}

// ChangeRow is one change touching the service.
type ChangeRow struct {
	ID            int64      `json:"id"`
	ExternalID    string     `json:"external_id"`
	Title         string     `json:"title"`
	Type          string     `json:"type"`
	Major         bool       `json:"major"`
	Status        string     `json:"status"`
	CIs           []string   `json:"cis"`
	ImplementedAt *time.Time `json:"implemented_at"`
}

// serviceReport gathers the service report of service q.Subject for the
// month [from, to).
func (e *Reports) serviceReport(ctx context.Context, q Request, from, to time.Time) (any, htmlPage, error) {
	key := q.Subject
	if !utf8.ValidString(key) {
		return nil, nil, orchestrator.Invalid(SubjectField(KindService), "must be a service's key, in UTF-8")
	}
	ref, err := cmdb.ResolveOne(ctx, e.r.pool, key, cmdb.ResolveOptions{})
	if cmdb.IsUnknown(err) || err == nil && ref.Class != cmdb.ClassBusinessService {
		return nil, nil, orchestrator.Errorf(orchestrator.ENOTFOUND, "business service %q not found", key)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("service report of %s: %w", key, err)
	}
	now := e.r.rt.Now().UTC()
	rep := &ServiceReport{Service: key, Name: ref.Name, Owner: ref.Owner, Period: q.Period, Lang: q.Lang, From: from, To: to, GeneratedAt: now}
	snap, err := e.r.opts.Impact.Graphs().Current(ctx)
	if err != nil {
		return nil, nil, err
	}
	scope := serviceScope(snap, key)
	eg, gctx := errgroup.WithContext(ctx)
	eg.Go(func() (err error) { rep.SLA, err = e.serviceSLA(gctx, key, from, to, now); return err })
	eg.Go(func() (err error) {
		rep.Incidents, rep.Problems, err = e.serviceIncidents(gctx, key, from, to)
		return err
	})
	eg.Go(func() (err error) { rep.Changes, err = e.serviceChanges(gctx, scope, from, to); return err })
	eg.Go(func() (err error) { rep.Releases, err = e.serviceReleases(gctx, scope, from, to); return err })
	eg.Go(func() (err error) { rep.Continuity, err = e.continuity(gctx, snap, key, from, to, now); return err })
	if err := eg.Wait(); err != nil {
		return nil, nil, fmt.Errorf("gather service report of %s for %s: %w", key, q.Period, err)
	}
	return rep, rep.document(), nil
}

// serviceScope is the service and every CI it depends on, by key.
func serviceScope(snap *impact.Snapshot, key string) map[string]bool {
	g := snap.Graph
	scope := map[string]bool{key: true}
	n, ok := g.Index(key)
	if !ok {
		return scope
	}
	for _, d := range g.Dependencies(n).Nodes {
		scope[g.Key(d)] = true
	}
	return scope
}

// serviceSLA measures the service's availability in the period and the
// month before, up to now.
func (e *Reports) serviceSLA(ctx context.Context, key string, from, to, now time.Time) (ServiceSLA, error) {
	var sec ServiceSLA
	if to.After(now) {
		to = now
	}
	if !to.After(from) {
		return sec, nil
	}
	a, err := itsm.ServiceAvailability(ctx, e.r.pool, key, from, to, itsm.AvailabilityOptions{})
	if err != nil {
		return sec, err
	}
	sec.MeasuredIn, sec.Target, sec.Achieved, sec.Met, sec.OutageMinutes = a.MeasuredIn, a.Target, a.Achieved, a.Met, a.OutageMinutes
	if a.SLA != nil {
		sec.SLA = a.SLA.Name
	}
	p, err := itsm.ServiceAvailability(ctx, e.r.pool, key, from.AddDate(0, -1, 0), from, itsm.AvailabilityOptions{})
	if err != nil {
		return sec, err
	}
	sec.Previous, sec.PreviousOutageMinutes = p.Achieved, p.OutageMinutes
	st, err := itsm.IncidentStats(ctx, e.r.pool, itsm.Scope{Key: key, Service: true}, from, to)
	if err != nil {
		return sec, err
	}
	sec.MTTR = st.MTTR
	return sec, nil
}

// serviceIncidents lists the service's incidents opened in the period,
// counts the month before's, and reads the problems behind them.
func (e *Reports) serviceIncidents(ctx context.Context, key string, from, to time.Time) (ServiceIncidents, []ProblemRow, error) {
	sec := ServiceIncidents{Items: []ServiceIncidentRow{}}
	problems := []ProblemRow{}
	if e.opts.ITSM == nil {
		return sec, problems, nil
	}
	incidents := func(from, to time.Time) func(orchestrator.Page) (orchestrator.List[itsm.Incident], error) {
		return func(p orchestrator.Page) (orchestrator.List[itsm.Incident], error) {
			return e.opts.ITSM.ListIncidents(ctx, itsm.IncidentFilter{Service: key, OpenedAfter: from, OpenedBefore: to}, p)
		}
	}
	var ids []int64
	err := orchestrator.EachPage(incidents(from, to), func(i itsm.Incident) {
		sec.Count++
		if i.Major {
			sec.Major++
		}
		sec.Items = append(sec.Items, ServiceIncidentRow{ID: i.ID, ExternalID: i.ExternalID, Title: i.Title, Priority: i.Priority, Major: i.Major,
			Cause: i.Cause, Status: i.Status, OpenedAt: i.OpenedAt, RestoredAt: i.RestoredAt, ContinuityInvoked: i.ContinuityInvoked, Problem: i.ProblemID})
		if i.ProblemID != nil && !slices.Contains(ids, *i.ProblemID) {
			ids = append(ids, *i.ProblemID)
		}
	})
	if err != nil {
		return sec, nil, err
	}
	err = orchestrator.EachPage(incidents(from.AddDate(0, -1, 0), from), func(i itsm.Incident) {
		sec.PreviousCount++
		if i.Major {
			sec.PreviousMajor++
		}
	})
	if err != nil {
		return sec, nil, err
	}
	slices.Sort(ids)
	for _, id := range ids {
		p, err := e.opts.ITSM.Problem(ctx, id)
		if orchestrator.ErrorCode(err) == orchestrator.ENOTFOUND {
			continue // deleted since the incident named it
		}
		if err != nil {
			return sec, nil, err
		}
		problems = append(problems, ProblemRow{ID: p.ID, ExternalID: p.ExternalID, Title: p.Title, Status: p.Status, KnownError: p.KnownError,
			OpenedAt: p.OpenedAt, ResolvedAt: p.ResolvedAt})
	}
	return sec, problems, nil
}

// serviceChanges lists the changes carried out in the period on a CI in
// scope, and counts the month before's.
func (e *Reports) serviceChanges(ctx context.Context, scope map[string]bool, from, to time.Time) (ServiceChanges, error) {
	sec := ServiceChanges{Items: []ChangeRow{}}
	if e.opts.ITSM == nil {
		return sec, nil
	}
	touching := func(from, to time.Time, each func(c itsm.Change)) error {
		list := func(p orchestrator.Page) (orchestrator.List[itsm.Change], error) {
			return e.opts.ITSM.ListChanges(ctx, itsm.ChangeFilter{ImplementedAfter: from, ImplementedBefore: to}, p)
		}
		return orchestrator.EachPage(list, func(c itsm.Change) {
			if c.ImplementedAt != nil && slices.ContainsFunc(c.AffectedCIs, func(ci string) bool { return scope[ci] }) {
				each(c)
			}
		})
	}
	err := touching(from, to, func(c itsm.Change) {
		sec.Count++
		if c.Major {
			sec.Major++
		}
		if c.Status == "failed" || c.Status == "rolled_back" {
			sec.Failed++
		}
		sec.Items = append(sec.Items, ChangeRow{ID: c.ID, ExternalID: c.ExternalID, Title: c.Title, Type: c.Type, Major: c.Major, Status: c.Status,
			CIs: inScope(c.AffectedCIs, scope), ImplementedAt: c.ImplementedAt})
	})
	if err != nil {
		return sec, err
	}
	slices.SortFunc(sec.Items, func(a, b ChangeRow) int { return a.ImplementedAt.Compare(*b.ImplementedAt) })
	return sec, touching(from.AddDate(0, -1, 0), from, func(itsm.Change) { sec.PreviousCount++ })
}

// serviceReleases lists the releases deployed in the period to a CI in
// scope, and counts the month before's.
func (e *Reports) serviceReleases(ctx context.Context, scope map[string]bool, from, to time.Time) (DeploymentSection, error) {
	sec := DeploymentSection{Items: []ReleaseRow{}}
	if e.opts.ITSM == nil {
		return sec, nil
	}
	deployed := func(from, to time.Time, each func(r itsm.Release)) error {
		list := func(p orchestrator.Page) (orchestrator.List[itsm.Release], error) {
			return e.opts.ITSM.ListReleases(ctx, itsm.ReleaseFilter{DeployedAfter: from, DeployedBefore: to}, p)
		}
		return orchestrator.EachPage(list, func(r itsm.Release) {
			if r.DeployedAt != nil && slices.ContainsFunc(r.AffectedCIs, func(ci string) bool { return scope[ci] }) {
				each(r)
			}
		})
	}
	err := deployed(from, to, func(r itsm.Release) {
		sec.Count++
		sec.Items = append(sec.Items, ReleaseRow{ID: r.ID, Version: r.Version, Title: r.Title, DeployedAt: *r.DeployedAt})
	})
	if err != nil {
		return sec, err
	}
	slices.SortFunc(sec.Items, func(a, b ReleaseRow) int { return a.DeployedAt.Compare(b.DeployedAt) })
	return sec, deployed(from.AddDate(0, -1, 0), from, func(itsm.Release) { sec.PreviousCount++ })
}

// inScope keeps the keys in scope, in order.
func inScope(keys []string, scope map[string]bool) []string {
	out := []string{}
	for _, k := range keys {
		if scope[k] {
			out = append(out, k)
		}
	}
	return out
}
