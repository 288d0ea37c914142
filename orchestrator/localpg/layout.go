package localpg

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Where things live. Config.Dir always holds the lock files; the cluster
// itself lives in its home, which is Config.Dir unless the postgres user
// cannot reach it (see planLayout):
//
//	<home>/data    PGDATA, owned by the server user, 0700
//	<home>/data.init  where initdb works before the result moves to data
//	<home>/run     server log and, when the path is short enough, the socket
const (
	fallbackRoot  = "/var/lib/bcdr"
	locationNote  = "CLUSTER-LOCATION.txt"
	shortSockRoot = "/tmp"
	serverLogName = "server.log"
	// maxSocketDirLen keeps "<dir>/.s.PGSQL.5432" within the 107 bytes a
	// unix socket address holds, with a little to spare.
	maxSocketDirLen = 90
)

// plainPath matches paths that need no quoting in a shell, in
// postgresql.conf or in a list-valued setting such as
// unix_socket_directories.
var plainPath = regexp.MustCompile(`^[A-Za-z0-9/._+-]+$`)

// layout is the set of paths one cluster uses.
type layout struct {
	dir       string // absolute Config.Dir
	home      string
	dataDir   string
	runDir    string
	socketDir string
	logFile   string
}

// planLayout decides where the cluster lives and creates its directories.
//
// As root the server runs as postgres, which must be able to enter the home;
// a checkout under /root (mode 0700) is out of its reach. Then the cluster
// lives in /var/lib/bcdr/pg-<hash of dir> instead, which stays the same for
// the same dir so the cluster is reused, and a note in dir says where it is.
func planLayout(ctx context.Context, dir string, u serverUser) (layout, error) {
	home, err := chooseHome(ctx, dir, u)
	if err != nil {
		return layout{}, err
	}
	if strings.ContainsAny(home, "\"$`\\\n") {
		// pg_ctl pastes -D and -l into a double-quoted shell command.
		return layout{}, fmt.Errorf("use %q as cluster home: pg_ctl cannot quote its characters", home)
	}
	l := layout{
		dir:     dir,
		home:    home,
		dataDir: filepath.Join(home, "data"),
		runDir:  filepath.Join(home, "run"),
	}
	l.logFile = filepath.Join(l.runDir, serverLogName)
	l.socketDir = l.runDir
	if len(l.runDir) > maxSocketDirLen || !plainPath.MatchString(l.runDir) {
		l.socketDir = filepath.Join(shortSockRoot, "bcdr-pg-"+shortHash(home))
	}
	// initdb makes dataDir.
	for _, d := range []string{l.runDir, l.socketDir} {
		if err := u.ensureDir(d); err != nil {
			return layout{}, err
		}
	}
	return l, nil
}

// chooseHome returns dir, or the fallback home when the server user cannot
// reach dir. A fallback that already holds a cluster wins, so the choice
// does not flip between runs.
func chooseHome(ctx context.Context, dir string, u serverUser) (string, error) {
	if !u.switched || initialised(filepath.Join(dir, "data")) {
		return dir, nil
	}
	fallback := filepath.Join(fallbackRoot, "pg-"+shortHash(dir))
	useFallback := initialised(filepath.Join(fallback, "data"))
	if !useFallback {
		ok, err := u.canEnter(ctx, dir)
		if err != nil {
			return "", err
		}
		useFallback = !ok
	}
	if !useFallback {
		return dir, nil
	}
	if err := os.MkdirAll(fallbackRoot, 0o755); err != nil {
		return "", fmt.Errorf("create %s: %w", fallbackRoot, err)
	}
	if err := u.ensureDir(fallback); err != nil {
		return "", err
	}
	if err := writeLocationNote(dir, fallback, u.name); err != nil {
		return "", err
	}
	return fallback, nil
}

// writeLocationNote tells a person looking in dir where the cluster went.
func writeLocationNote(dir, home, account string) error {
	text := fmt.Sprintf("The PostgreSQL cluster for this directory lives in\n%s\n"+
		"because the %s user, which runs the server, cannot enter %s.\n"+
		"bcdr finds it there again on every start.\n", home, account, dir)
	path := filepath.Join(dir, locationNote)
	if old, err := os.ReadFile(path); err == nil && string(old) == text {
		return nil
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		return fmt.Errorf("write cluster location note: %w", err)
	}
	return nil
}

// initialised reports whether dataDir holds a cluster made by initdb.
func initialised(dataDir string) bool {
	_, err := os.Stat(filepath.Join(dataDir, "PG_VERSION"))
	return err == nil
}

// shortHash names a directory derived from path: the first 12 hex digits of
// its SHA-256.
func shortHash(path string) string {
	sum := sha256.Sum256([]byte(path))
	return hex.EncodeToString(sum[:])[:12]
}

// ensureClusterDir creates dir if missing. As root it must be enterable by
// the server user, so a directory we create gets mode 0755; its contents
// that matter are 0700 anyway.
func ensureClusterDir(dir string, u serverUser) error {
	_, err := os.Stat(dir)
	if err == nil {
		return nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("inspect %s: %w", dir, err)
	}
	mode := fs.FileMode(0o700)
	if u.switched {
		mode = 0o755
	}
	if err := os.MkdirAll(dir, mode); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	// MkdirAll is subject to the umask; set the leaf's mode exactly.
	if err := os.Chmod(dir, mode); err != nil {
		return fmt.Errorf("set mode of %s: %w", dir, err)
	}
	return nil
}
