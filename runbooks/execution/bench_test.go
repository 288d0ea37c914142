package execution

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/cmdb"
	"github.com/bcdr/bcdr/orchestrator/outbound"
	"github.com/bcdr/bcdr/orchestrator/postgres"
	"github.com/bcdr/bcdr/orchestrator/postgres/pgtest"
	"github.com/bcdr/bcdr/runbooks"
)

// layered is a DAG of layers×width automated steps calling url; each step
// after the first layer depends on two steps of the layer before, so the
// critical path is layers steps long.
func layered(layers, width int, url string) []runbooks.Step {
	rng := rand.New(rand.NewPCG(1, 2))
	steps := make([]runbooks.Step, 0, layers*width)
	for l := range layers {
		for w := range width {
			id := fmt.Sprintf("s%d", l*width+w+1)
			deps := []string{}
			if l > 0 {
				a, b := rng.IntN(width), rng.IntN(width)
				deps = append(deps, fmt.Sprintf("s%d", (l-1)*width+a+1))
				if b != a {
					deps = append(deps, fmt.Sprintf("s%d", (l-1)*width+b+1))
				}
			}
			steps = append(steps, runbooks.Step{ID: id, Kind: runbooks.KindCustom, Title: "step " + id, DependsOn: deps,
				Estimate: orchestrator.Duration(time.Second),
				Automation: &runbooks.Automation{Type: "http", Method: http.MethodPost, URL: url, ExpectedStatus: 200,
					Timeout: orchestrator.Duration(10 * time.Second)}})
		}
	}
	return steps
}

// benchEngine is a database with one runbook (the executions' parent row)
// and replicas performing steps until the benchmark ends.
func benchEngine(b *testing.B, replicas int, delay time.Duration) (*Service, *pgxpool.Pool, int64, string) {
	b.Helper()
	pool := pgtest.New(b)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		time.Sleep(delay)
		w.WriteHeader(http.StatusOK)
	}))
	b.Cleanup(srv.Close)
	allow, _ := outbound.ParsePolicy("127.0.0.1")
	rt := orchestrator.Runtime{}
	rb := runbooks.NewService(pool, rt, runbooks.Options{})
	svc := NewService(pool, rt, rb, Options{Outbound: allow})
	id := benchRunbook(b, pool, rb)
	for i := range replicas {
		rctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = svc.Run(rctx, RunOptions{Replica: fmt.Sprintf("replica-%d", i), Workers: 8, Poll: 200 * time.Millisecond})
		}()
		b.Cleanup(func() { cancel(); <-done })
	}
	return svc, pool, id, srv.URL
}

// benchRunbook creates the runbook the executions hang from.
func benchRunbook(b *testing.B, pool *pgxpool.Pool, rb *runbooks.Service) int64 {
	ctx := as(orchestrator.RoleAdmin, "bench")
	if _, err := cmdb.NewService(pool).CreateCI(ctx, cmdb.CIInput{Key: "bench", Name: "Bench", Class: "business_service"}); err != nil {
		b.Fatal(err)
	}
	r, err := rb.Create(ctx, runbooks.CreateInput{Service: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	return r.ID
}

// runToEnd starts an execution of steps and waits for it to succeed.
func runToEnd(b *testing.B, svc *Service, rbID int64, steps []runbooks.Step) (int64, time.Duration) {
	b.Helper()
	ctx := as(orchestrator.RoleContinuityManager, "bench")
	start := time.Now()
	var id int64
	err := postgres.WithTx(ctx, svc.pool, func(tx pgx.Tx) error {
		var err error
		id, err = svc.start(ctx, tx, StartInput{Runbook: rbID, Mode: ModeInvocation, Scenario: []byte("null")}, 1, "bench", map[string]*int64{}, steps)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	svc.Wake()
	for {
		st, err := svc.status(ctx, id)
		if err != nil {
			b.Fatal(err)
		}
		if st != StatusRunning {
			if st != StatusSucceeded {
				b.Fatalf("execution %d %s", id, st)
			}
			return id, time.Since(start)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A 1,000-step DAG of no-op calls on three replicas: the engine's cost
// per step, and the whole against its critical path of 20 steps.
func BenchmarkEngine1000Steps(b *testing.B) {
	svc, _, rbID, url := benchEngine(b, 3, 0)
	steps := layered(20, 50, url)
	b.ResetTimer()
	for range b.N {
		_, took := runToEnd(b, svc, rbID, steps)
		b.ReportMetric(float64(took.Milliseconds())/float64(len(steps)), "ms/step")
		b.ReportMetric(took.Seconds(), "s/execution")
	}
}

// A 100-step runbook (10 layers of 10) whose steps take 300 ms: the time
// achieved against the critical path of 3 s.
func BenchmarkEngineCriticalPath(b *testing.B) {
	const step = 300 * time.Millisecond
	svc, _, rbID, url := benchEngine(b, 3, step)
	steps := layered(10, 10, url)
	b.ResetTimer()
	for range b.N {
		_, took := runToEnd(b, svc, rbID, steps)
		b.ReportMetric(took.Seconds()/(10*step).Seconds(), "x-critical-path")
	}
}

// One execution of 10,000 steps completes, and its board reads fast.
func BenchmarkEngine10000StepsBoard(b *testing.B) {
	svc, _, rbID, url := benchEngine(b, 3, 0)
	steps := layered(100, 100, url)
	id, took := runToEnd(b, svc, rbID, steps)
	b.ReportMetric(took.Seconds(), "s/execution")
	b.ResetTimer()
	for range b.N {
		if _, err := svc.Get(context.Background(), id); err != nil {
			b.Fatal(err)
		}
	}
}
