package backup

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator/localpg/localpgtest"
)

// pgbackrestStanza is a real stanza: a throwaway cluster archiving its WAL
// with pgbackrest into a local repository, with one full backup taken.
type pgbackrestStanza struct {
	conf string // pgbackrest.conf
	repo string // repo1-path
}

// newPgBackRestStanza starts a cluster with archive_command set to
// pgbackrest archive-push, creates stanza db1 and takes a full backup. As
// root the server runs as postgres, so pgbackrest does too: it must read
// the data directory and share the repository with archive-push.
func newPgBackRestStanza(t *testing.T) pgbackrestStanza {
	t.Helper()
	requireTool(t, "pgbackrest")
	home := t.TempDir()
	require.NoError(t, os.Chmod(filepath.Dir(home), 0o755))
	require.NoError(t, os.Chmod(home, 0o755))
	cred := serverCredential(t)

	c := localpgtest.Start(t)
	u, err := url.Parse(c.URL("postgres"))
	require.NoError(t, err)

	s := pgbackrestStanza{repo: filepath.Join(home, "pgbackrest", "repo")}
	require.NoError(t, os.Mkdir(filepath.Join(home, "pgbackrest"), 0o755))
	for _, d := range []string{"repo", "lock", "log"} {
		dir := filepath.Join(home, "pgbackrest", d)
		require.NoError(t, os.MkdirAll(dir, 0o750))
		if cred != nil {
			require.NoError(t, os.Chown(dir, int(cred.Uid), int(cred.Gid)))
		}
	}
	s.conf = writeFile(t, filepath.Join(home, "pgbackrest"), "pgbackrest.conf", fmt.Sprintf(`[global]
repo1-path=%s
lock-path=%s
log-path=%s
log-level-file=off
start-fast=y
compress-type=none
[db1]
pg1-path=%s
pg1-socket-path=%s
pg1-port=%s
pg1-user=postgres
`, s.repo, filepath.Join(home, "pgbackrest", "lock"), filepath.Join(home, "pgbackrest", "log"),
		c.DataDir(), u.Query().Get("host"), u.Query().Get("port")))
	require.NoError(t, os.Chmod(s.conf, 0o644))

	conn, err := pgx.Connect(t.Context(), c.URL("postgres"))
	require.NoError(t, err)
	for _, sql := range []string{
		`ALTER SYSTEM SET archive_mode = on`,
		fmt.Sprintf(`ALTER SYSTEM SET archive_command = 'pgbackrest --config=%s --stanza=db1 archive-push %%p'`, s.conf),
	} {
		_, err := conn.Exec(t.Context(), sql)
		require.NoError(t, err)
	}
	require.NoError(t, conn.Close(t.Context()))
	// archive_mode takes a restart.
	require.NoError(t, c.Stop(t.Context()))
	require.NoError(t, c.Start(t.Context()))

	pgbackrestAs(t, cred, "--config="+s.conf, "--stanza=db1", "stanza-create")
	pgbackrestAs(t, cred, "--config="+s.conf, "--stanza=db1", "--type=full", "backup")
	return s
}

// serverCredential is who the cluster runs as: nil when that is us.
func serverCredential(t *testing.T) *syscall.Credential {
	t.Helper()
	if os.Geteuid() != 0 {
		return nil
	}
	pu, err := user.Lookup("postgres")
	require.NoError(t, err)
	uid, err := strconv.ParseUint(pu.Uid, 10, 32)
	require.NoError(t, err)
	gid, err := strconv.ParseUint(pu.Gid, 10, 32)
	require.NoError(t, err)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
}

// pgbackrestAs runs pgbackrest as cred, failing the test with its output.
func pgbackrestAs(t *testing.T, cred *syscall.Credential, args ...string) {
	t.Helper()
	bin, err := findTool("pgbackrest")
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "LANG=C", "TZ=UTC"}
	cmd.Dir = os.TempDir()
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "pgbackrest %s:\n%s", strings.Join(args, " "), out)
}

// A real stanza with a full backup checks as OK and verified, with the
// backup's time and size; a backup file damaged in the repository then
// fails the check.
func TestPgBackRest_RealStanzaVerifiedThenBroken(t *testing.T) {
	t.Parallel()
	h := setup(t)
	s := newPgBackRestStanza(t)
	tg := h.target(KindPgBackRest, PgBackRestConfig{Stanza: "db1", Config: s.conf})

	c := h.check(tg)
	require.Equal(t, StatusOK, c.Status, "%s\n%s", c.Message, c.Output)
	require.True(t, c.Verified, c.Message)
	require.NotNil(t, c.LatestBackupAt)
	require.WithinDuration(t, time.Now(), *c.LatestBackupAt, 5*time.Minute)
	require.Greater(t, *c.SizeBytes, int64(1<<20), "a full backup of a cluster")
	require.Regexp(t, `^full backup \d{8}-\d{6}F finished \S+; verify: repository and backups valid$`, c.Message)

	// Overwrite one file of the backup, as the recorded fixture did.
	backups, err := filepath.Glob(filepath.Join(s.repo, "backup", "db1", "*F", "pg_data", "PG_VERSION"))
	require.NoError(t, err)
	require.Len(t, backups, 1)
	require.NoError(t, os.WriteFile(backups[0], []byte("damaged\n"), 0o640))
	c = h.check(tg)
	require.Equal(t, StatusFailed, c.Status, "%s\n%s", c.Message, c.Output)
	require.False(t, c.Verified)
	require.Contains(t, c.Message, "pgbackrest verify: status error")
	require.Contains(t, c.Message, "F invalid")
}
