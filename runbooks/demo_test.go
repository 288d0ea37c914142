package runbooks_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/demo"
	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/cmdb"
	"github.com/bcdr/bcdr/orchestrator/importer"
	"github.com/bcdr/bcdr/orchestrator/postgres/pgtest"
	"github.com/bcdr/bcdr/runbooks"
)

// seedDemo loads the whole demo organisation, runbooks included.
func seedDemo(t testing.TB) (*pgxpool.Pool, demo.Summary) {
	t.Helper()
	pool := pgtest.New(t)
	ctx := orchestrator.WithActor(context.Background(), orchestrator.Actor{Name: "demo", Role: orchestrator.RoleAdmin})
	sum, err := demo.Seed(ctx, pool, demo.Registry(), demo.Options{Now: time.Now()})
	require.NoError(t, err)
	return pool, sum
}

func TestDemoRunbooks(t *testing.T) {
	t.Parallel()
	pool, sum := seedDemo(t)
	require.Equal(t, 30, sum["runbooks"].Inserted)
	svc := runbooks.NewService(pool, orchestrator.Runtime{}, runbooks.Options{})
	ctx := t.Context()
	list, err := svc.List(ctx, runbooks.Filter{}, orchestrator.Page{Limit: 100})
	require.NoError(t, err)
	require.Len(t, list.Items, 30, "every business service has a runbook")
	verdicts := map[string]string{}
	var stale []string
	for _, s := range list.Items {
		require.Equal(t, runbooks.StatusApproved, s.Status, "%s", s.Scope.Service)
		rb, err := svc.Get(ctx, fmt.Sprint(s.ID))
		require.NoError(t, err)
		verdicts[s.Scope.Service] = rb.Feasibility.Verdict
		if rb.Staleness.Stale {
			stale = append(stale, s.Scope.Service)
		}
		if s.Scope.Service == "hr" {
			require.Equal(t, runbooks.Infeasible, rb.Feasibility.Verdict)
			require.False(t, rb.Feasibility.RTO.Feasible)
			require.Contains(t, rb.Feasibility.RTO.Message, "exceeds the RTO 72h of hr")
		}
		if s.Scope.Service == "email" {
			require.Contains(t, rb.Staleness.Flags, runbooks.FlagRetestRequired)
			titles := ""
			for _, c := range rb.Staleness.RetestRequired.Changes {
				titles += c.ExternalID + " "
			}
			require.Contains(t, titles, "CHG-DEMO-RUNBOOK-STALE")
		}
	}
	require.Contains(t, stale, "email")
	t.Logf("verdicts: %v; stale: %v", verdicts, stale)
	feasible := 0
	for _, v := range verdicts {
		if v == runbooks.Feasible {
			feasible++
		}
	}
	require.Positive(t, feasible, "some demo runbooks meet their targets")

	// Seeding again changes nothing.
	again, err := demo.Seed(orchestrator.WithActor(ctx, orchestrator.Actor{Name: "demo"}), pool,
		importer.NewRegistry(cmdb.CIImport(), cmdb.RelationImport()), demo.Options{Now: time.Now()})
	require.NoError(t, err)
	require.Zero(t, again["runbooks"].Inserted)

	dir := t.TempDir()
	sink, err := runbooks.NewDirSink(dir)
	require.NoError(t, err)
	m, err := svc.WriteKit(ctx, sink)
	require.NoError(t, err)
	require.NoError(t, sink.Close())
	require.Equal(t, 30, m.Runbooks)
	v, err := runbooks.VerifyKit(dir)
	require.NoError(t, err)
	require.True(t, v.OK, "%v", v.Problems)
	require.True(t, slices.ContainsFunc(m.Files, func(e runbooks.KitEntry) bool { return e.Path == "runbooks/runbook-1-etax.html" }))
}

// countingWriter counts the bytes of a kit archive.
type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

// BenchmarkKitDemo exports the offline continuity kit of the demo
// organisation (30 approved runbooks) as the zip GET /exports/kit serves.
func BenchmarkKitDemo(b *testing.B) {
	pool, _ := seedDemo(b)
	svc := runbooks.NewService(pool, orchestrator.Runtime{}, runbooks.Options{})
	var (
		m    runbooks.Manifest
		size int64
	)
	for b.Loop() {
		w := &countingWriter{}
		zs := runbooks.NewZipSink(w)
		var err error
		if m, err = svc.WriteKit(b.Context(), zs); err != nil {
			b.Fatal(err)
		}
		if err := zs.Close(); err != nil {
			b.Fatal(err)
		}
		size = w.n
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/kit")
	b.ReportMetric(float64(m.Runbooks), "runbooks")
	b.ReportMetric(float64(len(m.Files)+1), "files")
	b.ReportMetric(float64(size)/(1<<20), "MiB")
}
