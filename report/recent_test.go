package report_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/demo"
	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/report"
)

// Recent shares one scoring between the requests that ask at once, keeps
// it for maxAge, filters it as Readiness does and refuses the filters
// Readiness refuses.
func TestRecentReadiness(t *testing.T) {
	t.Parallel()
	_, pool := seedDemo(t)
	rs := demo.Readiness(pool, demoNow)
	ctx := t.Context()
	fresh, err := rs.Readiness(ctx, report.Filter{})
	require.NoError(t, err)

	var wg sync.WaitGroup
	got := make([]report.Organisation, 8)
	for i := range got {
		wg.Go(func() {
			org, err := rs.Recent(ctx, report.Filter{}, time.Minute)
			require.NoError(t, err)
			got[i] = org
		})
	}
	wg.Wait()
	for _, org := range got {
		require.Equal(t, fresh.Score, org.Score)
		require.Len(t, org.Items, len(fresh.Items))
	}

	notReady, err := rs.Recent(ctx, report.Filter{Status: report.StatusNotReady}, time.Minute)
	require.NoError(t, err)
	require.Equal(t, fresh.Counts, notReady.Counts, "the counts are the whole organisation's")
	require.Len(t, notReady.Items, fresh.Counts.ByStatus[report.StatusNotReady])
	for _, r := range notReady.Items {
		require.Equal(t, report.StatusNotReady, r.Status)
	}
	_, err = rs.Recent(ctx, report.Filter{Status: "great"}, time.Minute)
	require.Equal(t, orchestrator.EINVALID, orchestrator.ErrorCode(err))
}
