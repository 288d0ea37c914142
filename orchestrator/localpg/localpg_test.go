package localpg

import (
	"context"
	"errors"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator/eventually"
)

// reachableDir returns a fresh directory that the postgres user can enter
// when the test runs as root (t.TempDir makes its parent 0700).
func reachableDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.Chmod(filepath.Dir(dir), 0o755))
	return filepath.Join(dir, "pg")
}

// start starts a cluster in dir and stops it when the test ends.
func start(t *testing.T, dir string) *Cluster {
	t.Helper()
	c, err := Start(t.Context(), Config{Dir: dir, Ephemeral: true})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, c.Stop(context.Background())) })
	return c
}

func connect(t *testing.T, c *Cluster, db string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), c.URL(db))
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func queryString(t *testing.T, conn *pgx.Conn, sql string) string {
	t.Helper()
	var s string
	require.NoError(t, conn.QueryRow(t.Context(), sql).Scan(&s))
	return s
}

// serverRunning reports whether the postmaster named in dataDir's pid file
// is alive.
func serverRunning(t *testing.T, dataDir string) bool {
	t.Helper()
	p, err := readPIDFile(dataDir)
	if errors.Is(err, os.ErrNotExist) {
		return false
	}
	require.NoError(t, err)
	return syscall.Kill(p.pid, 0) == nil
}

func owner(t *testing.T, path string) uint32 {
	t.Helper()
	fi, err := os.Stat(path)
	require.NoError(t, err)
	return fi.Sys().(*syscall.Stat_t).Uid
}

func TestStart_InitialisesAndServes(t *testing.T) {
	t.Parallel()
	c := start(t, reachableDir(t))
	conn := connect(t, c, "postgres")

	require.Equal(t, "postgres", queryString(t, conn, "SELECT current_user"))
	require.Equal(t, "UTF8", queryString(t, conn, "SHOW server_encoding"))
	// Trust authentication is safe only because nothing listens on TCP and
	// the socket is private.
	require.Equal(t, "", queryString(t, conn, "SHOW listen_addresses"))
	require.Equal(t, "0700", queryString(t, conn, "SHOW unix_socket_permissions"))
	fi, err := os.Stat(c.socketDir)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o700), fi.Mode().Perm())

	want := uint32(os.Geteuid())
	if os.Geteuid() == 0 {
		u, err := currentServerUser()
		require.NoError(t, err)
		require.Equal(t, "postgres", u.name)
		want = u.uid
	}
	require.Equal(t, want, owner(t, c.DataDir()), "owner of PGDATA")
	require.Equal(t, want, owner(t, c.socketDir), "owner of the socket directory")
	p, err := readPIDFile(c.DataDir())
	require.NoError(t, err)
	require.Equal(t, want, owner(t, filepath.Join("/proc", strconv.Itoa(p.pid))), "uid of the server process")
}

func TestStart_OtherUsersCannotConnect(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run psql as another user")
	}
	t.Parallel()
	c := start(t, reachableDir(t))
	nobody, err := user.Lookup("nobody")
	require.NoError(t, err)
	other, err := toServerUser(nobody, true)
	require.NoError(t, err)

	out, err := other.command(t.Context(), filepath.Join(c.bin, "psql"), "-X", "-d", c.URL("postgres"), "-c", "SELECT 1").
		CombinedOutput()
	require.Error(t, err)
	require.Contains(t, string(out), "Permission denied")
}

func TestURL_ParsesWithPgx(t *testing.T) {
	t.Parallel()
	c := &Cluster{socketDir: "/tmp/bcdr pg+dir", port: 5432}
	require.Equal(t, "postgres://postgres@/bcdr_test?host=%2Ftmp%2Fbcdr%20pg%2Bdir&port=5432&sslmode=disable",
		c.URL("bcdr_test"))
	cfg, err := pgx.ParseConfig(c.URL("bcdr_test"))
	require.NoError(t, err)
	require.Equal(t, "/tmp/bcdr pg+dir", cfg.Host)
	require.Equal(t, uint16(5432), cfg.Port)
	require.Equal(t, "bcdr_test", cfg.Database)
	require.Equal(t, "postgres", cfg.User)
	require.Nil(t, cfg.TLSConfig)
}

func TestStart_ReusesClusterAfterStop(t *testing.T) {
	t.Parallel()
	dir := reachableDir(t)
	ctx := t.Context()

	c1, err := Start(ctx, Config{Dir: dir})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, c1.Stop(context.Background())) })
	conn, err := pgx.Connect(ctx, c1.URL("postgres"))
	require.NoError(t, err)
	_, err = conn.Exec(ctx, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here')")
	require.NoError(t, err)
	require.NoError(t, conn.Close(ctx))
	require.NoError(t, c1.Stop(ctx))
	require.False(t, serverRunning(t, c1.DataDir()), "server stopped")
	require.NoError(t, c1.Stop(ctx), "second Stop is a no-op")

	c2 := start(t, dir)
	require.Equal(t, c1.DataDir(), c2.DataDir())
	require.Equal(t, "still here", queryString(t, connect(t, c2, "postgres"), "SELECT v FROM kept"))
}

func TestStart_SharesRunningServerUntilLastStop(t *testing.T) {
	t.Parallel()
	dir := reachableDir(t)
	ctx := t.Context()

	// Concurrent starts on a fresh directory: the lock lets one initialise
	// and start, and the others join.
	clusters := make([]*Cluster, 3)
	errs := make([]error, 3)
	var wg sync.WaitGroup
	for i := range clusters {
		wg.Go(func() { clusters[i], errs[i] = Start(ctx, Config{Dir: dir, Ephemeral: true}) })
	}
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err)
		t.Cleanup(func() { require.NoError(t, clusters[i].Stop(context.Background())) })
	}
	for _, c := range clusters {
		require.Equal(t, clusters[0].URL("postgres"), c.URL("postgres"))
	}

	require.NoError(t, clusters[0].Stop(ctx))
	require.NoError(t, clusters[1].Stop(ctx))
	require.True(t, serverRunning(t, clusters[2].DataDir()), "still used by the third")
	require.Equal(t, "1", queryString(t, connect(t, clusters[2], "postgres"), "SELECT '1'"))
	require.NoError(t, clusters[2].Stop(ctx))
	require.False(t, serverRunning(t, clusters[2].DataDir()), "last user stops it")
}

func TestStart_RecoversFromKilledServer(t *testing.T) {
	t.Parallel()
	dir := reachableDir(t)
	c1 := start(t, dir)
	p, err := readPIDFile(c1.DataDir())
	require.NoError(t, err)
	require.NoError(t, syscall.Kill(p.pid, syscall.SIGKILL))
	eventually.True(t, func() bool { return syscall.Kill(p.pid, 0) != nil }, "the process %d is gone", p.pid)

	// postmaster.pid is left behind, naming a dead process.
	_, err = os.Stat(filepath.Join(c1.DataDir(), "postmaster.pid"))
	require.NoError(t, err)
	c2 := start(t, dir)
	require.Equal(t, "1", queryString(t, connect(t, c2, "postgres"), "SELECT '1'"))
}

func TestStart_ReplacesUnfinishedInitdb(t *testing.T) {
	t.Parallel()
	dir := reachableDir(t)
	// What an initdb killed midway leaves: PG_VERSION but no cluster.
	require.NoError(t, os.Mkdir(dir, 0o755))
	require.NoError(t, os.Mkdir(filepath.Join(dir, "data.init"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "data.init", "PG_VERSION"), []byte("15\n"), 0o600))

	c := start(t, dir)
	require.Equal(t, filepath.Join(dir, "data"), c.DataDir())
	require.Equal(t, "1", queryString(t, connect(t, c, "postgres"), "SELECT '1'"))
	_, err := os.Stat(filepath.Join(dir, "data.init"))
	require.ErrorIs(t, err, os.ErrNotExist)
}

func TestStart_LongDirUsesShortSocketDir(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(reachableDir(t), strings.Repeat("d", 80))
	c := start(t, dir)
	require.True(t, strings.HasPrefix(c.socketDir, "/tmp/bcdr-pg-"), c.socketDir)
	require.Equal(t, "1", queryString(t, connect(t, c, "postgres"), "SELECT '1'"))

	require.NoError(t, c.Stop(t.Context()))
	_, err := os.Stat(c.socketDir)
	require.ErrorIs(t, err, os.ErrNotExist, "Stop removes the short socket directory")
}

func TestStart_AsRootUsesFallbackForUnreachableDir(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the fallback location applies only when running as root")
	}
	t.Parallel()
	private := t.TempDir() // mode 0700, like /root
	require.NoError(t, os.Chmod(private, 0o700))
	dir := filepath.Join(private, "pg")
	fallback := filepath.Join(fallbackRoot, "pg-"+shortHash(dir))
	t.Cleanup(func() { require.NoError(t, os.RemoveAll(fallback)) })
	ctx := t.Context()

	c1 := start(t, dir)
	require.Equal(t, filepath.Join(fallback, "data"), c1.DataDir())
	note, err := os.ReadFile(filepath.Join(dir, locationNote))
	require.NoError(t, err)
	require.Contains(t, string(note), fallback)
	_, err = connect(t, c1, "postgres").Exec(ctx, "CREATE TABLE kept (v int)")
	require.NoError(t, err)
	require.NoError(t, c1.Stop(ctx))

	c2 := start(t, dir)
	require.Equal(t, c1.DataDir(), c2.DataDir(), "the same fallback is found again")
	require.Equal(t, "0", queryString(t, connect(t, c2, "postgres"), "SELECT count(*)::text FROM kept"))
}

func TestEnsureDatabase(t *testing.T) {
	t.Parallel()
	c := start(t, reachableDir(t))
	ctx := t.Context()

	require.NoError(t, c.EnsureDatabase(ctx, "bcdr_app"))
	require.NoError(t, c.EnsureDatabase(ctx, "bcdr_app"), "existing database is fine")
	require.Equal(t, "bcdr_app", queryString(t, connect(t, c, "bcdr_app"), "SELECT current_database()"))

	for _, bad := range []string{"", "Upper", "x; DROP DATABASE postgres", `a"b`, "../etc", "é", strings.Repeat("a", 64)} {
		err := c.EnsureDatabase(ctx, bad)
		require.ErrorContains(t, err, "name must be", "name %q", bad)
	}
}

// fakeBinDir makes dir holding executable stand-ins for names.
func fakeBinDir(t *testing.T, dir string, names ...string) string {
	t.Helper()
	require.NoError(t, os.MkdirAll(dir, 0o755))
	for _, n := range names {
		require.NoError(t, os.WriteFile(filepath.Join(dir, n), []byte("#!/bin/sh\n"), 0o755))
	}
	return dir
}

func TestFindBinDir(t *testing.T) {
	t.Parallel()
	notFound := func(string) (string, error) { return "", errors.New("not found") }
	noPgConfig := func() (string, error) { return "", errors.New("not found") }

	t.Run("nothing installed names initdb and the package", func(t *testing.T) {
		t.Parallel()
		f := binFinder{lookPath: notFound, pgConfig: noPgConfig, debianGlob: filepath.Join(t.TempDir(), "*", "bin")}
		_, err := f.find()
		require.ErrorContains(t, err, "initdb not found on PATH, in pg_config --bindir or ")
		require.ErrorContains(t, err, "install the Debian package postgresql")
	})

	t.Run("a directory lacking pg_ctl names pg_ctl", func(t *testing.T) {
		t.Parallel()
		root := t.TempDir()
		fakeBinDir(t, filepath.Join(root, "15", "bin"), "initdb", "postgres")
		f := binFinder{lookPath: notFound, pgConfig: noPgConfig, debianGlob: filepath.Join(root, "*", "bin")}
		_, err := f.find()
		require.ErrorContains(t, err, "pg_ctl not found")
	})

	t.Run("PATH wins and its symlinks are followed", func(t *testing.T) {
		t.Parallel()
		root := t.TempDir()
		real := fakeBinDir(t, filepath.Join(root, "real"), serverBinaries...)
		onPath := filepath.Join(root, "local-bin")
		require.NoError(t, os.Mkdir(onPath, 0o755))
		require.NoError(t, os.Symlink(filepath.Join(real, "initdb"), filepath.Join(onPath, "initdb")))
		other := fakeBinDir(t, filepath.Join(root, "other"), serverBinaries...)
		f := binFinder{
			lookPath:   func(name string) (string, error) { return filepath.Join(onPath, name), nil },
			pgConfig:   func() (string, error) { return other, nil },
			debianGlob: filepath.Join(root, "*", "bin"),
		}
		got, err := f.find()
		require.NoError(t, err)
		require.Equal(t, real, got)
	})

	t.Run("pg_config before the Debian directories", func(t *testing.T) {
		t.Parallel()
		root := t.TempDir()
		fakeBinDir(t, filepath.Join(root, "16", "bin"), serverBinaries...)
		viaConfig := fakeBinDir(t, filepath.Join(root, "config-bin"), serverBinaries...)
		f := binFinder{lookPath: notFound, pgConfig: func() (string, error) { return viaConfig, nil },
			debianGlob: filepath.Join(root, "*", "bin")}
		got, err := f.find()
		require.NoError(t, err)
		require.Equal(t, viaConfig, got)
	})

	t.Run("newest complete Debian version", func(t *testing.T) {
		t.Parallel()
		root := t.TempDir()
		fakeBinDir(t, filepath.Join(root, "9.6", "bin"), serverBinaries...)
		want := fakeBinDir(t, filepath.Join(root, "13", "bin"), serverBinaries...)
		fakeBinDir(t, filepath.Join(root, "10", "bin"), serverBinaries...)
		fakeBinDir(t, filepath.Join(root, "17", "bin"), "psql") // client only
		f := binFinder{lookPath: notFound, pgConfig: noPgConfig, debianGlob: filepath.Join(root, "*", "bin")}
		got, err := f.find()
		require.NoError(t, err)
		require.Equal(t, want, got)
	})

	t.Run("an existing cluster keeps the version that made it", func(t *testing.T) {
		t.Parallel()
		root := t.TempDir()
		newest := fakeBinDir(t, filepath.Join(root, "17", "bin"), serverBinaries...)
		made := fakeBinDir(t, filepath.Join(root, "15", "bin"), serverBinaries...)
		data := filepath.Join(root, "data")
		require.NoError(t, os.Mkdir(data, 0o700))
		f := binFinder{lookPath: notFound, pgConfig: noPgConfig, debianGlob: filepath.Join(root, "*", "bin")}

		require.NoError(t, os.WriteFile(filepath.Join(data, "PG_VERSION"), []byte("15\n"), 0o600))
		require.Equal(t, made, f.forCluster(data, newest))
		require.NoError(t, os.WriteFile(filepath.Join(data, "PG_VERSION"), []byte("14\n"), 0o600))
		require.Equal(t, newest, f.forCluster(data, newest), "version no longer installed")
	})
}

func TestStart_FailureShowsServerLog(t *testing.T) {
	t.Parallel()
	dir := reachableDir(t)
	ctx := t.Context()
	c := start(t, dir)
	require.NoError(t, c.Stop(ctx))
	conf, err := os.OpenFile(filepath.Join(c.DataDir(), "postgresql.conf"), os.O_WRONLY|os.O_APPEND, 0)
	require.NoError(t, err)
	_, err = conf.WriteString("\nbcdr_no_such_setting = 1\n")
	require.NoError(t, err)
	require.NoError(t, conf.Close())

	_, err = Start(ctx, Config{Dir: dir, Ephemeral: true})
	require.ErrorContains(t, err, "start server")
	require.ErrorContains(t, err, `unrecognized configuration parameter "bcdr_no_such_setting"`)
}
