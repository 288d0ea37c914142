// Package secretref is the one rule for references to secrets. bcdr never
// stores a secret: a notification channel's signing secret, a backup
// target's password or token, the credentials of a runbook's automated
// step are each named by an environment variable (set on every replica) or
// by the absolute path of a file holding it. This package decides which
// names and paths are acceptable, with messages naming the field, and
// resolves a reference to its value, so that every capability accepts and
// refuses the same references.
//
// A reference resolves only to what the operator exposed (a Policy, given
// by the composition root): variables named BCDR_SECRET_… or listed in
// BCDR_SECRET_ENV, and files under the secrets directory, symbolic links
// followed. Anything else would let whoever configures a channel or a
// target send bcdr's environment (its database credentials among it) or a
// host file to an address of their choosing.
//
// A variable name is upper-case letters, digits and _, at most
// MaxNameBytes, and never one of bcdr's own settings (BCDR_* but
// BCDR_SECRET_*, *DATABASE_URL)
// or a variable bcdr sets for the tools it runs (PATH, HOME, LANG, TZ),
// even when listed. A file path is absolute, clean, a single file (no
// glob), printable and at most MaxPathBytes.
package secretref

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"

	"github.com/bcdr/bcdr/orchestrator"
)

// Bounds of a reference and of a secret read from a file.
const (
	MaxNameBytes = 64
	MaxPathBytes = 1024
	MaxFileBytes = 4096
)

// envNamePattern is what an environment variable reference looks like, at
// most MaxNameBytes long.
var envNamePattern = regexp.MustCompile(`^[A-Z_][A-Z0-9_]{0,63}$`)

// CheckEnvName returns why name is not an acceptable reference to an
// environment variable, nil when it is; the error's text is a message for
// the field that holds name.
func CheckEnvName(name string) error {
	switch {
	case !envNamePattern.MatchString(name):
		return fmt.Errorf("must be the name of an environment variable (A-Z, 0-9, _; at most %d), "+
			"not a value and not the secret itself", MaxNameBytes)
	case reserved(name) == ownConfiguration:
		return errors.New("must not name bcdr's own configuration")
	case reserved(name) != "":
		return errors.New(reserved(name))
	}
	return nil
}

// ownConfiguration is why a bcdr setting is never a secret.
const ownConfiguration = "names bcdr's own configuration"

// reserved says why name is never a secret, "" when it may be one.
func reserved(name string) string {
	switch {
	case name == "BCDR_SECRET_ENV":
		return ownConfiguration
	case strings.HasPrefix(name, DefaultEnvPrefix):
		return ""
	case strings.HasPrefix(name, "BCDR_") || strings.HasSuffix(name, "DATABASE_URL"):
		return ownConfiguration
	case name == "PATH" || name == "HOME" || name == "LANG" || name == "TZ":
		return "is set by bcdr itself for every tool it runs (PATH, HOME, LANG, TZ)"
	}
	return ""
}

// CheckFile returns why path is not an acceptable reference to a file
// holding a secret, nil when it is; the error's text is a message for the
// field that holds path.
func CheckFile(path string) error {
	switch {
	case path == "":
		return errors.New("is required")
	case len(path) > MaxPathBytes || strings.ContainsFunc(path, notPrintable):
		return fmt.Errorf("must be printable text of at most %d bytes", MaxPathBytes)
	case !filepath.IsAbs(path):
		return errors.New("must be an absolute path to the file holding the secret, not the secret itself")
	case filepath.Clean(path) != path:
		return errors.New("must be a clean path (no '..', '//' or trailing '/')")
	case strings.ContainsAny(path, "*?["):
		return errors.New("must be a single file, not a pattern")
	}
	return nil
}

// notPrintable is a control character, or U+FFFD, which is also what
// invalid UTF-8 decodes to.
func notPrintable(r rune) bool { return r < 0x20 || r == 0x7f || r == 0xfffd }

// Ref references one secret: the name of an environment variable or the
// absolute path of a file holding it; at most one of them is set.
type Ref struct {
	Env  string
	File string
}

// validate records on v what is wrong with r, checking a variable with
// checkEnv and a file with checkFile. envField and fileField are the
// fields that hold Env and File ("config.password_env"). With required, a
// reference must be given.
func (r Ref) validate(v *orchestrator.Validation, envField, fileField string, required bool,
	checkEnv, checkFile func(string) error) {
	switch {
	case r.Env != "" && r.File != "":
		v.Add(envField, "give %s or %s, not both", last(envField), last(fileField))
	case r.Env != "":
		if err := checkEnv(r.Env); err != nil {
			v.Add(envField, "%s", err)
		}
	case r.File != "":
		if err := checkFile(r.File); err != nil {
			v.Add(fileField, "%s", err)
		}
	case required:
		v.Add(envField, "is required (or %s): the secret is referenced, never stored", last(fileField))
	}
}

// last is a field's own name, without the path to it.
func last(field string) string { return field[strings.LastIndexByte(field, '.')+1:] }

// Lookup finds the value of an environment variable, as os.LookupEnv does;
// replicas pass os.LookupEnv and tests their own.
type Lookup func(name string) (string, bool)

// ErrNotSet says a referenced environment variable is missing or empty.
var ErrNotSet = errors.New("is not set")

// Env returns the value of the variable name, or an error wrapping
// ErrNotSet when it is missing or empty: an empty secret is never meant.
func Env(lookup Lookup, name string) (string, error) {
	v, ok := lookup(name)
	if !ok || v == "" {
		return "", fmt.Errorf("environment variable %s %w", name, ErrNotSet)
	}
	return v, nil
}

// Open opens the file at path for whoever reads the secret from it (a tool
// given the descriptor), failing unless it is a regular file: a FIFO or a
// device would block or never end. It opens without blocking, which a
// FIFO with no writer would otherwise do, and which changes nothing for a
// regular file.
func Open(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("%s cannot be read: %w", path, unwrapPathError(err))
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	return f, nil
}

// ReadFile returns the secret in the file at path: a regular file of at
// most MaxFileBytes, trailing line breaks dropped, not empty. It reads any
// path; references are read through Policy.ReadFile.
func ReadFile(path string) ([]byte, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	return readSecret(f, path)
}

// readSecret reads and closes f, the secret file at path.
func readSecret(f *os.File, path string) ([]byte, error) {
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	switch {
	case err != nil:
		return nil, fmt.Errorf("read %s: %w", path, err)
	case len(b) > MaxFileBytes:
		return nil, fmt.Errorf("%s is larger than %d bytes", path, MaxFileBytes)
	}
	b = []byte(strings.TrimRight(string(b), "\r\n"))
	if len(b) == 0 {
		return nil, fmt.Errorf("%s is empty", path)
	}
	return b, nil
}

// unwrapPathError keeps the cause of an *os.PathError ("permission
// denied"), whose own text repeats the operation and the path.
func unwrapPathError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
