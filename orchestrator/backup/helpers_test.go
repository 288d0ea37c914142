package backup

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/cmdb"
	"github.com/bcdr/bcdr/orchestrator/outbound"
	"github.com/bcdr/bcdr/orchestrator/postgres/pgtest"
	"github.com/bcdr/bcdr/orchestrator/secretref"
)

// loopbackAllowed is the address policy of tests whose http targets are
// httptest servers on 127.0.0.1, which the default policy refuses.
func loopbackAllowed() outbound.Policy {
	p, err := outbound.ParsePolicy("127.0.0.1")
	if err != nil {
		panic(err)
	}
	return p
}

// harness is a service on its own database, with a clock, an environment
// for secret references and a data-bearing CI "db1".
type harness struct {
	t     testing.TB
	ctx   context.Context
	pool  *pgxpool.Pool
	svc   *Service
	clock *orchestrator.ManualClock
	env   map[string]string
}

func setup(t testing.TB) *harness {
	t.Helper()
	h := &harness{t: t, clock: orchestrator.NewManualClock(time.Now()), env: map[string]string{}}
	h.ctx = orchestrator.WithActor(context.Background(), orchestrator.Actor{Name: "test", Role: orchestrator.RoleAdmin})
	h.pool = pgtest.New(t)
	// The test's temporary directories, where its repositories, files and
	// secret files live, are both the backup root and the secrets directory.
	base := filepath.Dir(t.TempDir())
	h.svc = NewService(h.pool, orchestrator.Runtime{Clock: h.clock}, Options{ScratchDir: t.TempDir(),
		LookupEnv:        func(k string) (string, bool) { v, ok := h.env[k]; return v, ok },
		Secrets:          secretref.Policy{Dir: base},
		Roots:            []string{base},
		HTTPRetryWaitMin: 5 * time.Millisecond, HTTPRetryWaitMax: 20 * time.Millisecond, OutboundPolicy: loopbackAllowed()})
	h.ci("db1", "database", true)
	return h
}

// ci adds a CI.
func (h *harness) ci(key, class string, dataBearing bool) {
	h.t.Helper()
	_, err := cmdb.NewService(h.pool).CreateCI(h.ctx, cmdb.CIInput{Key: key, Name: key, Class: class, DataBearing: dataBearing})
	require.NoError(h.t, err)
}

// relate adds "from depends_on to".
func (h *harness) relate(from, to string) {
	h.t.Helper()
	_, err := cmdb.NewService(h.pool).CreateRelation(h.ctx, cmdb.RelationInput{From: from, To: to, Type: "depends_on"})
	require.NoError(h.t, err)
}

// target creates a target of kind with config for CI db1.
func (h *harness) target(kind Kind, config any, mod ...func(*TargetInput)) Target {
	h.t.Helper()
	raw, err := json.Marshal(config)
	require.NoError(h.t, err)
	in := TargetInput{CI: "db1", Kind: kind, Schedule: "0 * * * *", Config: raw}
	for _, m := range mod {
		m(&in)
	}
	tg, err := h.svc.Create(h.ctx, in)
	require.NoError(h.t, err)
	return tg
}

// check runs a check of tg now.
func (h *harness) check(tg Target) Check {
	h.t.Helper()
	c, err := h.svc.CheckNow(h.ctx, tg.ID)
	require.NoError(h.t, err)
	return c
}

// requireTool skips nothing: the tools are installed by make test, and a
// missing one fails the test with the way to install it.
func requireTool(t *testing.T, name string) {
	t.Helper()
	if _, err := findTool(name); err != nil {
		t.Fatalf("%v (scripts/install-deps.sh restic borg pgbackrest postgres)", err)
	}
}

// runTool runs a tool for test set-up, failing the test with its output.
func runTool(t *testing.T, env []string, name string, args ...string) string {
	t.Helper()
	bin, err := findTool(name)
	require.NoError(t, err)
	cmd := exec.Command(bin, args...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "LANG=C", "TZ=UTC"}, env...)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s %s:\n%s", name, strings.Join(args, " "), out)
	return string(out)
}

// writeFile writes content to dir/name and returns the path.
func writeFile(t testing.TB, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

// sourceSize is the size of sourceTree's large file.
const sourceSize = 96 << 10

// sourceTree makes a small directory of files to back up.
func sourceTree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	// Random content does not compress, so the data pack is the largest
	// file of a repository and tests can find it.
	data := make([]byte, sourceSize)
	_, _ = rand.Read(data)
	writeFile(t, dir, "orders.bin", string(data))
	writeFile(t, dir, "sub/customers.json", `{"customers":["ada","grace"]}`)
	writeFile(t, dir, "sub/empty", "")
	return dir
}
