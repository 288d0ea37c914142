package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/importer"
	"github.com/bcdr/bcdr/runbooks"
	"github.com/bcdr/bcdr/runbooks/execution"
)

// drilledService is the service whose runbook the demo drilled three days
// before Now, after the runbook's approval: a finished drill with a timeline, the RTO and data loss
// achieved, and step durations that its runbook's feasibility now uses.
const drilledService = "taxpayer-reg"

// drillAge is how long before Now the demo drill started.
const drillAge = 6 * 24 * time.Hour

// seedDrill runs the drill of drilledService's runbook through the
// execution engine on a clock set six days back, each step taking between
// 40 % and 70 % of its estimate, unless the runbook has been executed
// before.
func seedDrill(ctx context.Context, pool *pgxpool.Pool, opts Options, summary Summary) error {
	rep := importer.Report{Type: "executions", Format: "demo", Rows: 1}
	summary["executions"] = rep
	clock := orchestrator.NewManualClock(opts.Now.Add(-drillAge))
	rt := orchestrator.Runtime{Clock: clock}
	rbs := runbooks.NewService(pool, rt, runbooks.Options{})
	list, err := rbs.List(ctx, runbooks.Filter{Service: drilledService}, orchestrator.Page{Limit: 1})
	if err != nil || len(list.Items) == 0 {
		return err
	}
	engine := execution.NewService(pool, rt, rbs, execution.Options{})
	done, err := engine.List(ctx, execution.Filter{Runbook: list.Items[0].ID}, orchestrator.Page{Limit: 1})
	if err != nil {
		return err
	}
	if len(done.Items) > 0 {
		rep.Unchanged = 1
		summary["executions"] = rep
		return nil
	}
	starter := orchestrator.WithActor(ctx, orchestrator.Actor{Name: "zhang.wei", Role: orchestrator.RoleContinuityManager})
	operator := orchestrator.WithActor(ctx, orchestrator.Actor{Name: "wang.fang", Role: orchestrator.RoleOperator})
	failurePoint := clock.Now().Add(-10 * time.Minute)
	ex, err := engine.Start(starter, execution.StartInput{Runbook: list.Items[0].ID, Mode: execution.ModeDrill, FailurePoint: &failurePoint,
		Note: "年度灾备演练 Annual technical DR drill in the DR lab: loss of the registration database, restored from the nightly dump"})
	if err != nil {
		return fmt.Errorf("seed demo drill: %w", err)
	}
	for round := 0; ex.Status == execution.StatusRunning && round <= len(ex.Steps); round++ {
		for i, st := range ex.Steps {
			if st.Status != execution.StepWaiting {
				continue
			}
			clock.Advance(time.Duration(st.Estimate) * time.Duration(40+(i*37)%31) / 100)
			in := execution.ActionInput{Note: "done as the runbook says", Evidence: []string{"https://wiki.tax.example/drills/2026/taxpayer-reg"}}
			if st.RunbookKind == runbooks.KindRecover && st.CI == drilledService+"-db" {
				point := failurePoint.Add(-20 * time.Minute)
				in.RecoveredAt, in.Note = &point, "restored the nightly dump and replayed the archived WAL up to 20 minutes before the failure"
			}
			if ex, err = engine.StepAction(operator, ex.ID, st.ID, execution.ActComplete, in); err != nil {
				return fmt.Errorf("seed demo drill step %s: %w", st.ID, err)
			}
			break
		}
	}
	rep.Inserted, rep.Written = 1, true
	summary["executions"] = rep
	return nil
}
