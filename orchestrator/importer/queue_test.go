package importer

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/eventually"
)

type fakeKind string

func (k fakeKind) TypeName() string { return string(k) }

func (fakeKind) run(context.Context, pgx.Tx, *source, Options, *Report) error { return nil }

// Imports of one type take turns, other types use the free slots, and an
// import past the waiting bound is refused with rate_limited; one that
// gives up waiting frees its place.
func TestQueueAdmits(t *testing.T) {
	t.Parallel()
	reg := NewRegistry(fakeKind("cis"), fakeKind("relations"), fakeKind("contacts")).WithLimits(Limits{Running: 2, Waiting: 1})
	enter := func(ctx context.Context, typ string) (func(), error) { return reg[typ].(*admitted).enter(ctx) }

	leaveCIs, err := enter(t.Context(), "cis")
	require.NoError(t, err)
	waitCtx, giveUp := context.WithCancel(t.Context())
	waited := make(chan error, 1)
	go func() {
		leave, err := enter(waitCtx, "cis")
		if err == nil {
			leave()
		}
		waited <- err
	}()
	eventually.True(t, func() bool { _, w := reg.Load(); return w == 1 }, "one import waits")
	leaveRelations, err := enter(t.Context(), "relations")
	require.NoError(t, err, "another type runs beside the first")
	running, waiting := reg.Load()
	require.Equal(t, [2]int{2, 1}, [2]int{running, waiting})

	_, err = enter(t.Context(), "contacts")
	var busy *BusyError
	require.ErrorAs(t, err, &busy)
	require.Equal(t, orchestrator.ERATELIMITED, orchestrator.ErrorCode(err))
	require.Positive(t, busy.RetryAfter)

	giveUp()
	require.ErrorIs(t, <-waited, context.Canceled)
	entered := make(chan func(), 1)
	go func() {
		leave, err := enter(t.Context(), "contacts")
		if err == nil {
			entered <- leave
		}
		close(entered)
	}()
	eventually.True(t, func() bool { _, w := reg.Load(); return w == 1 }, "the place given up is free again")
	leaveRelations()
	leaveContacts, ok := <-entered
	require.True(t, ok, "a finished import's slot goes to the next")
	leaveContacts()
	leaveCIs()
	running, waiting = reg.Load()
	require.Zero(t, running+waiting)
}
