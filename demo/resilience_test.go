package demo

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/backup"
	"github.com/bcdr/bcdr/orchestrator/cmdb"
	"github.com/bcdr/bcdr/orchestrator/directory"
	"github.com/bcdr/bcdr/orchestrator/impact"
	"github.com/bcdr/bcdr/orchestrator/importer"
	"github.com/bcdr/bcdr/orchestrator/postgres/pgtest"
)

func scenarioOf(r impact.ServiceResilience, typ, subject string) (impact.ScenarioResilience, bool) {
	for _, s := range r.Scenarios {
		if s.Scenario.Type == typ && (s.Scenario.Site == subject || strings.Join(s.Scenario.CIs, ",") == subject) {
			return s, true
		}
	}
	return impact.ScenarioResilience{}, false
}

// The bureau's tier 0-1 services fail over to dc-dr within their RTO when
// dc-main is lost; hr, with no standby, cannot; taxpayer registration
// meets its RPO by failover but not under corruption, whose only help is a
// dump three days old.
func TestDemoResilience(t *testing.T) {
	t.Parallel()
	if _, err := findTool("restic"); err != nil {
		t.Fatalf("%v (scripts/install-deps.sh restic)", err)
	}
	pool := pgtest.New(t)
	ctx := orchestrator.WithActor(t.Context(), orchestrator.Actor{Name: "demo", Role: orchestrator.RoleAdmin})
	reg := importer.NewRegistry(cmdb.CIImport(), cmdb.RelationImport(), directory.ContactImport(), directory.SupplierImport())
	_, err := Seed(ctx, pool, reg, Options{})
	require.NoError(t, err)
	_, err = SeedBackups(ctx, pool, BackupOptions{Dir: filepath.Join(t.TempDir(), "demo")})
	require.NoError(t, err)
	backups := backup.NewService(pool, orchestrator.Runtime{}, backup.Options{})
	svc := impact.NewService(pool, orchestrator.Runtime{}, nil, impact.WithBackupEvidence(backups))

	for _, d := range services {
		r, err := svc.Resilience(ctx, d.key)
		require.NoError(t, err, d.key)
		site, ok := scenarioOf(r, impact.DisruptionSite, "dc-main")
		require.True(t, ok, "%s: losing dc-main takes it down", d.key)
		require.NotNil(t, site.RTOMet, d.key)
		if d.tier <= 1 {
			require.True(t, *site.RTOMet, "%s (tier %d) fails over within its RTO %s: %s %v", d.key, d.tier, *r.RTO, site.RTOEstimate, site.CriticalPath)
			require.Contains(t, site.Standbys, d.key+"-app-dr", d.key)
			require.Contains(t, site.Standbys, d.key+"-db-replica", d.key)
			for _, a := range site.Strategy {
				require.NotEqual(t, "dc-main", a.CI, "%s never waits for the lost site", d.key)
			}
		}
		if d.key == "hr" {
			require.False(t, *site.RTOMet, "hr has no standby: %s", site.RTOEstimate)
			require.Empty(t, site.Standbys)
		}
	}

	r, err := svc.Resilience(ctx, "taxpayer-reg")
	require.NoError(t, err)
	failover, ok := scenarioOf(r, impact.DisruptionCI, staleCI)
	require.True(t, ok)
	require.Equal(t, []string{staleCI + "-replica"}, failover.Standbys)
	require.True(t, *failover.RPOMet, "the replica is 5 minutes behind, inside the 15-minute RPO")
	corrupt, ok := scenarioOf(r, impact.DisruptionCorruption, staleCI)
	require.True(t, ok)
	require.Empty(t, corrupt.Standbys, "the replica carries the corruption")
	require.NotNil(t, corrupt.RPOEstimate)
	require.Greater(t, time.Duration(*corrupt.RPOEstimate), 72*time.Hour, "the newest verified dump is three days old")
	require.False(t, *corrupt.RPOMet)

	fresh, err := svc.Resilience(ctx, "declaration")
	require.NoError(t, err)
	corrupt, ok = scenarioOf(fresh, impact.DisruptionCorruption, freshCI)
	require.True(t, ok)
	require.True(t, *corrupt.RPOMet, "a restic snapshot taken at seeding, checked with a restore test")

	all, err := svc.ResilienceAll(ctx)
	require.NoError(t, err)
	require.Len(t, all.Services, len(services))
	require.Positive(t, all.Counts.MissingRPO)
	require.Positive(t, all.Counts.MissingRTO)

	// The what-if of losing dc-main now says how each service recovers.
	w, err := svc.WhatIf(ctx, impact.Scenario{Site: "dc-main"})
	require.NoError(t, err)
	for _, s := range w.Services {
		require.NotNil(t, s.Recovery, s.Key)
		if s.Key == "etax" {
			require.True(t, *s.Recovery.RTOMet, "%s %v", s.Recovery.Estimate, s.Recovery.CriticalPath)
			require.Contains(t, s.Recovery.Standbys, "etax-app-dr")
		}
	}
}
