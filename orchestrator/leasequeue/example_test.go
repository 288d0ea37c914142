package leasequeue_test

import (
	"context"
	"errors"
	"log"
	"os"
	"os/signal"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/leasequeue"
	"github.com/bcdr/bcdr/orchestrator/postgres"
)

// step is a row of a hypothetical table of automated runbook steps.
type step struct {
	ID      int64
	Command string
}

func runStep(ctx context.Context, s step) (string, error) { return "ok", nil }

// A new user plugs in: a table description, a queue, and the poll loop
// (reap, claim up to the free workers, hold, work, finish or release).
// Not run: it needs a database and polls until interrupted.
func Example() {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
	defer cancel()
	pool, err := postgres.Open(ctx, os.Getenv("DATABASE_URL"), postgres.Options{})
	if err != nil {
		log.Fatal(err)
	}
	steps := leasequeue.Table{
		Name: "runbook_step_runs", Due: "run_after",
		Pending: "pending", Leased: "running", GaveUp: "failed",
		Error: "error", Finished: "finished_at", Heartbeat: "heartbeat_at",
		ClaimSet: "started_at = " + leasequeue.Now,
		Columns:  "t.id, t.command",
		Requeued: "; queued for another replica",
	}
	scan := func(row pgx.CollectableRow) (step, error) {
		var s step
		return s, row.Scan(&s.ID, &s.Command)
	}
	q := leasequeue.New(pool, orchestrator.Runtime{}, steps, scan, leasequeue.Options{MaxAttempts: 3})

	stop := q.Heartbeats(ctx) // renews the leases until the work below is done
	defer stop()
	var work sync.WaitGroup
	defer work.Wait()
	for ctx.Err() == nil {
		if _, err := q.Reap(ctx, nil); err != nil {
			q.Metrics().LoopFailed()
		}
		claimed, err := q.Claim(ctx, 8-q.Held())
		if err != nil {
			q.Metrics().LoopFailed()
		}
		for _, c := range claimed {
			workCtx, done := q.Hold(ctx, c.Lease)
			work.Go(func() {
				defer done()
				out, err := runStep(workCtx, c.Row)
				bg := context.WithoutCancel(ctx)
				switch {
				case errors.Is(context.Cause(workCtx), leasequeue.ErrLeaseLost):
					return // another replica may have the step now; its outcome counts
				case ctx.Err() != nil && err != nil:
					_ = q.Release(bg, c.Lease) // stopping: let another replica run it now
					return
				}
				status := "succeeded"
				if err != nil {
					status, out = "failed", err.Error()
				}
				_ = q.Retry(bg, func() error {
					_, ours, err := q.Finish(bg, pool, c.Lease, "status = $2, output = $3, finished_at = "+leasequeue.Now, status, out)
					if err == nil && !ours {
						log.Printf("step %d was taken over; outcome dropped", c.Lease.ID)
					}
					return err
				})
			})
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}
