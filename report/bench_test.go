package report_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/drills"
	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/backup"
	"github.com/bcdr/bcdr/orchestrator/impact"
	"github.com/bcdr/bcdr/orchestrator/itsm"
	"github.com/bcdr/bcdr/orchestrator/postgres/pgtest"
	"github.com/bcdr/bcdr/report"
	"github.com/bcdr/bcdr/runbooks"
	"github.com/bcdr/bcdr/runbooks/execution"
	"github.com/bcdr/bcdr/runbooks/runbookstest"
)

// Benchmark2000Services times readiness (GET /readiness) and the
// executive report for 2,000 business services, from the database: each
// service on its own database, application and VM and on a shared site,
// network and storage (imported in one go), with an approved runbook and
// an approved BIA made through the services. The targets are
// 500 ms for readiness, 1 s for the report in HTML and 5 s in PDF.
func Benchmark2000Services(b *testing.B) {
	pool := pgtest.New(b)
	rt := orchestrator.Runtime{}
	ctx := orchestrator.WithActor(context.Background(), orchestrator.Actor{Name: "admin", Role: orchestrator.RoleAdmin})
	backups := backup.NewService(pool, rt, backup.Options{})
	impacts := impact.NewService(pool, rt, impact.NewGraphCache(pool, rt), impact.WithBackupCoverage(backups), impact.WithBackupEvidence(backups))
	var ds *drills.Service
	rbs := runbooks.NewService(pool, rt, runbooks.Options{Model: runbooks.NewPGModel(pool, impacts), Backups: runbooks.NewPGBackups(pool, rt),
		Drills: proofs(func(ctx context.Context, ids []int64) (map[int64]runbooks.Proof, error) { return ds.Proofs(ctx, ids) })})
	executions := execution.NewService(pool, rt, rbs, execution.Options{})
	ds = drills.NewService(pool, rt, drills.Options{Runbooks: rbs, Executions: executions, Impact: impacts})
	rs := report.NewService(pool, rt, report.Options{Impact: impacts, Backups: backups, Runbooks: rbs, Drills: ds})
	opts := report.ReportOptions{ITSM: itsm.NewStore(pool), Executions: executions}
	if p, err := report.NewPrinter("", 0); err == nil {
		opts.PDF = p
		b.Cleanup(p.Close)
	}
	reports := report.NewReports(rs, opts)

	const size = 2000
	start := time.Now()
	runbookstest.Organisation(b, ctx, pool, impacts, rbs, 0, size, func(int) time.Duration { return 4 * time.Hour })
	b.Logf("built %d services in %s", size, time.Since(start).Round(time.Millisecond))

	b.Run("readiness", func(b *testing.B) {
		var org report.Organisation
		for b.Loop() {
			var err error
			org, err = rs.Readiness(ctx, report.Filter{})
			require.NoError(b, err)
		}
		require.Equal(b, size, org.Services)
		b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/readiness")
	})
	for _, format := range []string{report.FormatHTML, report.FormatPDF} {
		b.Run("executive-"+format, func(b *testing.B) {
			q := report.Request{Format: format}
			for b.Loop() {
				_, err := reports.Render(ctx, q, nil)
				require.NoError(b, err)
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/report")
		})
	}
}

// proofs lets runbooks ask the drills service built after it.
type proofs func(ctx context.Context, ids []int64) (map[int64]runbooks.Proof, error)

func (p proofs) Proofs(ctx context.Context, ids []int64) (map[int64]runbooks.Proof, error) {
	return p(ctx, ids)
}
