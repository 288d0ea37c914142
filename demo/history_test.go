package demo

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestHistoryIsValid checks every generated record against the same
// validation the API and the importer apply.
func TestHistoryIsValid(t *testing.T) {
	t.Parallel()
	o := generate(Options{Scale: 1, Now: time.Date(2026, 11, 21, 15, 0, 0, 0, time.UTC)})
	require.Greater(t, len(o.incidents), 350)
	for _, in := range o.incidents {
		in.Normalize(Source)
		require.NoError(t, in.Validate(), "%+v", in)
	}
	for _, in := range o.problems {
		in.Normalize(Source)
		require.NoError(t, in.Validate(), "%+v", in)
	}
	for _, in := range o.changes {
		in.Normalize(Source)
		require.NoError(t, in.Validate(), "%+v", in)
	}
	for _, in := range o.releases {
		in.Normalize(Source)
		require.NoError(t, in.Validate(), "%+v", in)
	}
	for _, in := range o.contacts {
		in.Normalize(Source)
		require.NoError(t, in.Validate(), "%+v", in)
	}
	for _, in := range o.callTrees {
		in.Normalize(Source)
		require.NoError(t, in.Validate(), "%+v", in)
	}
	for _, in := range o.suppliers {
		in.Normalize(Source)
		require.NoError(t, in.Validate(), "%+v", in)
	}
	for _, in := range o.slas {
		in.Normalize(Source)
		require.NoError(t, in.Validate(), "%+v", in)
	}
	var invoked int
	for _, in := range o.incidents {
		if in.ContinuityInvoked {
			invoked++
		}
	}
	require.Equal(t, 1, invoked)
}
