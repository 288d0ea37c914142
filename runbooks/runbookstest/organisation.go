// Package runbookstest builds, for tests and benchmarks of the packages
// above runbooks, an organisation of many business services quickly: the
// CMDB through the importer, then an approved runbook and an approved BIA
// for each service through the real services.
package runbookstest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/cmdb"
	"github.com/bcdr/bcdr/orchestrator/impact"
	"github.com/bcdr/bcdr/orchestrator/importer"
	"github.com/bcdr/bcdr/runbooks"
)

// Key is the key of service i.
func Key(i int) string { return fmt.Sprintf("svc-%04d", i) }

// Organisation adds services from to to: each a business service on its
// database, application and VM and on a shared site, network and storage
// (created with service 0), imported in one go as a CMDB feed would be;
// then each gets an approved runbook and an approved BIA (its RTO from rto
// of i, its RPO an hour, critical on days 1–10), a few at a time. Runbooks
// come before BIAs: the feasibility each creation computes reads every
// approved BIA, which would make the fixture quadratic.
func Organisation(tb testing.TB, ctx context.Context, pool *pgxpool.Pool, impacts *impact.Service, rbs *runbooks.Service,
	from, to int, rto func(i int) time.Duration) {
	tb.Helper()
	var cis, rels bytes.Buffer
	ci, rel := json.NewEncoder(&cis), json.NewEncoder(&rels)
	if from == 0 {
		for _, k := range []string{"site", "net", "store"} {
			require.NoError(tb, ci.Encode(cmdb.CIInput{Key: k, Name: k, Class: "server"}))
		}
	}
	for i := from; i < to; i++ {
		key := Key(i)
		require.NoError(tb, ci.Encode(cmdb.CIInput{Key: key, Name: key, Class: "business_service"}))
		for _, part := range []string{"-db", "-app", "-vm"} {
			require.NoError(tb, ci.Encode(cmdb.CIInput{Key: key + part, Name: key + part, Class: "database", RecoveryStrategy: "restore",
				RecoveryEstimate: orchestrator.Duration(time.Hour)}))
		}
		for _, dep := range []string{key + "-db", key + "-app", key + "-vm", "site", "net", "store"} {
			require.NoError(tb, rel.Encode(cmdb.RelationInput{From: key, To: dep, Type: "depends_on"}))
		}
	}
	reg := importer.NewRegistry(cmdb.CIImport(), cmdb.RelationImport())
	for _, f := range []struct {
		typ  string
		body *bytes.Buffer
	}{{"cis", &cis}, {"relations", &rels}} {
		rep, err := reg.Import(ctx, pool, f.typ, f.body, importer.Options{Format: "jsonl"})
		require.NoError(tb, err, "import %s: %+v", f.typ, rep.Problems)
	}
	for _, step := range []func(context.Context, int) error{
		func(ctx context.Context, i int) error {
			r, err := rbs.Create(ctx, runbooks.CreateInput{Service: Key(i)})
			if err != nil {
				return err
			}
			_, err = rbs.Approve(ctx, strconv.FormatInt(r.ID, 10))
			return err
		},
		func(ctx context.Context, i int) error {
			_, err := impacts.SaveBIA(ctx, Key(i), impact.Assessment{RTO: orchestrator.Duration(rto(i)),
				RPO: orchestrator.Duration(time.Hour), CriticalPeriods: []string{"days 1-10"}})
			if err != nil {
				return err
			}
			_, err = impacts.ApproveBIA(ctx, Key(i))
			return err
		},
	} {
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(4)
		for i := from; i < to; i++ {
			g.Go(func() error { return step(gctx, i) })
		}
		require.NoError(tb, g.Wait())
	}
}
