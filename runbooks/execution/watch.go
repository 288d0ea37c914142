package execution

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// changedChannel is the PostgreSQL notification channel on which every
// transaction that adds to an execution's timeline names the execution
// (record), delivered when it commits, to every replica.
const changedChannel = "bcdr_execution_changed"

// watchRetry is how long the listener waits before it connects again after
// losing its connection; the watchers meanwhile rely on their own polling.
const watchRetry = time.Second

// watchers fan the change notifications of one listening connection out to
// the people watching executions in this process. The connection is its
// own (not the pool's) and is open only while someone watches.
type watchers struct {
	mu   sync.Mutex
	subs map[int64]map[chan struct{}]struct{}
	stop context.CancelFunc
}

// Watch returns a channel that receives a value soon after a transaction
// that changed execution id commits, on any replica, until ctx ends. A
// change may be signalled without one (the listener reconnected), and
// changes close together are signalled once: a watcher reads the timeline
// after each signal. Watchers should still poll now and then, slowly: a
// change committed while the listener was reconnecting is signalled only
// as the reconnection's catch-all.
func (s *Service) Watch(ctx context.Context, id int64) <-chan struct{} {
	ch := make(chan struct{}, 1)
	w := &s.watchers
	w.mu.Lock()
	if w.subs == nil {
		w.subs = map[int64]map[chan struct{}]struct{}{}
	}
	if w.subs[id] == nil {
		w.subs[id] = map[chan struct{}]struct{}{}
	}
	w.subs[id][ch] = struct{}{}
	if w.stop == nil {
		lctx, stop := context.WithCancel(context.WithoutCancel(ctx))
		w.stop = stop
		go s.listen(lctx)
	}
	w.mu.Unlock()
	context.AfterFunc(ctx, func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		delete(w.subs[id], ch)
		if len(w.subs[id]) == 0 {
			delete(w.subs, id)
		}
		if len(w.subs) == 0 && w.stop != nil {
			w.stop()
			w.stop = nil
		}
	})
	return ch
}

// signal tells the watchers of id (all of them when all) of a change.
func (w *watchers) signal(id int64, all bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for sid, chans := range w.subs {
		if !all && sid != id {
			continue
		}
		for ch := range chans {
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}
}

// listen holds a connection listening on changedChannel until ctx ends,
// connecting again after a failure.
func (s *Service) listen(ctx context.Context) {
	for ctx.Err() == nil {
		err := s.listenOnce(ctx)
		if ctx.Err() != nil {
			return
		}
		s.rt.Log().Warn("listening for execution changes failed; boards poll meanwhile", "error", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(watchRetry):
		}
	}
}

// listenOnce connects, listens and signals until the connection fails or
// ctx ends. Once listening it signals every watcher: what changed while
// no one listened is read then.
func (s *Service) listenOnce(ctx context.Context) error {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return err
	}
	defer func() {
		closing, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = conn.Close(closing)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+changedChannel); err != nil {
		return err
	}
	s.watchers.signal(0, true)
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		if id, perr := strconv.ParseInt(n.Payload, 10, 64); perr == nil {
			s.watchers.signal(id, false)
		}
	}
}
