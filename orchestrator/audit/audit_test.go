package audit

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/postgres/pgtest"
)

func testKey(t *testing.T, fill byte) Key {
	t.Helper()
	k, err := NewKey(bytes.Repeat([]byte{fill}, keySize))
	require.NoError(t, err)
	return k
}

// bundle is a database with a chain of 2 unkeyed rows (from before the
// key) and 4 keyed ones, and the context that keys them.
type bundle struct {
	pool *pgxpool.Pool
	key  Key
	ctx  context.Context
	ids  []int64
}

func setup(t *testing.T) *bundle {
	t.Helper()
	b := &bundle{pool: pgtest.New(t), key: testKey(t, 1)}
	plain := orchestrator.WithActor(t.Context(), orchestrator.Actor{Name: "tester", Role: orchestrator.RoleAdmin})
	b.ctx = WithKey(plain, b.key)
	for i := range 6 {
		ctx := b.ctx
		if i < 2 {
			ctx = plain
		}
		require.NoError(t, Record(ctx, b.pool, Change{Action: "create", Resource: "tokens", ResourceID: fmt.Sprint(i), Summary: fmt.Sprintf("row %d", i)}))
	}
	rows, err := b.pool.Query(t.Context(), `SELECT id FROM audit_log ORDER BY id`)
	require.NoError(t, err)
	b.ids, err = pgx.CollectRows(rows, pgx.RowTo[int64])
	require.NoError(t, err)
	return b
}

// asSuperuser runs sql with the append-only triggers off, as a database
// superuser could.
func (b *bundle) asSuperuser(t *testing.T, fn func(conn *pgxpool.Conn)) {
	t.Helper()
	conn, err := b.pool.Acquire(t.Context())
	require.NoError(t, err)
	defer conn.Release()
	_, err = conn.Exec(t.Context(), `SET session_replication_role = replica`)
	require.NoError(t, err)
	fn(conn)
	_, err = conn.Exec(t.Context(), `RESET session_replication_role`)
	require.NoError(t, err)
}

// rewrite changes the summary of row from and recomputes the hash of it and
// every later row with hash, which returns the key id and hash to store.
func (b *bundle) rewrite(t *testing.T, from int64, hash func(e Entry) (string, string)) {
	t.Helper()
	b.asSuperuser(t, func(conn *pgxpool.Conn) {
		_, err := conn.Exec(t.Context(), `UPDATE audit_log SET summary = 'nothing happened' WHERE id = $1`, from)
		require.NoError(t, err)
		rows, err := conn.Query(t.Context(), `SELECT id, at, actor, role, action, resource, resource_id, request_id, summary, prev_hash, hash, key_id
			FROM audit_log ORDER BY id`)
		require.NoError(t, err)
		entries, err := pgx.CollectRows(rows, pgx.RowToStructByPos[Entry])
		require.NoError(t, err)
		prev := ""
		for _, e := range entries {
			if e.ID >= from {
				e.PrevHash = prev
				keyID, h := hash(e)
				_, err := conn.Exec(t.Context(), `UPDATE audit_log SET prev_hash = $2, hash = $3, key_id = $4 WHERE id = $1`, e.ID, e.PrevHash, h, keyID)
				require.NoError(t, err)
				e.Hash = h
			}
			prev = e.Hash
		}
	})
}

func TestKeyedChainVerifies(t *testing.T) {
	t.Parallel()
	b := setup(t)
	v, err := Verify(b.ctx, b.pool)
	require.NoError(t, err)
	require.Equal(t, Verification{OK: true, Checked: 6, Keyed: 4}, v)

	var keyIDs []string
	rows, err := b.pool.Query(t.Context(), `SELECT key_id FROM audit_log ORDER BY id`)
	require.NoError(t, err)
	keyIDs, err = pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	require.Equal(t, []string{"", "", b.key.ID(), b.key.ID(), b.key.ID(), b.key.ID()}, keyIDs)

	// Without the key nothing about a keyed row can be checked.
	_, err = Verify(t.Context(), b.pool)
	require.Equal(t, orchestrator.EINVALID, orchestrator.ErrorCode(err))
	require.ErrorContains(t, err, "keyed with key "+b.key.ID())

	// Listing shows which rows are keyed.
	list, err := List(t.Context(), b.pool, Filter{}, orchestrator.Page{Limit: 10})
	require.NoError(t, err)
	require.Equal(t, b.key.ID(), list.Items[0].KeyID)
	require.Empty(t, list.Items[5].KeyID)
}

// Once the chain is keyed, a writer without the key or with another key
// is refused rather than writing a row verification would reject.
func TestRecordRefusesAnotherKey(t *testing.T) {
	t.Parallel()
	b := setup(t)
	plain := orchestrator.WithActor(t.Context(), orchestrator.Actor{Name: "tester", Role: orchestrator.RoleAdmin})
	err := Record(plain, b.pool, Change{Action: "create", Resource: "tokens"})
	require.ErrorContains(t, err, "keyed with key "+b.key.ID()+" but this process has no key")
	other := testKey(t, 2)
	err = Record(WithKey(plain, other), b.pool, Change{Action: "create", Resource: "tokens"})
	require.ErrorContains(t, err, "but this process has key "+other.ID())
	v, err := Verify(b.ctx, b.pool)
	require.NoError(t, err)
	require.True(t, v.OK)
	require.EqualValues(t, 6, v.Checked)
}

// A superuser who rewrites a keyed row and recomputes every later hash is
// caught whatever hash they recompute with.
func TestRewritingKeyedRowsIsDetected(t *testing.T) {
	t.Parallel()
	wrong := testKey(t, 9)
	for _, tc := range []struct {
		name    string
		hash    func(real Key) func(e Entry) (string, string)
		problem string
	}{
		{"recomputed as plain SHA-256", func(Key) func(Entry) (string, string) {
			return func(e Entry) (string, string) { e.KeyID = ""; return "", e.computeHash(Key{}) }
		}, "is not keyed although rows before it are"},
		{"recomputed with a wrong key under the real key's id", func(real Key) func(Entry) (string, string) {
			return func(e Entry) (string, string) { e.KeyID = real.ID(); return real.ID(), e.computeHash(wrong) }
		}, "row content does not match its hash"},
		{"recomputed with a wrong key under its own id", func(Key) func(Entry) (string, string) {
			return func(e Entry) (string, string) { e.KeyID = wrong.ID(); return wrong.ID(), e.computeHash(wrong) }
		}, "is keyed with key " + wrong.ID() + ", not with"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			target := b.ids[3]
			b.rewrite(t, target, tc.hash(b.key))
			v, err := Verify(b.ctx, b.pool)
			require.NoError(t, err)
			require.False(t, v.OK)
			require.Equal(t, target, v.BadID)
			require.Contains(t, v.Problem, tc.problem)
		})
	}
}

// Attacks that leave a chain which verifies are caught by an anchor taken
// before them.
func TestAnchorsDetectWhatTheChainCannot(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		attack  func(t *testing.T, b *bundle)
		badID   func(b *bundle) int64
		problem string
	}{
		{"newest rows deleted", func(t *testing.T, b *bundle) {
			b.asSuperuser(t, func(conn *pgxpool.Conn) {
				_, err := conn.Exec(t.Context(), `DELETE FROM audit_log WHERE id >= $1`, b.ids[4])
				require.NoError(t, err)
			})
		}, func(b *bundle) int64 { return b.ids[5] }, "row " + "%d" + ", anchored at"},
		{"table truncated", func(t *testing.T, b *bundle) {
			b.asSuperuser(t, func(conn *pgxpool.Conn) {
				_, err := conn.Exec(t.Context(), `TRUNCATE audit_log`)
				require.NoError(t, err)
			})
		}, func(b *bundle) int64 { return b.ids[5] }, "the audit log is empty, but 6 rows up to row %d had been anchored"},
		{"every row rewritten as plain SHA-256", func(t *testing.T, b *bundle) {
			b.rewrite(t, b.ids[0], func(e Entry) (string, string) { e.KeyID = ""; return "", e.computeHash(Key{}) })
		}, func(b *bundle) int64 { return b.ids[5] }, "row %d does not have the hash anchored"},
		{"a middle row deleted and the chain relinked", func(t *testing.T, b *bundle) {
			b.asSuperuser(t, func(conn *pgxpool.Conn) {
				_, err := conn.Exec(t.Context(), `DELETE FROM audit_log WHERE id = $1`, b.ids[0])
				require.NoError(t, err)
			})
			b.rewrite(t, b.ids[1], func(e Entry) (string, string) { e.KeyID = ""; return "", e.computeHash(Key{}) })
		}, func(b *bundle) int64 { return b.ids[5] }, "row %d does not have the hash anchored"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			line, ok, err := AnchorLine(b.ctx, b.pool)
			require.NoError(t, err)
			require.True(t, ok)
			require.Regexp(t, fmt.Sprintf(`^bcdr-audit-anchor v1 at=\S+Z id=%d rows=6 hash=[0-9a-f]{64} sig=[0-9a-f]{64}$`, b.ids[5]), line)
			anchors, err := ParseAnchors(strings.NewReader(line+"\n"), b.key)
			require.NoError(t, err)
			v, err := CheckAnchors(b.ctx, b.pool, anchors)
			require.NoError(t, err)
			require.True(t, v.OK)

			tc.attack(t, b)
			v, err = CheckAnchors(b.ctx, b.pool, anchors)
			require.NoError(t, err)
			require.False(t, v.OK)
			require.Equal(t, tc.badID(b), v.BadID)
			require.Contains(t, v.Problem, fmt.Sprintf(tc.problem, tc.badID(b)))
		})
	}
}

func TestAnchorLineRefusesBadSignatures(t *testing.T) {
	t.Parallel()
	key := testKey(t, 1)
	a := Anchor{ID: 42, Rows: 40, Hash: strings.Repeat("ab", 32)}
	line := a.Sign(key)
	anchors, err := ParseAnchors(strings.NewReader("# anchors\n\n"+line+"\n"+line+"\n"), key)
	require.NoError(t, err)
	require.Len(t, anchors, 2)
	require.Equal(t, int64(42), anchors[0].ID)
	require.Equal(t, int64(40), anchors[0].Rows)
	require.Equal(t, 3, anchors[0].Line)

	for name, text := range map[string]string{
		"rows changed":    strings.Replace(line, "rows=40", "rows=4", 1),
		"id changed":      strings.Replace(line, "id=42", "id=41", 1),
		"signed by other": a.Sign(testKey(t, 2)),
		"signature cut":   line[:len(line)-2],
	} {
		_, err := ParseAnchors(strings.NewReader(line+"\n"+text+"\n"), key)
		require.ErrorContains(t, err, "line 2: anchor signature does not match", name)
	}
	_, err = ParseAnchors(strings.NewReader("hello world\n"), key)
	require.ErrorContains(t, err, `line 1: not a "bcdr-audit-anchor v1" line`)
}

// Replicas starting together with one key file agree on one key, kept
// readable only by its owner.
func TestEnsureKeyCreatesOnce(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "sub", "audit-key")
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		ids     = map[string]bool{}
		created int
	)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k, made, err := EnsureKey(path)
			require.NoError(t, err)
			mu.Lock()
			defer mu.Unlock()
			ids[k.ID()] = true
			if made {
				created++
			}
		}()
	}
	wg.Wait()
	require.Equal(t, 1, created)
	require.Len(t, ids, 1)
	st, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	entries, err := os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary files left behind")

	k, err := LoadKey(path)
	require.NoError(t, err)
	require.True(t, ids[k.ID()])

	require.NoError(t, os.WriteFile(path, []byte("not hex\n"), 0o600))
	_, _, err = EnsureKey(path)
	require.ErrorContains(t, err, "must hold 64 hex digits")
}

// A key printed or logged by mistake shows its id, never its secret.
func TestKeyDoesNotLeak(t *testing.T) {
	t.Parallel()
	k := testKey(t, 0xab)
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("key", "key", k)
	for _, s := range []string{fmt.Sprint(k), fmt.Sprintf("%v %+v", k, k), logged.String()} {
		require.NotContains(t, s, "abababab")
		require.Contains(t, s, k.ID())
	}
}
