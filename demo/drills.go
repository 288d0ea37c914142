package demo

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/sync/errgroup"

	"github.com/bcdr/bcdr/drills"
	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/cmdb"
	"github.com/bcdr/bcdr/orchestrator/impact"
	"github.com/bcdr/bcdr/orchestrator/importer"
	"github.com/bcdr/bcdr/orchestrator/scheduler"
	"github.com/bcdr/bcdr/runbooks"
	"github.com/bcdr/bcdr/runbooks/execution"
)

// The drills the demo tells a story with. The programme of Now's year was
// approved just before the year began and every drill planned before Now
// was run on its day, most passing: the slow service's runbook, drilled
// last in the DR lab, recovered far slower than its RTO (partial, its
// findings open); the failing service's first drill stopped at a failed
// restore (fail), and its next drill passed and verified those findings;
// the stale service's retest is planned after the major change that made
// it necessary.
const (
	drilledService = "taxpayer-reg"
	failedService  = "declaration"
	retestIn       = 9 * 24 * time.Hour
)

// Actors of the demo's drills.
var (
	drillManager  = orchestrator.Actor{Name: "zhang.wei", Role: orchestrator.RoleContinuityManager}
	drillOperator = orchestrator.Actor{Name: "wang.fang", Role: orchestrator.RoleOperator}
)

// drillWorld is the services the demo's drills run through, on a clock the
// demo moves from drill to drill.
type drillWorld struct {
	pool   *pgxpool.Pool
	clock  *orchestrator.ManualClock
	rbs    *runbooks.Service
	engine *execution.Service
	drills *drills.Service
	now    time.Time
}

// seedDrills approves the drill programme of Now's year as it stood just
// before the year began, runs every drill planned before Now on its day,
// and plans the stale runbook's retest, unless the year's programme
// exists.
func seedDrills(ctx context.Context, pool *pgxpool.Pool, opts Options, summary Summary) error {
	year := opts.Now.Year()
	rep := importer.Report{Type: "drills", Format: "demo"}
	summary["drills"] = rep
	w := newDrillWorld(pool, opts.Now, programmeApproved(year))
	ctx = orchestrator.WithActor(ctx, drillManager)
	if _, err := w.drills.Programme(ctx, year); orchestrator.ErrorCode(err) != orchestrator.ENOTFOUND {
		if err == nil {
			rep.Unchanged, rep.Rows = 1, 1
			summary["drills"] = rep
		}
		return err
	}
	p, err := w.drills.ProposeProgramme(ctx, year, programmeSettings(year))
	if err != nil {
		return fmt.Errorf("propose the demo's %d drill programme: %w", year, err)
	}
	if p.Unplaced > 0 {
		return fmt.Errorf("the demo's %d drill programme left %d drills unplaced", year, p.Unplaced)
	}
	// The records run to Now, so the proposal saw changes still to come
	// as due retests; the manager plans those when they happen.
	entries := slices.DeleteFunc(p.Entries, func(e drills.Entry) bool { return e.Retest })
	if _, err := w.drills.ReplaceEntries(ctx, year, entries); err != nil {
		return fmt.Errorf("edit the demo's %d drill programme: %w", year, err)
	}
	if p, err = w.drills.ApproveProgramme(ctx, year); err != nil {
		return fmt.Errorf("approve the demo's %d drill programme: %w", year, err)
	}
	past := pastDrills(p, opts.Now)
	for i, id := range past {
		last := !slices.ContainsFunc(past[i+1:], func(later int64) bool { return w.covers(ctx, later, drilledService) })
		if err := w.run(ctx, id, last); err != nil {
			return err
		}
	}
	if err := w.planRetest(ctx, year); err != nil {
		return err
	}
	rep.Rows, rep.Inserted, rep.Written = len(p.Entries)+1, len(p.Entries)+1, true
	summary["drills"] = rep
	return nil
}

// programmeApproved is when the demo's programme of year was approved.
func programmeApproved(year int) time.Time {
	return time.Date(year-1, time.December, 29, 10, 0, 0, 0, demoZone)
}

// demoZone is the bureau's time zone.
var demoZone = time.FixedZone("CST", 8*3600)

// newDrillWorld builds the services on a clock standing at start; the
// schedules an approval creates are timed from now.
func newDrillWorld(pool *pgxpool.Pool, now, start time.Time) *drillWorld {
	clock := orchestrator.NewManualClock(start)
	rt := orchestrator.Runtime{Clock: clock}
	w := &drillWorld{pool: pool, clock: clock, now: now}
	w.rbs = runbooks.NewService(pool, rt, runbooks.Options{Drills: proofOf{w}})
	w.engine = execution.NewService(pool, rt, w.rbs, execution.Options{})
	schedules := scheduler.NewService(pool, orchestrator.Runtime{Clock: fixedClock(now)}, scheduler.ServiceOptions{Handled: []scheduler.Kind{scheduler.KindDrill}})
	w.drills = drills.NewService(pool, rt, drills.Options{Runbooks: w.rbs, Executions: w.engine, Schedules: schedules,
		Impact: impact.NewService(pool, rt, nil)})
	return w
}

// proofOf lets runbooks ask the drills service built after it.
type proofOf struct{ w *drillWorld }

// Proofs are the drills service's proofs of runbooks.
func (p proofOf) Proofs(ctx context.Context, ids []int64) (map[int64]runbooks.Proof, error) {
	return p.w.drills.Proofs(ctx, ids)
}

// programmeSettings are the bureau's: its holidays, its year-end change
// freeze, and its technical drills on the first Tuesday of March and
// September.
func programmeSettings(year int) drills.SettingsInput {
	tz, start, perWeek := "Asia/Shanghai", "09:00", 3
	var holidays []string
	for _, d := range []string{"01-01", "05-01", "05-02", "05-03", "05-04", "05-05", "10-01", "10-02", "10-03", "10-04", "10-05", "10-06", "10-07"} {
		holidays = append(holidays, fmt.Sprintf("%d-%s", year, d))
	}
	technical := drills.TypeTechnical
	return drills.SettingsInput{Timezone: &tz, StartTime: &start, MaxPerWeek: &perWeek, Holidays: holidays,
		Freezes: []drills.Freeze{{From: fmt.Sprintf("%d-12-20", year), To: fmt.Sprintf("%d-12-31", year), Reason: "年终结算 year-end closing"}},
		Rules:   []drills.Rule{{Type: technical, RRule: "FREQ=YEARLY;BYMONTH=3,9;BYDAY=1TU"}}}
}

// pastDrills lists the programme's drills planned before now, earliest
// first.
func pastDrills(p drills.Programme, now time.Time) []int64 {
	entries := slices.Clone(p.Entries)
	slices.SortStableFunc(entries, func(a, b drills.Entry) int { return a.PlannedStart.Compare(*b.PlannedStart) })
	var out []int64
	for _, e := range entries {
		if e.Drill != nil && e.PlannedStart.Before(now) {
			out = append(out, *e.Drill)
		}
	}
	return out
}

// covers reports whether drill id exercises service.
func (w *drillWorld) covers(ctx context.Context, id int64, service string) bool {
	d, err := w.drills.Get(ctx, id)
	return err == nil && slices.Contains(d.Services, service)
}

// run performs drill id on its planned day as the story wants it.
func (w *drillWorld) run(ctx context.Context, id int64, lastOfSlow bool) error {
	d, err := w.drills.Get(ctx, id)
	if err != nil {
		return err
	}
	w.clock.Set(d.PlannedStart)
	failure := d.PlannedStart.Add(-10 * time.Minute)
	note := "年度演练 drill of the approved programme, in the DR lab"
	if d, err = w.drills.Start(ctx, id, drills.StartInput{FailurePoint: &failure, Note: note}); err != nil {
		return fmt.Errorf("start demo drill %d: %w", id, err)
	}
	slow := lastOfSlow && slices.Contains(d.Services, drilledService)
	failing := slices.Contains(d.Services, failedService) && w.firstOf(ctx, d, failedService)
	if len(d.Executions) == 0 {
		err = w.walk(ctx, d)
	} else {
		err = w.performAll(ctx, d, failure, slow, failing)
	}
	if err != nil {
		return fmt.Errorf("demo drill %d: %w", id, err)
	}
	report := drills.Report{WentWell: []string{"everyone on the call tree answered within 15 minutes"}}
	switch {
	case slow:
		report.ToImprove = []string{"the registration database restore took most of two days: the runbook rebuilds in place what failing over to dc-dr would spare"}
		report.Recommendations = []string{"rewrite the runbook around the failover to dc-dr and drill it again"}
	case failing:
		report.ToImprove = []string{"the restore failed: the backup catalogue pointed at a retired tape library"}
		report.Actions = []string{"repoint the backup catalogue and retest within three months"}
	}
	if _, err := w.drills.Complete(ctx, id, drills.CompleteInput{Report: &report}); err != nil {
		return fmt.Errorf("complete demo drill %d: %w", id, err)
	}
	hot := orchestrator.WithActor(ctx, drillOperator)
	_, err = w.drills.AnswerHotwash(hot, id, drills.HotwashInput{Answers: map[string]string{
		"went_well": "the runbook's order of steps held", "roles_clear": "4", "runbook_accurate": "3"}})
	return err
}

// firstOf reports whether d is the first drill of service in its year.
func (w *drillWorld) firstOf(ctx context.Context, d drills.Drill, service string) bool {
	list, err := w.drills.List(ctx, drills.Filter{Service: service, Year: d.PlannedStart.Year()}, orchestrator.Page{Limit: 10})
	if err != nil {
		return false
	}
	for _, other := range list.Items {
		if other.PlannedStart.Before(d.PlannedStart) {
			return false
		}
	}
	return true
}

// walk walks (tabletop) or confirms (walkthrough) every step of the
// drill's runbooks, a few minutes apart.
func (w *drillWorld) walk(ctx context.Context, d drills.Drill) error {
	typ := drills.EventWalked
	if d.Type == drills.TypeWalkthrough {
		typ = drills.EventConfirmed
	}
	for _, rb := range d.Runbooks {
		b, err := w.rbs.Brief(ctx, strconv.FormatInt(rb, 10), runbooks.BriefOptions{})
		if err != nil {
			return err
		}
		for _, st := range b.Version.Steps {
			w.clock.Advance(3 * time.Minute)
			in := drills.EventInput{Type: typ, Step: fmt.Sprintf("%d/%s", rb, st.ID)}
			if _, err := w.drills.Record(ctx, d.ID, in); err != nil {
				return err
			}
		}
	}
	return nil
}

// performAll carries out the drill's executions side by side, as the teams
// of each runbook would, each on a clock of its own from the drill's
// start, and moves the drill's clock to when the last one ended.
func (w *drillWorld) performAll(ctx context.Context, d drills.Drill, failure time.Time, slow, failing bool) error {
	ends := make([]time.Time, len(d.Executions))
	g, gctx := errgroup.WithContext(ctx)
	for i, id := range d.Executions {
		g.Go(func() error {
			clock := orchestrator.NewManualClock(w.clock.Now())
			engine := execution.NewService(w.pool, orchestrator.Runtime{Clock: clock}, w.rbs, execution.Options{})
			err := w.perform(gctx, engine, clock, id, failure, slow, failing)
			ends[i] = clock.Now()
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	w.clock.Set(slices.MaxFunc(ends, time.Time.Compare))
	return nil
}

// perform carries out execution id step by step on its engine and clock;
// only the slow service's own runbook is slow, only the failing service's
// own runbook fails. A passing drill's steps
// take what keeps the runbook within its RTO and lose half the RPO; the
// slow one's take 40–70 % of their estimates and restore the database to
// 20 minutes before the failure; the failing one's first restore fails and
// the execution is aborted.
func (w *drillWorld) perform(ctx context.Context, engine *execution.Service, clock *orchestrator.ManualClock, id int64,
	failure time.Time, slow, failing bool) error {
	operator := orchestrator.WithActor(ctx, drillOperator)
	ex, err := engine.Get(ctx, id)
	if err != nil {
		return err
	}
	own := func(service string) bool {
		l, err := w.rbs.List(ctx, runbooks.Filter{Service: service}, orchestrator.Page{Limit: 1})
		return err == nil && len(l.Items) == 1 && l.Items[0].ID == ex.Runbook
	}
	slow, failing = slow && own(drilledService), failing && own(failedService)
	pace, loss, err := w.pace(ctx, ex.Runbook)
	if err != nil {
		return err
	}
	data, err := w.dataBearing(ctx, ex)
	if err != nil {
		return err
	}
	// Steps waiting at once are worked on at once: each is done its
	// duration after it became ready, and the earliest done goes next.
	done := map[string]time.Time{}
	for ex.Status == execution.StatusRunning {
		next := -1
		for i, st := range ex.Steps {
			if st.Status != execution.StepWaiting {
				continue
			}
			if _, ok := done[st.ID]; !ok {
				step := time.Duration(float64(st.Estimate) * pace)
				if slow {
					step = time.Duration(st.Estimate) * time.Duration(40+(i*37)%31) / 100
				}
				done[st.ID] = clock.Now().Add(max(step, 30*time.Second))
			}
			if next < 0 || done[st.ID].Before(done[ex.Steps[next].ID]) {
				next = i
			}
		}
		if next < 0 {
			return fmt.Errorf("execution %d is %s with no step waiting for a person", ex.ID, ex.Status)
		}
		st := ex.Steps[next]
		clock.Set(done[st.ID])
		in := execution.ActionInput{Note: "done as the runbook says", Evidence: []string{"https://wiki.tax.example/drills/" + strconv.Itoa(failure.Year())}}
		if st.RunbookKind == runbooks.KindRecover && data[st.CI] {
			if failing {
				fail := execution.ActionInput{Reason: "the restore found no backup set: the catalogue points at a retired tape library"}
				if _, err := engine.StepAction(operator, ex.ID, st.ID, execution.ActFail, fail); err != nil {
					return err
				}
				_, err := engine.Control(ctx, ex.ID, execution.CtlAbort, execution.ActionInput{Reason: "no usable backup: drill stopped"})
				return err
			}
			point := failure.Add(-loss)
			if slow {
				point = failure.Add(-20 * time.Minute)
			}
			in.RecoveredAt = &point
		}
		if ex, err = engine.StepAction(operator, ex.ID, st.ID, execution.ActComplete, in); err != nil {
			return fmt.Errorf("step %s: %w", st.ID, err)
		}
	}
	return nil
}

// pace is the share of its estimate a step of runbook rb takes in a
// passing drill, so that its longest chain of steps ends at 70 % of the
// tightest RTO in scope, and the data a restore loses: half the tightest
// RPO.
func (w *drillWorld) pace(ctx context.Context, rb int64) (float64, time.Duration, error) {
	r, err := w.rbs.Get(ctx, strconv.FormatInt(rb, 10))
	if err != nil {
		return 0, 0, err
	}
	chain := longestChain(r.Version.Steps)
	pace, loss := 0.6, 10*time.Minute
	for _, sc := range r.Feasibility.Services {
		if sc.RTO != nil && chain > 0 {
			pace = min(pace, 0.7*float64(*sc.RTO)/float64(chain))
		}
		if sc.RPO != nil {
			loss = min(loss, time.Duration(*sc.RPO)/2)
		}
	}
	return pace, loss, nil
}

// longestChain is the longest path through the steps' dependencies,
// summing estimates.
func longestChain(steps []runbooks.Step) time.Duration {
	ends := map[string]time.Duration{}
	var end func(id string) time.Duration
	byID := map[string]runbooks.Step{}
	for _, st := range steps {
		byID[st.ID] = st
	}
	end = func(id string) time.Duration {
		if e, ok := ends[id]; ok {
			return e
		}
		ends[id] = 0 // a cycle, which runbooks refuse, ends here
		var before time.Duration
		for _, dep := range byID[id].DependsOn {
			before = max(before, end(dep))
		}
		ends[id] = before + time.Duration(byID[id].Estimate)
		return ends[id]
	}
	var longest time.Duration
	for _, st := range steps {
		longest = max(longest, end(st.ID))
	}
	return longest
}

// dataBearing tells which CIs of an execution hold data.
func (w *drillWorld) dataBearing(ctx context.Context, ex execution.Execution) (map[string]bool, error) {
	var keys []string
	for _, st := range ex.Steps {
		if st.CI != "" {
			keys = append(keys, st.CI)
		}
	}
	refs, err := cmdb.Resolve(ctx, w.pool, keys, cmdb.ResolveOptions{})
	if err != nil && !cmdb.IsUnknown(err) {
		return nil, err
	}
	out := map[string]bool{}
	for k, r := range refs {
		out[k] = r.DataBearing
	}
	return out, nil
}

// planRetest plans the retest of the stale service's runbook, after the
// major change that made it stale.
func (w *drillWorld) planRetest(ctx context.Context, year int) error {
	w.clock.Set(w.now)
	start := time.Date(w.now.Year(), w.now.Month(), w.now.Day(), 9, 0, 0, 0, demoZone).Add(retestIn)
	if start.Year() != year {
		return nil
	}
	_, err := w.drills.Create(ctx, drills.Input{Title: "Retest after the mail platform upgrade", Type: drills.TypeSimulation,
		Services: []string{staleService}, PlannedStart: &start, Retest: true, ProgrammeYear: &year,
		Scenario:   &drills.Scenario{Kind: drills.ScenarioText, Text: "复测 retest of the email runbook after change " + staleChangeID},
		Objectives: []string{"prove the runbook still recovers email after the upgrade"}})
	if err != nil {
		return fmt.Errorf("plan the demo's retest: %w", err)
	}
	return nil
}
