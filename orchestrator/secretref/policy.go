package secretref

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/bcdr/bcdr/orchestrator"
)

// DefaultEnvPrefix starts the names of the variables an operator exposes
// to references without listing them.
const DefaultEnvPrefix = "BCDR_SECRET_"

// Policy is what the operator exposed to references: variables whose names
// start with EnvPrefix or are listed in ExtraEnv, and files under Dir.
// Nothing else resolves, so that whoever configures a channel, a target or
// a runbook step cannot send any other variable or host file elsewhere.
// The zero Policy exposes DefaultEnvPrefix variables and no files.
type Policy struct {
	// EnvPrefix starts an exposed variable's name [DefaultEnvPrefix].
	EnvPrefix string
	// ExtraEnv lists further exposed variables (BCDR_SECRET_ENV).
	ExtraEnv []string
	// Dir holds the exposed files; empty exposes none. An absolute, clean
	// path.
	Dir string
}

func (p Policy) prefix() string {
	if p.EnvPrefix == "" {
		return DefaultEnvPrefix
	}
	return p.EnvPrefix
}

// Check returns why p itself is unusable: a listed variable that bcdr
// never exposes, or a directory that is not absolute.
func (p Policy) Check() error {
	var problems []string
	if p.EnvPrefix != "" && !envNamePattern.MatchString(p.EnvPrefix) {
		problems = append(problems, fmt.Sprintf("prefix %q is not the start of a variable name", p.EnvPrefix))
	}
	for _, name := range p.ExtraEnv {
		if err := CheckEnvName(name); err != nil {
			problems = append(problems, fmt.Sprintf("%q %s", name, err))
		}
	}
	if p.Dir != "" && (!filepath.IsAbs(p.Dir) || filepath.Clean(p.Dir) != p.Dir) {
		problems = append(problems, fmt.Sprintf("secrets directory %q must be an absolute, clean path", p.Dir))
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// exposed reports whether the operator exposed the variable name.
func (p Policy) exposed(name string) bool {
	return strings.HasPrefix(name, p.prefix()) || slices.Contains(p.ExtraEnv, name)
}

// CheckEnv returns why name is not a variable a reference may name, nil
// when it is; the error's text is a message for the field holding name.
func (p Policy) CheckEnv(name string) error {
	if !envNamePattern.MatchString(name) {
		return CheckEnvName(name)
	}
	// BCDR_SECRET_ENV starts like a secret but is the list of them.
	if strings.HasPrefix(name, p.prefix()) && name != "BCDR_SECRET_ENV" {
		return nil
	}
	if why := reserved(name); why != "" {
		return fmt.Errorf("%q is not a secret bcdr may read: it %s", name, why)
	}
	if !p.exposed(name) {
		return fmt.Errorf("%q is not a secret bcdr may read: name variables %s… or list them in BCDR_SECRET_ENV", name, p.prefix())
	}
	return nil
}

// CheckFile returns why path is not a file a reference may name, nil when
// it is: besides what the package's CheckFile asks, the path must lie
// under Dir. Symbolic links are followed only when the file is read.
func (p Policy) CheckFile(path string) error {
	if err := CheckFile(path); err != nil {
		return err
	}
	if p.Dir == "" {
		return errors.New("cannot be read: no secrets directory is configured (BCDR_SECRETS_DIR)")
	}
	if !Inside(p.Dir, path) {
		return fmt.Errorf("must be a file under the secrets directory %s (BCDR_SECRETS_DIR)", p.Dir)
	}
	return nil
}

// ValidateEnv records on v, under field, why name may not be referenced.
func (p Policy) ValidateEnv(v *orchestrator.Validation, field, name string) {
	if err := p.CheckEnv(name); err != nil {
		v.Add(field, "%s", err)
	}
}

// Validate records on v what is wrong with r under p; see Ref.Validate.
func (p Policy) Validate(r Ref, v *orchestrator.Validation, envField, fileField string, required bool) {
	r.validate(v, envField, fileField, required, p.CheckEnv, p.CheckFile)
}

// Env returns the value of the exposed variable name; see the package's Env.
func (p Policy) Env(lookup Lookup, name string) (string, error) {
	if err := p.CheckEnv(name); err != nil {
		return "", err
	}
	return Env(lookup, name)
}

// Lookup wraps lookup so that it finds exposed variables only, for a
// caller that resolves through a Lookup alone.
func (p Policy) Lookup(lookup Lookup) Lookup {
	return func(name string) (string, bool) {
		if p.CheckEnv(name) != nil {
			return "", false
		}
		return lookup(name)
	}
}

// Path returns the real path of the secret file at path, its symbolic
// links followed, failing unless it lies under Dir: a link planted in the
// directory must not lead out of it. Give a tool the real path.
func (p Policy) Path(path string) (string, error) {
	if err := p.CheckFile(path); err != nil {
		return "", fmt.Errorf("%s %w", path, err)
	}
	return ResolveInside([]string{p.Dir}, path)
}

// Open opens the secret file at path under Dir (see Path), as the
// package's Open does.
func (p Policy) Open(path string) (*os.File, error) {
	real, err := p.Path(path)
	if err != nil {
		return nil, err
	}
	return Open(real)
}

// ReadFile returns the secret in the file at path under Dir; see the
// package's ReadFile.
func (p Policy) ReadFile(path string) ([]byte, error) {
	f, err := p.Open(path)
	if err != nil {
		return nil, err
	}
	return readSecret(f, path)
}

// Resolve returns the secret r references under p: an exposed variable's
// value through lookup, or a file's content under Dir. A zero Ref
// resolves to nil.
func (p Policy) Resolve(r Ref, lookup Lookup) ([]byte, error) {
	switch {
	case r.Env != "":
		v, err := p.Env(lookup, r.Env)
		if err != nil {
			return nil, err
		}
		return []byte(v), nil
	case r.File != "":
		return p.ReadFile(r.File)
	}
	return nil, nil
}

// Private secrets are those only the operator's own configuration names
// (the SMTP password): a reference to one must name what p does NOT
// expose, since anyone who writes a backup target, a channel or a runbook
// may reference what p exposes, and so have it sent where they choose.

// ValidatePrivate records on v what is wrong with r as a reference to a
// private secret: a variable's name that is neither BCDR_SECRET_… nor
// listed in BCDR_SECRET_ENV, or a file outside the secrets directory.
func (p Policy) ValidatePrivate(r Ref, v *orchestrator.Validation, envField, fileField string, required bool) {
	r.validate(v, envField, fileField, required, p.checkPrivateEnv, p.checkPrivateFile)
}

func (p Policy) checkPrivateEnv(name string) error {
	if err := CheckEnvName(name); err != nil {
		return err
	}
	if p.exposed(name) {
		return fmt.Errorf("%q is exposed to secret references (%s… or BCDR_SECRET_ENV), so whoever configures a backup target, "+
			"channel or runbook could have it sent elsewhere: hold this secret in a variable of its own", name, p.prefix())
	}
	return nil
}

func (p Policy) checkPrivateFile(path string) error {
	if err := CheckFile(path); err != nil {
		return err
	}
	if p.Dir != "" && Inside(p.Dir, path) {
		return fmt.Errorf("is under the secrets directory %s, which secret references may read, so whoever configures a backup "+
			"target, channel or runbook could have it sent elsewhere: keep this secret outside it", p.Dir)
	}
	return nil
}

// ResolvePrivate returns the private secret r references (checked by
// ValidatePrivate): a variable's value through lookup, or a file's
// content. A zero Ref resolves to nil.
func (p Policy) ResolvePrivate(r Ref, lookup Lookup) ([]byte, error) {
	var v orchestrator.Validation
	p.ValidatePrivate(r, &v, "env", "file", false)
	if err := v.Err(); err != nil {
		return nil, err
	}
	switch {
	case r.Env != "":
		s, err := Env(lookup, r.Env)
		return []byte(s), err
	case r.File != "":
		return ReadFile(r.File)
	}
	return nil, nil
}
