package execution

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/leasequeue"
	"github.com/bcdr/bcdr/orchestrator/notify"
	"github.com/bcdr/bcdr/orchestrator/postgres"
	"github.com/bcdr/bcdr/runbooks"
)

// stepsTable puts the automated steps on the lease queue: a pending step
// of a running execution is claimable once its delay has passed.
var stepsTable = leasequeue.Table{
	Name: "execution_steps", Due: "run_after",
	Pending: StepPending, Leased: StepRunning, GaveUp: StepGaveUp,
	Error: "error", Finished: "finished_at", Heartbeat: "heartbeat_at",
	ClaimSet:    "started_at = coalesce(t.started_at, " + leasequeue.Now + ")",
	ClaimJoin:   "JOIN executions x ON x.id = t.execution_id",
	ClaimFilter: "x.status = 'running'",
	Columns:     "t.execution_id, t.step_id, t.spec, t.idempotency_key, e.mode, e.automations, e.runbook_id, e.version, coalesce(e.targets, '{}')",
	Join:        "JOIN executions e ON e.id = t.execution_id",
	Requeued:    "; queued for another replica, with the same idempotency key",
}

// claimed is an automated step this replica holds.
type claimed struct {
	execution int64
	step      string
	spec      runbooks.Step
	key       string
	mode      string
	// automations is the execution's setting (StartInput.Automations).
	automations string
	runbook     int64
	version     int
	services    []string
}

func scanClaimed(r pgx.CollectableRow) (claimed, error) {
	var c claimed
	var spec []byte
	var targets map[string]any
	if err := r.Scan(&c.execution, &c.step, &spec, &c.key, &c.mode, &c.automations, &c.runbook, &c.version, &targets); err != nil {
		return c, err
	}
	for svc := range targets {
		c.services = append(c.services, svc)
	}
	return c, json.Unmarshal(spec, &c.spec)
}

// RunOptions configure this replica's share of the automated steps; zero
// fields take the defaults in brackets.
type RunOptions struct {
	// Replica names this process in the steps it claims [leasequeue.ReplicaName()].
	Replica string
	// Workers is how many automated steps this replica performs at once [8].
	Workers int
	// Poll is how often the queue is looked at when nothing woke it [1s].
	Poll time.Duration
	// Lease is how long a claimed step holds without a heartbeat [30s].
	Lease time.Duration
	// Registry receives the queue's metrics.
	Registry *prometheus.Registry
}

// runner is one process's worker loop.
type runner struct {
	*Service
	queue *leasequeue.Queue[claimed]
	opts  RunOptions
}

// Run performs automated steps until ctx ends: it claims pending steps as
// workers free up, holds their leases, calls them and records the outcome
// with the DAG's next moves; it reaps the steps of replicas that died, and
// watches for steps overdue and recoveries at risk of missing their RTO.
func (s *Service) Run(ctx context.Context, opts RunOptions) error {
	if opts.Workers <= 0 {
		opts.Workers = 8
	}
	if opts.Poll <= 0 {
		opts.Poll = time.Second
	}
	r := &runner{Service: s, opts: opts, queue: leasequeue.New(s.pool, s.rt, stepsTable, scanClaimed, leasequeue.Options{
		Replica: opts.Replica, Lease: opts.Lease, Registry: opts.Registry, Metrics: "bcdr_execution_steps"})}
	return r.run(ctx)
}

func (s *runner) run(ctx context.Context) error {
	stop := s.queue.Heartbeats(ctx)
	defer stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	free := make(chan struct{}, s.opts.Workers)
	for range s.opts.Workers {
		free <- struct{}{}
	}
	t := time.NewTicker(s.opts.Poll)
	defer t.Stop()
	lastWatch := time.Time{}
	for {
		if err := s.reap(ctx); err != nil && ctx.Err() == nil {
			s.rt.Log().Warn("reaping execution steps failed", "error", err)
		}
		if time.Since(lastWatch) >= 5*time.Second {
			lastWatch = time.Now()
			if err := s.watch(ctx); err != nil && ctx.Err() == nil {
				s.rt.Log().Warn("watching executions failed", "error", err)
			}
		}
		for n := len(free); n > 0 && ctx.Err() == nil; n = len(free) {
			got, err := s.queue.Claim(ctx, n)
			if err != nil {
				if ctx.Err() == nil {
					s.rt.Log().Warn("claiming execution steps failed", "error", err)
				}
				break
			}
			for _, c := range got {
				<-free
				wg.Go(func() {
					defer func() { free <- struct{}{} }()
					s.perform(ctx, c)
				})
			}
			if len(got) < n {
				break
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-s.wake:
		}
	}
}

// reap turns the steps of replicas whose lease expired back into pending
// steps (the same idempotency key goes with them), or into given-up ones,
// which end the step as failed.
func (s *runner) reap(ctx context.Context) error {
	_, err := s.queue.Reap(ctx, func(ctx context.Context, db postgres.Querier, reaped []leasequeue.Reaped[claimed]) error {
		tx, ok := db.(pgx.Tx)
		if !ok {
			return errors.New("execution: reap outside a transaction")
		}
		for _, r := range reaped {
			if !r.GaveUp {
				continue
			}
			err := s.transitionTx(ctx, tx, r.Row.execution, false, func(_ context.Context, _ pgx.Tx, st *state) error {
				n, err := st.step(r.Row.step)
				if err != nil {
					return err
				}
				st.event("system", n.id, "step_gave_up", fmt.Sprintf("the replicas running it stopped answering %d times", r.Lease.Attempts))
				st.notices = append(st.notices, stepFailedNotice(st, n, "gave up after its replicas stopped answering"))
				// The reap wrote gave_up; the step counts as leaving running
				// now, and its dependents are looked at.
				n.was, n.status, n.changed = StepRunning, StepGaveUp, true
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	return err
}

func stepFailedNotice(st *state, n *node, why string) notify.Event {
	return notify.Event{Type: notify.EventStepFailed, Severity: notify.SeverityCritical, Subject: st.subject(),
		Occurrence: fmt.Sprintf("%s/%d", n.id, n.attempts),
		Summary:    fmt.Sprintf("execution %d (%s): step %s %q failed: %s", st.id, st.title, n.id, n.title, orchestrator.Excerpt(why, 300))}
}

// perform calls one claimed step under its lease and records the outcome.
func (s *runner) perform(ctx context.Context, c leasequeue.Claimed[claimed]) {
	work, done := s.queue.Hold(ctx, c.Lease)
	defer done()
	out, callErr := s.call(work, c.Row)
	bg := context.WithoutCancel(ctx)
	switch {
	case errors.Is(context.Cause(work), leasequeue.ErrLeaseLost):
		s.rt.Log().Warn("lease lost while performing a step; left to its new owner", "execution", c.Row.execution, "step", c.Row.step)
		return
	case ctx.Err() != nil && callErr != nil:
		if err := s.queue.Release(bg, c.Lease); err != nil {
			s.rt.Log().Warn("could not release a step at shutdown; its lease will expire", "error", err)
		}
		return
	}
	status := StepSucceeded
	msg := ""
	if callErr != nil {
		status, msg = StepFailed, orchestrator.Excerpt(callErr.Error(), 2000)
	}
	err := s.queue.Retry(bg, func() error {
		return s.transition(bg, c.Row.execution, func(ctx context.Context, tx pgx.Tx, st *state) error {
			n, err := st.step(c.Row.step)
			if err != nil {
				return err
			}
			_, ours, err := s.queue.Finish(ctx, tx, c.Lease, `status = $2, output = $3, error = $4, finished_at = `+leasequeue.Now+`,
				done_by = 'replica ' || t.replica`, status, orchestrator.Excerpt(out, 4000), msg)
			if err != nil {
				return err
			}
			if !ours {
				return errNotOurs
			}
			n.status, n.changed = status, true
			detail := fmt.Sprintf("attempt %d on replica %s: %s", c.Lease.Attempts, c.Lease.Replica, out)
			if callErr != nil {
				detail = fmt.Sprintf("attempt %d on replica %s: %s", c.Lease.Attempts, c.Lease.Replica, msg)
				st.notices = append(st.notices, stepFailedNotice(st, n, msg))
			}
			st.event("replica "+c.Lease.Replica, n.id, "step_"+status, detail)
			return nil
		})
	})
	switch {
	case errors.Is(err, errNotOurs):
		s.rt.Log().Warn("step no longer ours; its outcome dropped", "execution", c.Row.execution, "step", c.Row.step)
	case err != nil:
		s.rt.Log().Error("could not record a step; its lease will expire and it will run again with the same key",
			"execution", c.Row.execution, "step", c.Row.step, "error", err)
	default:
		s.Wake()
	}
}

var errNotOurs = errors.New("execution step no longer ours")

// watch publishes, once each, the steps waiting on a person or running
// longer than their estimate and the services whose projected recovery
// passes their RTO.
func (s *Service) watch(ctx context.Context) error {
	rows, err := s.pool.Query(ctx, `SELECT id FROM executions WHERE status = 'running' ORDER BY id LIMIT 100`)
	if err != nil {
		return err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return err
	}
	for _, id := range ids {
		ex, err := s.Get(ctx, id)
		if err != nil {
			return err
		}
		var notices []notify.Event
		subject := fmt.Sprintf("execution/%d", id)
		for _, st := range ex.Steps {
			if st.Overdue {
				notices = append(notices, notify.Event{Type: notify.EventStepOverdue, Severity: notify.SeverityWarning, Subject: subject,
					Occurrence: fmt.Sprintf("%s/%d", st.ID, st.Attempts),
					Summary:    fmt.Sprintf("execution %d (%s): step %s %q is taking longer than its estimate of %s", id, ex.Title, st.ID, st.Title, st.Estimate)})
			}
		}
		for _, m := range ex.Services {
			if m.AtRisk {
				notices = append(notices, notify.Event{Type: notify.EventRTOAtRisk, Severity: notify.SeverityCritical, Subject: subject,
					Occurrence: m.Service,
					Summary:    fmt.Sprintf("execution %d (%s): %s is projected to recover at %s, past its RTO of %s", id, ex.Title, m.Service, m.Projected.UTC().Format(time.RFC3339), *m.RTO)})
			}
		}
		if len(notices) == 0 {
			continue
		}
		err = postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
			for _, n := range notices {
				n.OccurredAt = s.rt.Now()
				if err := notify.Publish(ctx, tx, n); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("publish execution warnings: %w", err)
		}
	}
	return nil
}
