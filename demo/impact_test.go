package demo

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/cmdb"
	"github.com/bcdr/bcdr/orchestrator/directory"
	"github.com/bcdr/bcdr/orchestrator/impact"
	"github.com/bcdr/bcdr/orchestrator/importer"
	"github.com/bcdr/bcdr/orchestrator/itsm"
	"github.com/bcdr/bcdr/orchestrator/postgres/pgtest"
)

func TestSeedImpact(t *testing.T) {
	t.Parallel()
	pool := pgtest.New(t)
	reg := importer.NewRegistry(cmdb.CIImport(), cmdb.RelationImport(), directory.ContactImport(), directory.SupplierImport(),
		itsm.ProblemImport(), itsm.IncidentImport())
	now := time.Now().UTC()
	sum, err := Seed(t.Context(), pool, reg, Options{Now: now})
	require.NoError(t, err)
	require.Equal(t, len(services), sum["bias"].Inserted)
	require.Equal(t, len(riskRegister), sum["risks"].Inserted)
	require.GreaterOrEqual(t, len(riskRegister), 25)

	svc := impact.NewService(pool, orchestrator.Runtime{}, nil)
	ctx := t.Context()
	settings, err := svc.Settings(ctx)
	require.NoError(t, err)
	require.Equal(t, "CNY", settings.Currency)
	for _, d := range services {
		b, err := svc.CurrentBIA(ctx, d.key)
		require.NoError(t, err, d.key)
		require.Equal(t, impact.StatusApproved, b.Status, d.key)
		require.Equal(t, d.tier, b.Tier, "%s: the BIA's RTO %s gives the service's tier", d.key, b.RTO)
		if b.MTPD != nil {
			require.LessOrEqual(t, b.RTO+b.WRT, *b.MTPD, d.key)
		}
	}

	// The primary site takes every service down, each explained back to a
	// CI there, and the recovery order puts the site before what it hosts.
	w, err := svc.WhatIf(ctx, impact.Scenario{Site: "dc-main"})
	require.NoError(t, err)
	require.Len(t, w.Services, len(services))
	snap, err := svc.Graphs().Current(ctx)
	require.NoError(t, err)
	for _, s := range w.Services {
		require.Equal(t, s.Key, s.Path[0])
		n, _ := snap.Graph.Index(s.Path[len(s.Path)-1])
		require.Equal(t, "dc-main", snap.Graph.Site(n), "%s path %v", s.Key, s.Path)
		require.Positive(t, s.Loss, s.Key)
		require.NotNil(t, s.BIAVersion)
	}
	require.Len(t, w.RecoveryOrder, len(w.Down))
	require.Positive(t, w.TotalLoss)
	// The DR site going down loses standbys and replicas, no service.
	w, err = svc.WhatIf(ctx, impact.Scenario{Site: "dc-dr"})
	require.NoError(t, err)
	require.Empty(t, w.Services)
	require.NotEmpty(t, w.Down)

	risks, err := svc.ListRisks(ctx, impact.RiskFilter{}, orchestrator.Page{Limit: 100})
	require.NoError(t, err)
	require.Len(t, risks.Items, len(riskRegister))
	for _, r := range risks.Items {
		require.Empty(t, r.Quantification.MissingScope.CIs, r.Title)
		if len(r.Scope.Sites) > 0 && r.Scope.Sites[0] == "dc-main" {
			require.Positive(t, r.Quantification.ALE, r.Title)
		}
	}
	gaps, err := svc.Gaps(ctx, "")
	require.NoError(t, err)
	require.Zero(t, gaps.Counts[impact.GapNoBIA])
	require.Zero(t, gaps.Counts[impact.GapExceedsMTPD])
	require.Zero(t, gaps.Counts[impact.GapCMDBAnomaly])
	require.Positive(t, gaps.Counts[impact.GapSupplierRTO], "zjca commits to 8h for the CA that e-Tax needs within 1h")

	again, err := Seed(t.Context(), pool, reg, Options{Now: now})
	require.NoError(t, err)
	for _, typ := range []string{"bias", "risks"} {
		require.Zero(t, again[typ].Inserted+again[typ].Updated, "second seed of %s changes nothing", typ)
		require.Equal(t, sum[typ].Rows, again[typ].Unchanged, typ)
	}
}
