package localpg

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// serverBinaries are the programs a directory must hold to run a cluster.
var serverBinaries = []string{"initdb", "pg_ctl", "postgres"}

// debianBinGlob is where Debian and Ubuntu keep each major version's server.
const debianBinGlob = "/usr/lib/postgresql/*/bin"

// FindBinDir returns the directory holding the PostgreSQL server binaries
// (initdb, pg_ctl, postgres), looking on PATH, then in pg_config --bindir,
// then in the newest /usr/lib/postgresql/*/bin.
func FindBinDir() (string, error) {
	return defaultBinFinder().find()
}

// binFinder searches for the server binaries; its fields are the outside
// world, so tests can replace them.
type binFinder struct {
	lookPath   func(file string) (string, error)
	pgConfig   func() (string, error) // prints pg_config --bindir
	debianGlob string
}

func defaultBinFinder() binFinder {
	return binFinder{
		lookPath:   exec.LookPath,
		pgConfig:   pgConfigBinDir,
		debianGlob: debianBinGlob,
	}
}

func (f binFinder) find() (string, error) {
	missing := "initdb"
	for _, dir := range f.candidates() {
		m := missingIn(dir)
		if m == "" {
			return dir, nil
		}
		// initdb was found but a sibling is missing: name the sibling.
		if m != "initdb" && missing == "initdb" {
			missing = m
		}
	}
	return "", fmt.Errorf("%s not found on PATH, in pg_config --bindir or %s: "+
		"install the Debian package postgresql (scripts/install-deps.sh postgres)",
		missing, f.debianGlob)
}

// forCluster returns, for an existing cluster, the bin dir of the major
// version that made it when the system keeps several side by side (Debian
// does), since a server cannot open another major version's cluster;
// otherwise it returns found.
func (f binFinder) forCluster(dataDir, found string) string {
	b, err := os.ReadFile(filepath.Join(dataDir, "PG_VERSION"))
	if err != nil {
		return found
	}
	v := strings.TrimSpace(string(b))
	if !majorVersion.MatchString(v) || f.debianGlob == "" {
		return found
	}
	dir := strings.Replace(f.debianGlob, "*", v, 1)
	if dir == found || missingIn(dir) != "" {
		return found
	}
	return dir
}

// majorVersion matches PG_VERSION's contents: "15", or "9.6" before 10.
var majorVersion = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)

// candidates lists directories to try, in order of preference.
func (f binFinder) candidates() []string {
	var dirs []string
	if p, err := f.lookPath("initdb"); err == nil {
		// Resolve symlinks so that /usr/local/bin/initdb -> .../15/bin/initdb
		// yields the directory that also holds psql and postgres.
		if real, err := filepath.EvalSymlinks(p); err == nil {
			p = real
		}
		dirs = append(dirs, filepath.Dir(p))
	}
	if f.pgConfig != nil {
		if dir, err := f.pgConfig(); err == nil && dir != "" {
			dirs = append(dirs, dir)
		}
	}
	if f.debianGlob != "" {
		dirs = append(dirs, newestFirst(f.debianGlob)...)
	}
	return dirs
}

// missingIn returns the first server binary dir lacks, or "" if none.
func missingIn(dir string) string {
	for _, name := range serverBinaries {
		if !isExecutable(filepath.Join(dir, name)) {
			return name
		}
	}
	return ""
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

func pgConfigBinDir() (string, error) {
	p, err := exec.LookPath("pg_config")
	if err != nil {
		return "", err
	}
	out, err := exec.Command(p, "--bindir").Output()
	if err != nil {
		return "", fmt.Errorf("run pg_config --bindir: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// newestFirst expands a glob such as /usr/lib/postgresql/*/bin and orders the
// matches by the version number in the wildcard, highest first.
func newestFirst(glob string) []string {
	matches, err := filepath.Glob(glob)
	if err != nil {
		return nil
	}
	slices.SortFunc(matches, func(a, b string) int {
		return compareVersions(filepath.Base(filepath.Dir(b)), filepath.Base(filepath.Dir(a)))
	})
	return matches
}

// compareVersions orders dotted numeric versions ("9.6" < "10" < "15").
func compareVersions(a, b string) int {
	as, bs := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; i < len(as) || i < len(bs); i++ {
		x, y := versionPart(as, i), versionPart(bs, i)
		if x != y {
			return x - y
		}
	}
	return strings.Compare(a, b)
}

func versionPart(parts []string, i int) int {
	if i >= len(parts) {
		return 0
	}
	n, err := strconv.Atoi(parts[i])
	if err != nil {
		return -1
	}
	return n
}
