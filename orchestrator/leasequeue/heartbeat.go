package leasequeue

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrLeaseLost is the cause with which the context of held work is
// cancelled when its row may now be another replica's: the work should
// stop, and its outcome will be refused anyway.
var ErrLeaseLost = errors.New("lease lost")

// held is a lease this replica works under.
type held struct {
	attempts int
	cancel   context.CancelCauseFunc
	renewed  time.Time // local monotonic time of the claim or last renewal
	lost     bool      // cancelled with ErrLeaseLost; no longer renewed
}

// holdings are the leases the heartbeat renews.
type holdings struct {
	mu sync.Mutex
	m  map[int64]*held
}

// Hold registers a claimed row with the heartbeat and returns the context
// to work on it under: ctx, cancelled with ErrLeaseLost if the lease is
// lost. Call done once the outcome is recorded (or released), not before:
// the lease must stay renewed while the outcome is being written.
func (q *Queue[T]) Hold(ctx context.Context, lease Lease) (workCtx context.Context, done func()) {
	workCtx, cancel := context.WithCancelCause(ctx)
	h := &held{attempts: lease.Attempts, cancel: cancel, renewed: time.Now()}
	q.held.mu.Lock()
	q.held.m[lease.ID] = h
	q.held.mu.Unlock()
	return workCtx, func() {
		q.held.mu.Lock()
		// A later claim of the same row by this replica has its own entry.
		if q.held.m[lease.ID] == h {
			delete(q.held.m, lease.ID)
		}
		q.held.mu.Unlock()
		cancel(nil)
	}
}

// Held is how many leases this replica holds, for sizing the next claim.
func (q *Queue[T]) Held() int {
	q.held.mu.Lock()
	defer q.held.mu.Unlock()
	return len(q.held.m)
}

// Heartbeats renews the held leases every HeartbeatInterval until stop is
// called. It does not end with ctx: work finishing during a shutdown must
// keep its lease while its outcome is recorded, so call stop after the
// work has returned.
func (q *Queue[T]) Heartbeats(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(q.opts.HeartbeatInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				q.Heartbeat(ctx)
			}
		}
	}()
	return func() { cancel(); <-done }
}

// Heartbeat renews every lease this replica holds on the table in one
// statement. Work whose row the statement does not renew is no longer
// ours (reaped after a stall, released, or deleted); work whose lease
// could not be renewed for a whole lease (the database is unreachable) may
// be someone else's by now. Either way it is cancelled with ErrLeaseLost,
// so that one row is not worked on in two places for long.
func (q *Queue[T]) Heartbeat(ctx context.Context) {
	q.held.mu.Lock()
	ids := make([]int64, 0, len(q.held.m))
	attempts := make([]int32, 0, len(q.held.m))
	for id, h := range q.held.m {
		if h.lost {
			continue
		}
		ids = append(ids, id)
		attempts = append(attempts, int32(h.attempts))
	}
	q.held.mu.Unlock()
	if len(ids) == 0 {
		return
	}
	rows, err := q.pool.Query(ctx, q.sql.heartbeat, q.now(), q.opts.Lease.Milliseconds(), q.opts.Replica, ids, attempts)
	var renewed []int64
	if err == nil {
		renewed, err = pgx.CollectRows(rows, pgx.RowTo[int64])
	}
	if err != nil {
		q.log.Warn("heartbeat failed", "table", q.table.Name, "error", err, "leases", len(ids))
	}
	kept := make(map[int64]bool, len(renewed))
	for _, id := range renewed {
		kept[id] = true
	}
	now := time.Now()
	q.held.mu.Lock()
	defer q.held.mu.Unlock()
	for i, id := range ids {
		h, ok := q.held.m[id]
		switch {
		case !ok || h.attempts != int(attempts[i]):
			// Done (or re-claimed) since the statement was sent.
		case kept[id]:
			h.renewed = now
		case err == nil || now.Sub(h.renewed) > q.opts.Lease:
			q.log.Warn("lease lost; cancelling the work", "table", q.table.Name, "id", id, "attempt", h.attempts)
			q.metrics.lost.Inc()
			h.lost = true
			h.cancel(ErrLeaseLost)
		}
	}
}
