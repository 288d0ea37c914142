package localpg

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
)

// dbName limits the names EnsureDatabase accepts to ones that need no
// quoting rules beyond double quotes and cannot carry SQL.
var dbName = regexp.MustCompile(`^[a-z0-9_]{1,63}$`)

// EnsureDatabase creates database name unless it exists. The name must
// match [a-z0-9_]+ and be at most 63 bytes long.
func (c *Cluster) EnsureDatabase(ctx context.Context, name string) error {
	if !dbName.MatchString(name) {
		return fmt.Errorf("ensure database %q: name must be 1-63 characters of a-z, 0-9 and _", name)
	}
	exists, err := c.databaseExists(ctx, name)
	if err != nil {
		return fmt.Errorf("ensure database %s: %w", name, err)
	}
	if exists {
		return nil
	}
	c.log.Info("creating database", "name", name)
	if _, cerr := c.psql(ctx, `CREATE DATABASE "`+name+`"`); cerr != nil {
		// Another process may have created it meanwhile.
		if exists, err := c.databaseExists(ctx, name); err == nil && exists {
			return nil
		}
		return fmt.Errorf("create database %s: %w", name, cerr)
	}
	return nil
}

func (c *Cluster) databaseExists(ctx context.Context, name string) (bool, error) {
	out, err := c.psql(ctx, `SELECT 1 FROM pg_database WHERE datname = '`+name+`'`)
	if err != nil {
		return false, err
	}
	return out == "1", nil
}

// psql runs one statement in the postgres database with the cluster's own
// psql, as the server user, ignoring any ~/.psqlrc, and returns the
// unaligned, tuples-only output.
func (c *Cluster) psql(ctx context.Context, sql string) (string, error) {
	return c.run(ctx, "psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
		"-h", c.socketDir, "-p", strconv.Itoa(c.port), "-U", superuser, "-d", "postgres",
		"-c", sql)
}
