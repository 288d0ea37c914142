// Package localpg runs a private PostgreSQL cluster with the server binaries
// installed on the machine: the database bcdr uses when no DATABASE_URL is
// given, and the one tests run against.
//
// The server listens on no TCP address, only on a unix socket in a directory
// only its owner (and root) can enter, so its trust authentication lets in
// nobody else. As root it runs as the postgres user, because PostgreSQL
// refuses to run as root.
package localpg

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// Config says where the cluster lives.
type Config struct {
	// Dir is the cluster home, e.g. <BCDR_DATA_DIR>/pg; created if missing.
	Dir string
	// Logger receives progress messages; nil discards them.
	Logger *slog.Logger
	// Ephemeral turns off fsync for a throwaway cluster, such as the test
	// harness's: faster, but an OS crash may lose or corrupt its data.
	Ephemeral bool
}

// Cluster is a running, managed PostgreSQL.
type Cluster struct {
	log       *slog.Logger
	user      serverUser
	bin       string
	lay       layout
	ephemeral bool

	socketDir string // as the running server reports it
	port      int

	mu      sync.Mutex
	users   *os.File // our shared hold on usersLock while in use
	stopped bool
}

// Start starts the cluster in cfg.Dir, initialising it on first use, or
// joins the server already running there.
func Start(ctx context.Context, cfg Config) (*Cluster, error) {
	if cfg.Dir == "" {
		return nil, errors.New("start local postgres: no directory given")
	}
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", cfg.Dir, err)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	u, err := currentServerUser()
	if err != nil {
		return nil, err
	}
	bin, err := FindBinDir()
	if err != nil {
		return nil, err
	}
	if err := ensureClusterDir(dir, u); err != nil {
		return nil, err
	}

	startLock, err := lock(ctx, filepath.Join(dir, startLockName), syscall.LOCK_EX)
	if err != nil {
		return nil, err
	}
	defer startLock.Close()
	// Stop holds usersLock exclusively only while holding startLock, so
	// this does not wait.
	users, err := lock(ctx, filepath.Join(dir, usersLockName), syscall.LOCK_SH)
	if err != nil {
		return nil, err
	}

	c := &Cluster{log: log, user: u, bin: bin, ephemeral: cfg.Ephemeral, users: users}
	if err := c.start(ctx, dir); err != nil {
		users.Close()
		c.removeShortSocketDir(false)
		return nil, fmt.Errorf("start local postgres in %s: %w", dir, err)
	}
	return c, nil
}

// start brings the server up while startLock is held.
func (c *Cluster) start(ctx context.Context, dir string) error {
	lay, err := planLayout(ctx, dir, c.user)
	if err != nil {
		return err
	}
	c.lay = lay
	if initialised(lay.dataDir) {
		c.bin = defaultBinFinder().forCluster(lay.dataDir, c.bin)
	} else if err := c.initdb(ctx); err != nil {
		return err
	}
	up, err := c.running(ctx)
	if err != nil {
		return err
	}
	if up {
		c.log.Info("using running PostgreSQL", "data", lay.dataDir)
	} else if err := c.startServer(ctx); err != nil {
		return err
	}
	pid, err := c.waitReady(ctx)
	if err != nil {
		return err
	}
	if pid.socketDir == "" {
		return fmt.Errorf("use server %d in %s: it listens on no unix socket", pid.pid, lay.dataDir)
	}
	c.socketDir, c.port = pid.socketDir, pid.port
	c.log.Info("PostgreSQL ready", "pid", pid.pid, "socket_dir", c.socketDir, "home", lay.home)
	return nil
}

// URL returns a connection URL for database dbname as the superuser
// postgres, through the unix socket; pgx and libpq accept it.
func (c *Cluster) URL(dbname string) string {
	u := url.URL{
		Scheme: "postgres",
		User:   url.User(superuser),
		Path:   "/" + dbname,
		// libpq and pgx decode only %XX in a URL, not + as space.
		RawQuery: "host=" + strings.ReplaceAll(url.QueryEscape(c.socketDir), "+", "%20") +
			"&port=" + strconv.Itoa(c.port) + "&sslmode=disable",
	}
	return u.String()
}

// DataDir returns the cluster's PGDATA directory, which is under
// Config.Dir or, as root when the postgres user cannot reach that, under
// /var/lib/bcdr.
func (c *Cluster) DataDir() string {
	return c.lay.dataDir
}

// Stop stops the server with a fast shutdown unless another Cluster, in
// this process or another, still uses it; then the last one to stop does.
// Calling it again does nothing.
func (c *Cluster) Stop(ctx context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return nil
	}
	startLock, err := lock(ctx, filepath.Join(c.lay.dir, startLockName), syscall.LOCK_EX)
	if err != nil {
		return fmt.Errorf("stop local postgres: %w", err)
	}
	defer startLock.Close()
	c.stopped = true
	c.users.Close()

	last, ok, err := tryLock(filepath.Join(c.lay.dir, usersLockName), syscall.LOCK_EX)
	if err != nil {
		return fmt.Errorf("stop local postgres: %w", err)
	}
	if !ok {
		c.log.Info("leaving PostgreSQL running for its other users", "data", c.lay.dataDir)
		return nil
	}
	defer last.Close()
	if err := c.stopServer(ctx); err != nil {
		return fmt.Errorf("stop local postgres in %s: %w", c.lay.home, err)
	}
	c.removeShortSocketDir(true)
	return nil
}

// removeShortSocketDir removes the socket directory made in /tmp, which is
// made anew at each start, so that /tmp does not collect them. Once the
// server is known to be stopped it goes with whatever the postmaster was
// still removing when pg_ctl returned (the socket's lock file can outlive
// postmaster.pid by a moment); otherwise only an empty one goes, so a live
// server's socket stays.
func (c *Cluster) removeShortSocketDir(serverStopped bool) {
	if c.lay.socketDir == "" || c.lay.socketDir == c.lay.runDir {
		return
	}
	if serverStopped {
		_ = os.RemoveAll(c.lay.socketDir)
	} else {
		_ = os.Remove(c.lay.socketDir)
	}
}
