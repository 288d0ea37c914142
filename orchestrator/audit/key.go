package audit

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// keySize is the length of an audit key's secret in bytes.
const keySize = 32

// Key is the secret that keys row hashes (HMAC-SHA256) and signs anchors.
// It is held outside the database and never sent to it: a database
// superuser who can rewrite rows cannot forge their hashes without it.
type Key struct {
	secret []byte
	id     string
}

// NewKey makes a key of a 32-byte secret.
func NewKey(secret []byte) (Key, error) {
	if len(secret) != keySize {
		return Key{}, fmt.Errorf("audit key must be %d bytes, not %d", keySize, len(secret))
	}
	sum := sha256.Sum256(secret)
	return Key{secret: append([]byte(nil), secret...), id: hex.EncodeToString(sum[:4])}, nil
}

// ID names the key in the rows it keyed: the first 8 hex digits of the
// SHA-256 of its secret, which reveals nothing usable about it.
func (k Key) ID() string { return k.id }

// String names the key without its secret, so a key printed or logged by
// mistake leaks nothing.
func (k Key) String() string { return "audit key " + k.id }

// LogValue keeps the secret out of structured logs.
func (k Key) LogValue() slog.Value { return slog.StringValue(k.String()) }

// mac is the hex HMAC-SHA256 of the concatenated parts.
func (k Key) mac(parts ...[]byte) string {
	h := hmac.New(sha256.New, k.secret)
	for _, p := range parts {
		h.Write(p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

type keyContext struct{}

// WithKey returns a context whose audit rows are keyed with k. Set it once
// on a process's root context; everything derived from it inherits it.
func WithKey(ctx context.Context, k Key) context.Context {
	return context.WithValue(ctx, keyContext{}, k)
}

// KeyFrom returns the context's audit key, if it has one.
func KeyFrom(ctx context.Context) (Key, bool) {
	k, ok := ctx.Value(keyContext{}).(Key)
	return k, ok
}

// LoadKey reads a key file: 64 hex digits, surrounding whitespace ignored.
// A missing file is an error wrapping fs.ErrNotExist.
func LoadKey(path string) (Key, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Key{}, fmt.Errorf("read audit key: %w", err)
	}
	secret, err := hex.DecodeString(strings.TrimSpace(string(raw)))
	if err != nil || len(secret) != keySize {
		return Key{}, fmt.Errorf("audit key %s: must hold %d hex digits", path, 2*keySize)
	}
	return NewKey(secret)
}

// EnsureKey loads the key file, first creating it (mode 0600, 32 random
// bytes in hex) when it is missing; created reports whether this call made
// it. Replicas starting together agree on one key: the file is written
// whole under a private name and linked into place, which fails for every
// caller but the first, and the others then read the winner's file.
func EnsureKey(path string) (k Key, created bool, err error) {
	k, err = LoadKey(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return k, false, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return Key{}, false, fmt.Errorf("create audit key directory: %w", err)
	}
	secret := make([]byte, keySize)
	if _, err := rand.Read(secret); err != nil {
		return Key{}, false, fmt.Errorf("make audit key: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".audit-key-*")
	if err != nil {
		return Key{}, false, fmt.Errorf("create audit key: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.WriteString(hex.EncodeToString(secret) + "\n")
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return Key{}, false, fmt.Errorf("write audit key: %w", err)
	}
	switch err := os.Link(tmp.Name(), path); {
	case err == nil:
		k, err := NewKey(secret)
		return k, true, err
	case errors.Is(err, fs.ErrExist):
		k, err := LoadKey(path)
		return k, false, err
	default:
		return Key{}, false, fmt.Errorf("create audit key %s: %w", path, err)
	}
}
