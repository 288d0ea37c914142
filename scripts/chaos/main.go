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
// and no production URL called, and the audit chain verifies against the
// anchors written during the run. It exits 1 when an invariant fails.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
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
