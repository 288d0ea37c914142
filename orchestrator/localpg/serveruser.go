package localpg

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"syscall"
	"time"
)

// serverUser is the OS account that owns the cluster's files and runs
// initdb, pg_ctl, psql and the server. PostgreSQL refuses to run as root, so
// when we are root it is the postgres account; otherwise it is ourselves.
type serverUser struct {
	name     string
	uid, gid uint32
	groups   []uint32
	home     string
	switched bool // we are root and run its commands with its credential
}

// postgresAccount is the account the server runs as when bcdr runs as root.
const postgresAccount = "postgres"

// currentServerUser picks the account for this process's effective uid.
func currentServerUser() (serverUser, error) {
	if os.Geteuid() != 0 {
		u, err := user.Current()
		if err != nil {
			return serverUser{}, fmt.Errorf("look up current user: %w", err)
		}
		return toServerUser(u, false)
	}
	u, err := user.Lookup(postgresAccount)
	if err != nil {
		return serverUser{}, fmt.Errorf("look up user %s to run PostgreSQL as (it refuses to run as root; "+
			"installing the Debian package postgresql creates the user): %w", postgresAccount, err)
	}
	return toServerUser(u, true)
}

func toServerUser(u *user.User, switched bool) (serverUser, error) {
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return serverUser{}, fmt.Errorf("parse uid of %s: %w", u.Username, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return serverUser{}, fmt.Errorf("parse gid of %s: %w", u.Username, err)
	}
	su := serverUser{name: u.Username, uid: uint32(uid), gid: uint32(gid), home: u.HomeDir, switched: switched}
	if switched {
		// Supplementary groups matter (e.g. ssl-cert); without them the
		// child would keep root's groups.
		ids, err := u.GroupIds()
		if err != nil {
			return serverUser{}, fmt.Errorf("look up groups of %s: %w", u.Username, err)
		}
		for _, id := range ids {
			g, err := strconv.ParseUint(id, 10, 32)
			if err != nil {
				return serverUser{}, fmt.Errorf("parse group id %q of %s: %w", id, u.Username, err)
			}
			su.groups = append(su.groups, uint32(g))
		}
	}
	if su.home == "" {
		su.home = "/"
	}
	return su, nil
}

// command prepares name to run as the server user in a minimal environment,
// so stray PG* variables or a root-only working directory cannot interfere.
func (u serverUser) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	// On cancellation ask politely first: initdb removes what it made and
	// pg_ctl exits cleanly on SIGTERM.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second
	cmd.Dir = "/"
	cmd.Env = []string{
		"PATH=" + envOr("PATH", "/usr/local/bin:/usr/bin:/bin"),
		"HOME=" + u.home,
		"USER=" + u.name,
		"LOGNAME=" + u.name,
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{}
	if u.switched {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: u.uid, Gid: u.gid, Groups: u.groups}
	}
	return cmd
}

func envOr(key, fallback string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return fallback
}

// canEnter reports whether the server user can search dir, which needs
// search permission on every ancestor too. It asks the kernel by running
// test(1) with the user's credential rather than reimplementing the rules
// (ACLs, groups, mounts).
func (u serverUser) canEnter(ctx context.Context, dir string) (bool, error) {
	if !u.switched {
		return true, nil
	}
	testBin, err := exec.LookPath("test")
	if err != nil {
		return false, fmt.Errorf("find test(1) to check access as %s: %w", u.name, err)
	}
	err = u.command(ctx, testBin, "-d", dir, "-a", "-x", dir).Run()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &exitErr) && exitErr.ExitCode() == 1:
		return false, nil
	default:
		return false, fmt.Errorf("check access to %s as %s: %w", dir, u.name, err)
	}
}

// ensureDir makes path a directory owned by the server user with mode 0700.
// A directory it creates is handed to the user; an existing one must
// already belong to it, because taking over someone else's directory (say,
// one planted in /tmp) would be unsafe.
func (u serverUser) ensureDir(path string) error {
	err := os.Mkdir(path, 0o700)
	created := err == nil
	if err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("create %s: %w", path, err)
	}
	if created && u.switched {
		if err := os.Chown(path, int(u.uid), int(u.gid)); err != nil {
			return fmt.Errorf("hand %s to %s: %w", path, u.name, err)
		}
	}
	fi, err := os.Lstat(path)
	if err != nil {
		return fmt.Errorf("inspect %s: %w", path, err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("use %s: not a directory", path)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Uid != u.uid {
		return fmt.Errorf("use %s: owned by uid %d, not %s (uid %d): fix its owner or remove it",
			path, st.Uid, u.name, u.uid)
	}
	if fi.Mode().Perm() != 0o700 {
		if err := os.Chmod(path, 0o700); err != nil {
			return fmt.Errorf("restrict %s: %w", path, err)
		}
	}
	return nil
}
