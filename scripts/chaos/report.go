package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// check is one invariant's verdict.
type check struct {
	name, detail string
	ok           bool
}

// report counts what happened, checks the invariants and prints both.
func (h *harness) report(ctx context.Context, took time.Duration, drained bool) error {
	conn, err := pgx.Connect(ctx, h.url)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	var checks []check
	add := func(name string, ok bool, format string, args ...any) {
		checks = append(checks, check{name: name, ok: ok, detail: fmt.Sprintf(format, args...)})
	}
	add("queues drained", drained, "no due run pending or running, no notification waiting, no execution running, within 3 minutes of the end")

	var runs, succeeded, failed, hanging, dupFirings, dbFailed, notRun int
	err = conn.QueryRow(ctx, `SELECT count(*),
			count(*) FILTER (WHERE status = 'succeeded'), count(*) FILTER (WHERE status = 'failed'),
			count(*) FILTER (WHERE status IN ('missed', 'cancelled')),
			count(*) FILTER (WHERE status IN ('pending', 'running') AND fire_at <= now()),
			(SELECT count(*) FROM (SELECT 1 FROM schedule_runs GROUP BY schedule_id, fire_at HAVING count(*) > 1) d),
			count(*) FILTER (WHERE status = 'failed' AND error ~* '(terminating connection|connection refused|conn closed|database system is)')
		FROM schedule_runs`).Scan(&runs, &succeeded, &failed, &notRun, &hanging, &dupFirings, &dbFailed)
	if err != nil {
		return err
	}
	var retried int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM schedule_runs WHERE attempts > 1`).Scan(&retried); err != nil {
		return err
	}
	add("every firing ran once", dupFirings == 0 && hanging == 0,
		"%d firings: %d succeeded, %d failed (the targets fail every other minute by design), %d cancelled or missed (the schedules were disabled at the end), %d taken over or queued again after a fault; %d firings run twice, %d left hanging",
		runs, succeeded, failed, notRun, retried, dupFirings, hanging)
	add("no run failed for the database's fault", dbFailed == 0, "%d runs failed with a database connection error", dbFailed)

	var missing, extra, unlinked int
	err = conn.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM schedule_runs r JOIN schedules s ON s.id = r.schedule_id
		  WHERE s.kind = 'backup_check' AND r.status IN ('succeeded', 'failed')
		    AND NOT EXISTS (SELECT 1 FROM backup_checks c WHERE c.run_id = r.id)),
		(SELECT count(*) FROM backup_checks c WHERE c.run_id IS NOT NULL
		  AND NOT EXISTS (SELECT 1 FROM schedule_runs r WHERE r.id = c.run_id AND r.status IN ('succeeded', 'failed'))),
		(SELECT count(*) FROM backup_checks WHERE trigger = 'schedule' AND run_id IS NULL)`).Scan(&missing, &extra, &unlinked)
	if err != nil {
		return err
	}
	add("every check recorded once", missing == 0 && extra == 0 && unlinked == 0,
		"%d finished runs without their check, %d checks without a finished run, %d scheduled checks without a run; %d checks were performed again by the replica that took their run over, and recorded once",
		missing, extra, unlinked, h.recv.repeated())

	h.imports.Lock()
	rounds := h.imports.rounds
	h.imports.Unlock()
	var whole, none, partial, acceptedLost, answered int
	for round, code := range rounds {
		var n int
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM cis WHERE key LIKE $1`, fmt.Sprintf("imp-%d-%%", round)).Scan(&n); err != nil {
			return err
		}
		switch {
		case n == importRows:
			whole++
		case n == 0:
			none++
		default:
			partial++
		}
		if code == 200 {
			answered++
			if n != importRows {
				acceptedLost++
			}
		}
	}
	add("every import all or nothing", partial == 0 && acceptedLost == 0,
		"%d imports of %d CIs: %d answered 200, %d written whole, %d not at all (no answer, 429 or 503), %d partly; %d answered 200 but not all there",
		len(rounds), importRows, answered, whole, none, partial, acceptedLost)

	var outbox, delivered, dead int
	err = conn.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE status = 'delivered'), count(*) FILTER (WHERE status = 'dead')
		FROM notification_outbox`).Scan(&outbox, &delivered, &dead)
	if err != nil {
		return err
	}
	rows, err := conn.Query(ctx, `SELECT idempotency_key FROM notification_outbox WHERE status = 'delivered'`)
	if err != nil {
		return err
	}
	keys, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	received, requests := h.recv.deliveries()
	var notReceived, duplicated, unknown int
	for _, k := range keys {
		switch received[k] {
		case 0:
			notReceived++
		case 1:
		default:
			duplicated++
		}
	}
	known := map[string]bool{}
	for _, k := range keys {
		known[k] = true
	}
	for k := range received {
		if !known[k] {
			unknown++
		}
	}
	add("every notification delivered", delivered == outbox && notReceived == 0 && unknown == 0,
		"%d notifications, %d delivered, %d dead; the webhook saw %d requests (some answered 500 on purpose), %d keys delivered but never received, %d received that bcdr does not list as delivered, %d received more than once (each time with its one idempotency key)",
		outbox, delivered, dead, requests, notReceived, unknown, duplicated)

	var execs, execOK int
	if err := conn.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE status = 'succeeded') FROM executions`).Scan(&execs, &execOK); err != nil {
		return err
	}
	rows, err = conn.Query(ctx, `SELECT idempotency_key FROM execution_steps WHERE kind = 'automated'`)
	if err != nil {
		return err
	}
	stepKeys, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	var takenOver int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM execution_steps WHERE attempts > 1`).Scan(&takenOver); err != nil {
		return err
	}
	performed, production := h.recv.steps()
	var neverCalled, twice, strangers int
	ownKey := map[string]bool{}
	for _, k := range stepKeys {
		ownKey[k] = true
		switch performed[k] {
		case 0:
			neverCalled++
		case 1:
		default:
			twice++
		}
	}
	for k := range performed {
		if !ownKey[k] {
			strangers++
		}
	}
	h.drills.Lock()
	started := fmt.Sprint(h.drills.started)
	h.drills.Unlock()
	add("every execution finished, each step performed under its one key", execs > 0 && execOK == execs && neverCalled == 0 && strangers == 0 && production == 0,
		"%d drill executions (start answers %s), %d succeeded; %d automated steps, %d taken over by another replica, %d never called, %d called again with the same idempotency key after a takeover, %d calls with a key no step has, %d calls to a production URL",
		execs, started, execOK, len(stepKeys), takenOver, neverCalled, twice, strangers, production)

	out, err := h.cli("audit", "verify", "--anchor", filepath.Join(h.work, "kit", "audit-anchors.log"))
	add("the audit chain verifies against its anchors", err == nil, "%s", strings.TrimSpace(strings.ReplaceAll(out+errText(err), "\n", "; ")))

	h.faults.Lock()
	kills, restarts := h.faults.kills, h.faults.pgRestarts
	h.faults.Unlock()
	fmt.Printf("\nbcdr chaos: %d replicas, %s, %d kill -9 of a replica, %d PostgreSQL restart(s)\n\n",
		len(h.replicas), took.Round(time.Second), kills, restarts)
	failedAny := false
	for _, c := range checks {
		mark := "ok  "
		if !c.ok {
			mark, failedAny = "FAIL", true
		}
		fmt.Printf("%s %s: %s\n", mark, c.name, c.detail)
	}
	if failedAny {
		return errors.New("an invariant failed")
	}
	return nil
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
