// Command chaos runs three real `bcdr serve` replicas on one PostgreSQL
// for a bounded time while it kills them, restarts the database and keeps
// them busy, then checks that nothing was lost or doubled:
//
//	go run ./scripts/chaos -minutes 10
//
// Load: scheduled HTTP backup checks of targets on a loopback server that
// fail and recover every minute (so every check announces a transition),
// notifications of all of them to a loopback webhook that sometimes
// answers 500, CI imports every few seconds through a random replica, and
// drills of a runbook of automated steps every 15–30 s.
// Faults: kill -9 of a random replica every 20–60 s (restarted a moment
// later) and one fast restart of PostgreSQL half-way. At the end the
// schedules are disabled, the queues drain, the replicas stop, and it
// prints and checks: every firing ran once and none is left hanging, every
// check is recorded once for its run, every import is all or nothing,
// every notification was delivered (duplicates only with one idempotency
// key), every drill finished with each step performed under its one key
// and no production URL called, and the audit chain verifies against the anchors written during
// the run. It exits 1 when an invariant fails.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bcdr/bcdr/orchestrator/localpg"
)

func main() {
	minutes := flag.Float64("minutes", 10, "how long the faults and load run")
	replicas := flag.Int("replicas", 3, "bcdr serve processes")
	targets := flag.Int("targets", 40, "HTTP backup targets, each checked once a minute")
	keep := flag.Bool("keep", false, "keep the working directory (logs, database) afterwards")
	flag.Parse()
	if err := run(*minutes, *replicas, *targets, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		os.Exit(1)
	}
}

// importRows is how many CIs each import carries.
const importRows = 200

type harness struct {
	work, bin, url, token string
	env                   []string
	cluster               *localpg.Cluster
	pgDir                 string
	recv                  *receiver
	replicas              []*replica
	log                   *slog.Logger
	faults                struct {
		sync.Mutex
		kills, pgRestarts int
	}
	imports struct {
		sync.Mutex
		rounds map[int]int // round → HTTP status (0: no answer)
	}
	runbook int64
	drills  struct {
		sync.Mutex
		started map[int]int // HTTP status → how many
	}
}

func run(minutes float64, nReplicas, nTargets int, keep bool) error {
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	work, err := os.MkdirTemp("", "bcdr-chaos-")
	if err != nil {
		return err
	}
	if keep {
		log.Info("working directory kept", "dir", work)
	} else {
		defer os.RemoveAll(work)
	}
	h := &harness{work: work, bin: filepath.Join(work, "bcdr"), log: log, pgDir: filepath.Join(work, "pg")}
	h.imports.rounds = map[int]int{}
	h.drills.started = map[int]int{}
	log.Info("building bcdr")
	if out, err := exec.Command("go", "build", "-o", h.bin, "./cmd/bcdr").CombinedOutput(); err != nil {
		return fmt.Errorf("build: %v\n%s", err, out)
	}
	if err := h.startDatabase(ctx); err != nil {
		return err
	}
	defer func() { _ = h.cluster.Stop(context.Background()) }()
	if h.recv, err = startReceiver(); err != nil {
		return err
	}
	h.env = append(os.Environ(), "DATABASE_URL="+h.url, "BCDR_DATA_DIR="+filepath.Join(work, "data"),
		"BCDR_KIT_DIR="+filepath.Join(work, "kit"), "BCDR_OUTBOUND_ALLOW=127.0.0.1", "BCDR_LOG_FORMAT=json",
		"BCDR_SCHEDULER_LEASE=10s", "BCDR_AUDIT_ANCHOR_EVERY=30s", "BCDR_SHUTDOWN_TIMEOUT=10s")
	if _, err := h.cli("migrate", "up"); err != nil {
		return err
	}
	for i := range nReplicas {
		r, err := newReplica(h, i)
		if err != nil {
			return err
		}
		h.replicas = append(h.replicas, r)
		if err := r.start(); err != nil {
			return err
		}
	}
	defer h.stopAll()
	for _, r := range h.replicas {
		if err := r.waitReady(60 * time.Second); err != nil {
			return err
		}
	}
	tok, err := h.cli("token", "create", "--name", "chaos", "--role", "admin")
	if err != nil {
		return err
	}
	h.token = strings.TrimSpace(tok)
	schedules, err := h.setUp(nTargets)
	if err != nil {
		return err
	}

	started := time.Now()
	deadline := started.Add(time.Duration(minutes * float64(time.Minute)))
	log.Info("faults and load running", "until", deadline.Format(time.TimeOnly), "replicas", nReplicas, "targets", nTargets)
	var wg sync.WaitGroup
	wg.Go(func() { h.importLoop(deadline) })
	wg.Go(func() { h.drillLoop(deadline) })
	h.faultLoop(ctx, deadline)
	wg.Wait()

	log.Info("faults over; disabling schedules and draining")
	for _, r := range h.replicas {
		if !r.alive() {
			if err := r.start(); err != nil {
				return err
			}
		}
	}
	for _, r := range h.replicas {
		if err := r.waitReady(60 * time.Second); err != nil {
			return err
		}
	}
	for _, id := range schedules {
		if _, _, err := h.call(h.replicas[0], "PATCH", fmt.Sprintf("/api/v1/schedules/%d", id), `{"enabled":false}`, "application/json"); err != nil {
			return err
		}
	}
	drained := h.drain(ctx, 3*time.Minute)
	h.stopAll()
	return h.report(ctx, time.Since(started), drained)
}

func (h *harness) startDatabase(ctx context.Context) error {
	c, err := localpg.Start(ctx, localpg.Config{Dir: h.pgDir, Ephemeral: true})
	if err != nil {
		return err
	}
	h.cluster = c
	if err := c.EnsureDatabase(ctx, "chaos"); err != nil {
		return err
	}
	h.url = c.URL("chaos")
	return nil
}

// restartDatabase stops PostgreSQL with a fast shutdown (every connection
// cut) and starts it again on the same socket.
func (h *harness) restartDatabase(ctx context.Context) error {
	if err := h.cluster.Stop(ctx); err != nil {
		return err
	}
	time.Sleep(2 * time.Second)
	c, err := localpg.Start(ctx, localpg.Config{Dir: h.pgDir, Ephemeral: true})
	if err != nil {
		return err
	}
	h.cluster = c
	if c.URL("chaos") != h.url {
		return fmt.Errorf("the database came back at %s, not %s", c.URL("chaos"), h.url)
	}
	return nil
}

// cli runs a bcdr command and returns its stdout.
func (h *harness) cli(args ...string) (string, error) {
	cmd := exec.Command(h.bin, args...)
	cmd.Env = h.env
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("bcdr %s: %v: %s%s", strings.Join(args, " "), err, out.String(), errOut.String())
	}
	return out.String(), nil
}

// setUp creates the CIs, the HTTP backup targets (their schedules every
// minute, spread over it by jitter) and a webhook channel for every event.
// It returns the schedules' ids.
func (h *harness) setUp(nTargets int) ([]int64, error) {
	r := h.replicas[0]
	var csv strings.Builder
	csv.WriteString("key,name,class\n")
	for i := range nTargets {
		fmt.Fprintf(&csv, "chaos-db-%d,Chaos database %d,database\n", i, i)
	}
	if code, body, err := h.call(r, "POST", "/api/v1/imports?type=cis", csv.String(), "text/csv"); err != nil || code != 200 {
		return nil, fmt.Errorf("import the targets' CIs: %d %s %v", code, body, err)
	}
	var ids []int64
	for i := range nTargets {
		in := map[string]any{"ci": fmt.Sprintf("chaos-db-%d", i), "kind": "http", "schedule": "* * * * *", "timeout": "20s",
			"config": map[string]any{"url": fmt.Sprintf("%s/backup/%d", h.recv.url, i), "time_field": "finished_at", "retries": 1}}
		b, _ := json.Marshal(in)
		code, body, err := h.call(r, "POST", "/api/v1/backup-targets", string(b), "application/json")
		if err != nil || code != 201 {
			return nil, fmt.Errorf("create backup target: %d %s %v", code, body, err)
		}
		var t struct {
			ScheduleID int64 `json:"schedule_id"`
		}
		if err := json.Unmarshal(body, &t); err != nil {
			return nil, err
		}
		code, body, err = h.call(r, "PATCH", fmt.Sprintf("/api/v1/schedules/%d", t.ScheduleID), `{"jitter":"50s"}`, "application/json")
		if err != nil || code != 200 {
			return nil, fmt.Errorf("spread schedule %d: %d %s %v", t.ScheduleID, code, body, err)
		}
		ids = append(ids, t.ScheduleID)
	}
	if err := h.setUpRunbook(r); err != nil {
		return nil, err
	}
	ch := fmt.Sprintf(`{"name":"chaos","kind":"webhook","url":%q,"events":["*"]}`, h.recv.url+"/hook")
	if code, body, err := h.call(r, "POST", "/api/v1/notification-channels", ch, "application/json"); err != nil || code != 201 {
		return nil, fmt.Errorf("create channel: %d %s %v", code, body, err)
	}
	return ids, nil
}

// drillSteps is how many automated steps the drilled runbook has: a
// diamond of diamonds, each step answering after 1–4 s.
const drillSteps = 6

// setUpRunbook makes the runbook the drills run: a business service whose
// generated steps are replaced by automated ones that call the receiver
// in a drill (their production URL must never be called).
func (h *harness) setUpRunbook(r *replica) error {
	if code, body, err := h.call(r, "POST", "/api/v1/cis", `{"key":"chaos-svc","name":"Chaos service","class":"business_service"}`, "application/json"); err != nil || code != 201 {
		return fmt.Errorf("create the drilled service: %d %s %v", code, body, err)
	}
	code, body, err := h.call(r, "POST", "/api/v1/runbooks", `{"service":"chaos-svc"}`, "application/json")
	if err != nil || code != 201 {
		return fmt.Errorf("create the drilled runbook: %d %s %v", code, body, err)
	}
	var rb struct {
		ID      int64 `json:"id"`
		Version struct {
			Steps []struct {
				ID string `json:"id"`
			} `json:"steps"`
		} `json:"version"`
	}
	if err := json.Unmarshal(body, &rb); err != nil {
		return err
	}
	h.runbook = rb.ID
	deps := [drillSteps][]int{{}, {0}, {0}, {1, 2}, {3}, {3}}
	var ids []string
	for i := range drillSteps {
		var dependsOn []string
		for _, d := range deps[i] {
			dependsOn = append(dependsOn, ids[d])
		}
		step := map[string]any{"title": fmt.Sprintf("automated step %d", i), "estimate": "1m", "depends_on": append([]string{}, dependsOn...),
			"automation": map[string]any{"method": "POST", "url": h.recv.url + "/production", "drill_url": h.recv.url + "/step",
				"timeout": "10s", "retries": 2, "assertion": map[string]any{"path": "ok", "equals": true}}}
		b, _ := json.Marshal(step)
		code, body, err := h.call(r, "POST", fmt.Sprintf("/api/v1/runbooks/%d/steps", rb.ID), string(b), "application/json")
		if err != nil || code != 200 {
			return fmt.Errorf("add a drill step: %d %s %v", code, body, err)
		}
		var after struct {
			Version struct {
				Steps []struct {
					ID    string `json:"id"`
					Title string `json:"title"`
				} `json:"steps"`
			} `json:"version"`
		}
		if err := json.Unmarshal(body, &after); err != nil {
			return err
		}
		for _, st := range after.Version.Steps {
			if st.Title == step["title"] {
				ids = append(ids, st.ID)
			}
		}
	}
	for _, st := range rb.Version.Steps {
		if code, body, err := h.call(r, "DELETE", fmt.Sprintf("/api/v1/runbooks/%d/steps/%s", rb.ID, st.ID), "", ""); err != nil || code != 200 {
			return fmt.Errorf("remove generated step %s: %d %s %v", st.ID, code, body, err)
		}
	}
	return nil
}

// drillLoop starts a drill of the runbook every 15–30 s through a random
// replica.
func (h *harness) drillLoop(deadline time.Time) {
	for time.Now().Before(deadline) {
		r := h.replicas[rand.IntN(len(h.replicas))]
		body := fmt.Sprintf(`{"runbook":%d,"mode":"drill","note":"chaos drill"}`, h.runbook)
		code, _, _ := h.call(r, "POST", "/api/v1/executions", body, "application/json")
		h.drills.Lock()
		h.drills.started[code]++
		h.drills.Unlock()
		time.Sleep(time.Duration(15000+rand.IntN(15000)) * time.Millisecond)
	}
}

// call sends one request to a replica.
func (h *harness) call(r *replica, method, path, body, contentType string) (int, []byte, error) {
	req, err := http.NewRequest(method, "http://"+r.addr+path, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+h.token)
	if body != "" {
		req.Header.Set("Content-Type", contentType)
	}
	client := http.Client{Timeout: 60 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

// importLoop sends an import of importRows new CIs every 3–8 s through a
// random replica, remembering what each round was answered.
func (h *harness) importLoop(deadline time.Time) {
	for round := 1; time.Now().Before(deadline); round++ {
		var csv strings.Builder
		csv.WriteString("key,name,class\n")
		for i := range importRows {
			fmt.Fprintf(&csv, "imp-%d-%d,Imported %d/%d,server\n", round, i, round, i)
		}
		r := h.replicas[rand.IntN(len(h.replicas))]
		code, _, _ := h.call(r, "POST", "/api/v1/imports?type=cis", csv.String(), "text/csv")
		h.imports.Lock()
		h.imports.rounds[round] = code
		h.imports.Unlock()
		time.Sleep(time.Duration(3000+rand.IntN(5000)) * time.Millisecond)
	}
}

// faultLoop kills a random replica every 20–60 s and restarts it 1–3 s
// later, and restarts PostgreSQL once half-way, until deadline.
func (h *harness) faultLoop(ctx context.Context, deadline time.Time) {
	half := time.Now().Add(time.Until(deadline) / 2)
	restarted := false
	for {
		wait := time.Duration(20+rand.IntN(41)) * time.Second
		if time.Now().Add(wait).After(deadline) {
			time.Sleep(time.Until(deadline))
			return
		}
		time.Sleep(wait)
		if !restarted && time.Now().After(half) {
			restarted = true
			h.log.Info("restarting PostgreSQL")
			if err := h.restartDatabase(ctx); err != nil {
				h.log.Error("PostgreSQL restart failed", "error", err)
				return
			}
			h.faults.Lock()
			h.faults.pgRestarts++
			h.faults.Unlock()
			continue
		}
		r := h.replicas[rand.IntN(len(h.replicas))]
		h.log.Info("kill -9", "replica", r.name)
		r.kill()
		h.faults.Lock()
		h.faults.kills++
		h.faults.Unlock()
		time.Sleep(time.Duration(1000+rand.IntN(2000)) * time.Millisecond)
		if err := r.start(); err != nil {
			h.log.Error("restart replica", "replica", r.name, "error", err)
		}
	}
}

// drain waits until no due run is pending or running and no notification
// waits to be delivered; it reports whether that happened within limit.
func (h *harness) drain(ctx context.Context, limit time.Duration) bool {
	end := time.Now().Add(limit)
	for time.Now().Before(end) {
		conn, err := pgx.Connect(ctx, h.url)
		if err == nil {
			var runs, outbox, executions int
			err = conn.QueryRow(ctx, `SELECT
				(SELECT count(*) FROM schedule_runs WHERE status IN ('pending', 'running') AND fire_at <= now()),
				(SELECT count(*) FROM notification_outbox WHERE status IN ('pending', 'delivering')),
				(SELECT count(*) FROM executions WHERE status IN ('running', 'paused'))`).Scan(&runs, &outbox, &executions)
			conn.Close(ctx)
			if err == nil && runs == 0 && outbox == 0 && executions == 0 {
				return true
			}
		}
		time.Sleep(2 * time.Second)
	}
	return false
}

func (h *harness) stopAll() {
	for _, r := range h.replicas {
		r.stop()
	}
}

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

// receiver is the loopback server the targets and the channel call.
type receiver struct {
	url      string
	mu       sync.Mutex
	keys     map[string]int
	requests int
	// healthy counts the healthy answers per target and minute: a check
	// performed again after its replica died shows up as a second one.
	healthy map[string]int
	// stepKeys counts the drill steps' calls per idempotency key.
	stepKeys   map[string]int
	production int
}

func startReceiver() (*receiver, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	rv := &receiver{url: "http://" + ln.Addr().String(), keys: map[string]int{}, healthy: map[string]int{}, stepKeys: map[string]int{}}
	mux := http.NewServeMux()
	// A backup endpoint is healthy in minutes of one parity and failing in
	// the others, so every check of it differs from the one before.
	// It answers after 1–4 s, so that a replica killed is often in the
	// middle of a check.
	mux.HandleFunc("/backup/{n}", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.PathValue("n"))
		minute := time.Now().Unix() / 60
		time.Sleep(time.Duration(1000+rand.IntN(3000)) * time.Millisecond)
		if (minute+int64(n))%2 == 0 {
			http.Error(w, "backup job failed", http.StatusServiceUnavailable)
			return
		}
		rv.mu.Lock()
		rv.healthy[fmt.Sprintf("%d/%d", n, minute)]++
		rv.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"finished_at":%q}`, time.Now().UTC().Add(-time.Minute).Format(time.RFC3339))
	})
	// Drill steps answer after 1–4 s, so kills land mid-call; calls to a
	// production URL are counted as the violation they are.
	mux.HandleFunc("/step", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(time.Duration(1000+rand.IntN(3000)) * time.Millisecond)
		rv.mu.Lock()
		rv.stepKeys[r.Header.Get("Idempotency-Key")]++
		rv.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"ok":true}`)
	})
	mux.HandleFunc("/production", func(w http.ResponseWriter, r *http.Request) {
		rv.mu.Lock()
		rv.production++
		rv.mu.Unlock()
		http.Error(w, "a drill called production", http.StatusTeapot)
	})
	mux.HandleFunc("/hook", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		rv.mu.Lock()
		rv.requests++
		fail := rand.IntN(10) == 0
		if !fail {
			rv.keys[r.Header.Get("Idempotency-Key")]++
		}
		rv.mu.Unlock()
		if fail {
			http.Error(w, "try again", http.StatusInternalServerError)
		}
	})
	go func() { _ = http.Serve(ln, mux) }()
	return rv, nil
}

// deliveries returns how often each idempotency key was accepted and how
// many requests came.
func (rv *receiver) deliveries() (map[string]int, int) {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	keys := make(map[string]int, len(rv.keys))
	for k, v := range rv.keys {
		keys[k] = v
	}
	return keys, rv.requests
}

// steps returns the calls per step key and the calls to production.
func (rv *receiver) steps() (map[string]int, int) {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	keys := make(map[string]int, len(rv.stepKeys))
	for k, v := range rv.stepKeys {
		keys[k] = v
	}
	return keys, rv.production
}

// repeated is how many checks were performed more than once.
func (rv *receiver) repeated() int {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	n := 0
	for _, v := range rv.healthy {
		if v > 1 {
			n++
		}
	}
	return n
}

// replica is one bcdr serve process on a fixed address.
type replica struct {
	h          *harness
	name, addr string
	mu         sync.Mutex
	cmd        *exec.Cmd
	done       chan struct{}
}

func newReplica(h *harness, i int) (*replica, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	return &replica{h: h, name: fmt.Sprintf("replica-%d", i), addr: addr}, nil
}

func (r *replica) start() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	logf, err := os.OpenFile(filepath.Join(r.h.work, r.name+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(r.h.bin, "serve", "--listen", r.addr)
	cmd.Env = append(r.h.env, "BCDR_REPLICA="+r.name)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return err
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); logf.Close(); close(done) }()
	r.cmd, r.done = cmd, done
	return nil
}

func (r *replica) alive() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.done == nil {
		return false
	}
	select {
	case <-r.done:
		return false
	default:
		return true
	}
}

func (r *replica) kill() {
	r.signal(syscall.SIGKILL, 0)
}

func (r *replica) stop() {
	r.signal(syscall.SIGTERM, 20*time.Second)
}

// signal sends sig and waits for the process to end, killing it after
// grace (0: wait as long as it takes).
func (r *replica) signal(sig syscall.Signal, grace time.Duration) {
	r.mu.Lock()
	cmd, done := r.cmd, r.done
	r.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return
	}
	_ = cmd.Process.Signal(sig)
	if grace == 0 {
		<-done
		return
	}
	select {
	case <-done:
	case <-time.After(grace):
		_ = cmd.Process.Kill()
		<-done
	}
}

func (r *replica) waitReady(limit time.Duration) error {
	end := time.Now().Add(limit)
	for time.Now().Before(end) {
		resp, err := http.Get("http://" + r.addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(300 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready within %s (see %s.log)", r.name, limit, r.name)
}
