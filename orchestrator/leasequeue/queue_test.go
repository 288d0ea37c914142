package leasequeue

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/eventually"
	"github.com/bcdr/bcdr/orchestrator/postgres"
)

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// Replicas claiming the same rows at the same moment never get the same
// row, and between them get every row, once, as attempt 1.
func TestConcurrentClaimsShareNoRow(t *testing.T) {
	t.Parallel()
	h := setup(t, nil)
	const rows, replicas = 300, 4
	h.add(h.group, rows)
	queues := make([]*Queue[job], replicas)
	for i := range queues {
		queues[i] = h.queue(fmt.Sprintf("r%d", i), Options{})
	}

	var mu sync.Mutex
	owner := map[int64]string{}
	twice := []int64{}
	start := make(chan struct{})
	var wg sync.WaitGroup
	for _, q := range queues {
		wg.Go(func() {
			<-start
			for {
				got, err := q.Claim(context.Background(), 7)
				if !assertNoError(t, err) || len(got) == 0 {
					return
				}
				mu.Lock()
				for _, c := range got {
					if _, seen := owner[c.Lease.ID]; seen {
						twice = append(twice, c.Lease.ID)
					}
					owner[c.Lease.ID] = q.Replica()
				}
				mu.Unlock()
			}
		})
	}
	close(start)
	wg.Wait()

	require.Empty(t, twice, "rows claimed by two replicas")
	require.Len(t, owner, rows, "every row claimed")
	perReplica := map[string]int{}
	for id, replica := range owner {
		j := h.row(id)
		require.Equal(t, "leased", j.Status)
		require.Equal(t, replica, j.Replica, "the row names the replica that got it")
		require.Equal(t, 1, j.Attempts)
		perReplica[replica]++
	}
	require.GreaterOrEqual(t, len(perReplica), 2, "the rows were shared")
	require.Equal(t, float64(rows), h.metric("lq_test_claims_total"))
}

// assertNoError reports err without stopping a goroutine that is not the
// test's.
func assertNoError(t *testing.T, err error) bool {
	if err != nil {
		t.Errorf("claim: %v", err)
		return false
	}
	return true
}

// A claim hands over what the work needs (joined columns included), the
// oldest due first, and leaves alone rows not yet due and rows the claim
// filter excludes.
func TestClaimOrderAndFilter(t *testing.T) {
	t.Parallel()
	clock := orchestrator.NewManualClock(t0)
	h := setup(t, clock)
	ctx := context.Background()
	paused := h.newGroup("paused", false)
	h.add(paused, 2)
	_, err := h.pool.Exec(ctx, `INSERT INTO lq_jobs (group_id, name, due_at) VALUES
		($1, 'later', $2), ($1, 'second', $3), ($1, 'first', $4)`,
		h.group, t0.Add(time.Minute), t0.Add(-time.Minute), t0.Add(-time.Hour))
	require.NoError(t, err)
	q := h.queue("r1", Options{})

	got, err := q.Claim(ctx, 10)
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.Equal(t, "first", got[0].Row.Name)
	require.Equal(t, "second", got[1].Row.Name)
	require.Equal(t, "default", got[0].Row.Group, "joined columns come with the row")
	require.Equal(t, got[0].Row.ID, got[0].Lease.ID)
	require.Equal(t, Lease{ID: got[0].Row.ID, Attempts: 1, Replica: "r1"}, got[0].Lease)
	depth, err := q.Depth(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(2), depth, "the paused group's rows wait")

	clock.Advance(2 * time.Minute)
	got, err = q.Claim(ctx, 10)
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, "later", got[0].Row.Name)
}

// A lease that expires is taken over: reaped back to pending with its
// attempt count, claimed by another replica as attempt 2; the old owner's
// late writes are refused and the new owner's outcome stands.
func TestExpiredLeaseIsTakenOver(t *testing.T) {
	t.Parallel()
	clock := orchestrator.NewManualClock(t0)
	h := setup(t, clock)
	ctx := context.Background()
	h.add(h.group, 1)
	dead := h.queue("dead", Options{Lease: 30 * time.Second})
	live := h.queue("live", Options{Lease: 30 * time.Second})
	first := h.claimOne(dead)

	// Before the lease expires there is nothing to reap or claim.
	reaped, err := live.Reap(ctx, nil)
	require.NoError(t, err)
	require.Empty(t, reaped)
	none, err := live.Claim(ctx, 10)
	require.NoError(t, err)
	require.Empty(t, none)

	clock.Advance(31 * time.Second)
	reaped, err = live.Reap(ctx, nil)
	require.NoError(t, err)
	require.Len(t, reaped, 1)
	require.False(t, reaped[0].GaveUp)
	require.Equal(t, first.Lease, reaped[0].Lease, "the reap names the expired lease")
	require.Equal(t, "pending", reaped[0].Row.Status)
	require.Equal(t, "lease of replica dead expired during attempt 1; queued for another try", reaped[0].Row.Error)
	require.Equal(t, 1.0, h.metric("lq_test_lease_takeovers_total"))

	second := h.claimOne(live)
	require.Equal(t, 2, second.Lease.Attempts)

	// The old owner wakes up: its outcome, release and heartbeat are refused.
	_, ok, err := dead.Finish(ctx, h.pool, first.Lease, "status = 'done', result = $2", "stale")
	require.NoError(t, err)
	require.False(t, ok, "a late finish is refused")
	require.NoError(t, dead.Release(ctx, first.Lease))
	j := h.row(first.Lease.ID)
	require.Equal(t, "leased", j.Status)
	require.Equal(t, "live", j.Replica)
	require.Equal(t, 2, j.Attempts)

	done, ok, err := live.Finish(ctx, h.pool, second.Lease, "status = 'done', result = $2, finished_at = "+Now, "fresh")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "done", done.Status)
	require.Equal(t, "fresh", done.Result)
	require.Equal(t, "default", done.Group, "the recorded row comes back as Columns read it")
	require.Zero(t, h.leaseExpiry(second.Lease.ID), "finishing ends the lease")

	// Finishing twice is refused too: one completion per attempt.
	_, ok, err = live.Finish(ctx, h.pool, second.Lease, "result = $2", "again")
	require.NoError(t, err)
	require.False(t, ok)
	require.Equal(t, "fresh", h.row(second.Lease.ID).Result)
}

// A row whose lease expires on every attempt gives up after MaxAttempts;
// the follow-up runs in the reap's transaction and an error from it undoes
// the reap.
func TestGivesUpAfterMaxAttempts(t *testing.T) {
	t.Parallel()
	clock := orchestrator.NewManualClock(t0)
	h := setup(t, clock)
	ctx := context.Background()
	h.add(h.group, 1)
	var id int64
	for attempt := 1; attempt <= 2; attempt++ {
		q := h.queue(fmt.Sprintf("crashy-%d", attempt), Options{MaxAttempts: 2})
		c := h.claimOne(q)
		require.Equal(t, attempt, c.Lease.Attempts)
		id = c.Lease.ID
		clock.Advance(2 * time.Minute)
		if attempt == 2 {
			break
		}
		_, err := q.Reap(ctx, nil)
		require.NoError(t, err)
	}

	reaper := h.queue("reaper", Options{MaxAttempts: 2})
	failing := func(ctx context.Context, db postgres.Querier, reaped []Reaped[job]) error {
		return errors.New("the follow-up failed")
	}
	_, err := reaper.Reap(ctx, failing)
	require.ErrorContains(t, err, "the follow-up failed")
	require.Equal(t, "leased", h.row(id).Status, "the reap rolled back with its follow-up")

	var seen string
	reaped, err := reaper.Reap(ctx, func(ctx context.Context, db postgres.Querier, reaped []Reaped[job]) error {
		return db.QueryRow(ctx, `SELECT status FROM lq_jobs WHERE id = $1`, reaped[0].Lease.ID).Scan(&seen)
	})
	require.NoError(t, err)
	require.Len(t, reaped, 1)
	require.True(t, reaped[0].GaveUp)
	require.Equal(t, "dead", seen, "the follow-up sees the reap")
	j := h.row(id)
	require.Equal(t, "dead", j.Status)
	require.Equal(t, 2, j.Attempts)
	require.Equal(t, "lease of replica crashy-2 expired during attempt 2; gave up", j.Error)
	var finished *time.Time
	require.NoError(t, h.pool.QueryRow(ctx, `SELECT finished_at FROM lq_jobs WHERE id = $1`, id).Scan(&finished))
	require.NotNil(t, finished)
	require.Equal(t, 1.0, h.metric("lq_test_lease_takeovers_total"))
	require.Equal(t, 1.0, h.metric("lq_test_lease_give_ups_total"))

	none, err := reaper.Claim(ctx, 10)
	require.NoError(t, err)
	require.Empty(t, none, "a row that gave up is not claimed again")
}

// Heartbeats keep a lease alive well past its duration; once they stop,
// the lease expires and the row is taken over.
func TestHeartbeatKeepsLeaseAlive(t *testing.T) {
	t.Parallel()
	clock := orchestrator.NewManualClock(t0)
	h := setup(t, clock)
	ctx := context.Background()
	h.add(h.group, 1)
	const lease = 30 * time.Second
	owner := h.queue("owner", Options{Lease: lease})
	other := h.queue("other", Options{Lease: lease})
	c := h.claimOne(owner)
	workCtx, done := owner.Hold(ctx, c.Lease)
	defer done()

	for range 8 { // four leases long
		clock.Advance(lease / 2)
		owner.Heartbeat(ctx)
		require.True(t, h.leaseExpiry(c.Lease.ID).Equal(clock.Now().Add(lease)), "renewed from the clock's now")
		reaped, err := other.Reap(ctx, nil)
		require.NoError(t, err)
		require.Empty(t, reaped)
	}
	require.NoError(t, workCtx.Err(), "the work goes on")
	var beat time.Time
	require.NoError(t, h.pool.QueryRow(ctx, `SELECT beat_at FROM lq_jobs WHERE id = $1`, c.Lease.ID).Scan(&beat))
	require.True(t, beat.Equal(clock.Now()), "each renewal is stamped")

	clock.Advance(lease + time.Second)
	reaped, err := other.Reap(ctx, nil)
	require.NoError(t, err)
	require.Len(t, reaped, 1, "without heartbeats the lease expires")
}

// The heartbeat loop renews on its own, every HeartbeatInterval.
func TestHeartbeatsRenewInTheBackground(t *testing.T) {
	t.Parallel()
	clock := orchestrator.NewManualClock(t0)
	h := setup(t, clock)
	ctx := context.Background()
	h.add(h.group, 1)
	q := h.queue("owner", Options{Lease: time.Minute, HeartbeatInterval: 5 * time.Millisecond})
	c := h.claimOne(q)
	_, done := q.Hold(ctx, c.Lease)
	defer done()
	stop := q.Heartbeats(ctx)
	defer stop()
	clock.Advance(time.Hour)
	eventually.True(t, func() bool { return h.leaseExpiry(c.Lease.ID).Equal(t0.Add(time.Hour + time.Minute)) }, "the lease follows the clock")
}

// The heartbeat cancels, with ErrLeaseLost, the work whose row was taken
// over, and only that work.
func TestHeartbeatCancelsWorkTakenOver(t *testing.T) {
	t.Parallel()
	clock := orchestrator.NewManualClock(t0)
	h := setup(t, clock)
	ctx := context.Background()
	h.add(h.group, 1)
	stalled := h.queue("stalled", Options{Lease: 30 * time.Second})
	other := h.queue("other", Options{Lease: 30 * time.Second})
	lost := h.claimOne(stalled)
	lostCtx, doneLost := stalled.Hold(ctx, lost.Lease)
	defer doneLost()

	// The owner stalls past its lease; the other replica takes the row over.
	clock.Advance(31 * time.Second)
	_, err := other.Reap(ctx, nil)
	require.NoError(t, err)
	taken := h.claimOne(other)
	require.Equal(t, lost.Lease.ID, taken.Lease.ID)
	// Meanwhile the stalled replica has claimed another row it still owns.
	h.add(h.group, 1)
	kept := h.claimOne(stalled)
	keptCtx, doneKept := stalled.Hold(ctx, kept.Lease)
	defer doneKept()

	stalled.Heartbeat(ctx)
	require.ErrorIs(t, context.Cause(lostCtx), ErrLeaseLost)
	require.NoError(t, keptCtx.Err(), "work still ours goes on")
	require.Equal(t, 1.0, h.metric("lq_test_lease_losses_total"))
	require.Equal(t, "other", h.row(taken.Lease.ID).Replica, "the heartbeat did not take the row back")
}

// Work whose lease cannot be renewed for a whole lease is cancelled: the
// database is out of reach, so another replica may own the row by now.
// One failed renewal within the lease cancels nothing.
func TestHeartbeatGivesUpWhenTheDatabaseIsAway(t *testing.T) {
	t.Parallel()
	h := setup(t, nil)
	ctx := context.Background()
	h.add(h.group, 2)
	patient := h.queue("patient", Options{Lease: time.Hour})
	hasty := h.queue("hasty", Options{Lease: time.Millisecond})
	a, b := h.claimOne(patient), h.claimOne(hasty)
	patientCtx, done1 := patient.Hold(ctx, a.Lease)
	defer done1()
	hastyCtx, done2 := hasty.Hold(ctx, b.Lease)
	defer done2()
	_, err := h.pool.Exec(ctx, `ALTER TABLE lq_jobs RENAME TO lq_jobs_away`)
	require.NoError(t, err)

	patient.Heartbeat(ctx)
	require.NoError(t, patientCtx.Err(), "one failed heartbeat is not a lost lease")
	eventually.True(t, func() bool { hasty.Heartbeat(ctx); return hastyCtx.Err() != nil }, "unrenewed for a whole lease")
	require.ErrorIs(t, context.Cause(hastyCtx), ErrLeaseLost)
}

// Release puts a row back at once with its attempt count; the next claim
// is the next attempt.
func TestReleaseRequeues(t *testing.T) {
	t.Parallel()
	h := setup(t, nil)
	ctx := context.Background()
	h.add(h.group, 1)
	leaving := h.queue("leaving", Options{})
	c := h.claimOne(leaving)
	require.NoError(t, leaving.Release(ctx, c.Lease))
	j := h.row(c.Lease.ID)
	require.Equal(t, "pending", j.Status)
	require.Equal(t, 1, j.Attempts)
	require.Equal(t, "interrupted: released at shutdown by replica leaving during attempt 1", j.Error)
	require.Zero(t, h.leaseExpiry(c.Lease.ID))

	again := h.claimOne(h.queue("staying", Options{}))
	require.Equal(t, 2, again.Lease.Attempts)
}

// Hold tracks work until done, for sizing claims.
func TestHoldCountsWork(t *testing.T) {
	t.Parallel()
	h := setup(t, nil)
	h.add(h.group, 2)
	q := h.queue("r1", Options{})
	got, err := q.Claim(context.Background(), 2)
	require.NoError(t, err)
	_, done1 := q.Hold(context.Background(), got[0].Lease)
	workCtx, done2 := q.Hold(context.Background(), got[1].Lease)
	require.Equal(t, 2, q.Held())
	done2()
	require.Equal(t, 1, q.Held())
	require.ErrorIs(t, workCtx.Err(), context.Canceled, "done ends the work's context")
	done1()
	require.Zero(t, q.Held())
}

// A table the queue cannot build statements for is refused at start-up.
func TestTableIsValidated(t *testing.T) {
	t.Parallel()
	for name, edit := range map[string]func(*Table){
		"SQL in a name":     func(tb *Table) { tb.Name = "jobs; DROP TABLE jobs" },
		"no due column":     func(tb *Table) { tb.Due = "" },
		"quote in a status": func(tb *Table) { tb.Leased = "it's" },
		"same statuses":     func(tb *Table) { tb.GaveUp = tb.Pending },
		"bad heartbeat":     func(tb *Table) { tb.Heartbeat = "Beat At" },
		"no columns":        func(tb *Table) { tb.Columns = " " },
	} {
		tb := jobsTable
		edit(&tb)
		require.Panics(t, func() { tb.validate() }, name)
	}
	require.NotPanics(t, func() { jobsTable.validate() })
}

// An outcome that does not use the time still gets $1 typed, and $10 is
// not mistaken for $1.
func TestFinishStatementTypesTheClock(t *testing.T) {
	t.Parallel()
	for set, declares := range map[string]bool{
		"finished_at = " + Now: false,
		"result = $2":          true,
		"result = $10":         true,
		"finished_at = $1":     false,
	} {
		require.Equal(t, declares, strings.Contains(jobsTable.finishStatement(set, 9), "clock AS"), set)
	}
}
