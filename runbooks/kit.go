package runbooks

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/audit"
)

// ManifestName is the kit's manifest file.
const ManifestName = "manifest.json"

// KitFormat identifies the manifest layout.
const KitFormat = "bcdr-continuity-kit/1"

// AuditAnchorName is the kit's signed anchor of the audit chain, written
// when the kit is made with the audit key.
const AuditAnchorName = "audit-anchor.txt"

// Manifest lists every file of an offline continuity kit with its SHA-256,
// and when the kit was made.
type Manifest struct {
	Format    string     `json:"format"`
	CreatedAt time.Time  `json:"created_at"`
	Runbooks  int        `json:"runbooks"`
	Files     []KitEntry `json:"files"`
}

// KitEntry is one file of a kit.
type KitEntry struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	Bytes  int64  `json:"bytes"`
}

// KitSink receives the files of a kit. modified is when the kit was made,
// for sinks that date their entries.
type KitSink interface {
	Create(name string, modified time.Time) (io.WriteCloser, error)
}

// kitWriter hashes every file it writes into the manifest.
type kitWriter struct {
	sink     KitSink
	manifest Manifest
}

func (w *kitWriter) put(name string, content []byte) error {
	f, err := w.sink.Create(name, w.manifest.CreatedAt)
	if err != nil {
		return fmt.Errorf("write kit file %s: %w", name, err)
	}
	if _, err := f.Write(content); err != nil {
		f.Close()
		return fmt.Errorf("write kit file %s: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write kit file %s: %w", name, err)
	}
	sum := sha256.Sum256(content)
	w.manifest.Files = append(w.manifest.Files, KitEntry{Path: name, SHA256: hex.EncodeToString(sum[:]), Bytes: int64(len(content))})
	return nil
}

// WriteKit writes the offline continuity kit into sink: every approved
// runbook in force as HTML, Markdown and JSON, the contacts and call
// trees, a CSV snapshot of every CI in any runbook's scope, the audit
// chain's signed anchor (when ctx has the audit key), an index page
// linking it all, and last the manifest.
func (s *Service) WriteKit(ctx context.Context, sink KitSink) (Manifest, error) {
	w := &kitWriter{sink: sink, manifest: Manifest{Format: KitFormat, CreatedAt: s.rt.Now().UTC(), Files: []KitEntry{}}}
	rows, err := s.pool.Query(ctx, `SELECT r.id FROM runbooks r WHERE r.retired_at IS NULL
		AND EXISTS (SELECT 1 FROM runbook_versions v WHERE v.runbook_id = r.id AND v.status = 'approved') ORDER BY r.id`)
	if err != nil {
		return Manifest{}, fmt.Errorf("list approved runbooks: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return Manifest{}, fmt.Errorf("list approved runbooks: %w", err)
	}
	var docs []Document
	scope := map[string]bool{}
	for _, id := range ids {
		doc, err := s.Document(ctx, fmt.Sprint(id), "")
		if err != nil {
			return Manifest{}, err
		}
		doc.ExportedAt = w.manifest.CreatedAt
		for _, format := range Formats {
			content, err := Render(doc, format)
			if err != nil {
				return Manifest{}, err
			}
			if err := w.put(path.Join("runbooks", fileStem(doc)+"."+format), content); err != nil {
				return Manifest{}, err
			}
		}
		for _, k := range doc.Version.ScopeCIs {
			scope[k] = true
		}
		docs = append(docs, doc)
	}
	w.manifest.Runbooks = len(docs)
	dir, err := s.directoryFiles(ctx)
	if err != nil {
		return Manifest{}, err
	}
	for _, f := range dir {
		if err := w.put(f.name, f.content); err != nil {
			return Manifest{}, err
		}
	}
	snapshot, err := s.cmdbSnapshot(ctx, sortedKeys(scope))
	if err != nil {
		return Manifest{}, err
	}
	if err := w.put("cmdb.csv", snapshot); err != nil {
		return Manifest{}, err
	}
	// The audit chain's head, signed, leaves with the kit: `bcdr audit
	// verify --anchor` holds the database to it. Without the key there is
	// nothing to sign.
	anchor, keyed, err := audit.AnchorLine(ctx, s.pool)
	if err != nil {
		return Manifest{}, err
	}
	if keyed {
		if err := w.put(AuditAnchorName, []byte(anchor+"\n")); err != nil {
			return Manifest{}, err
		}
	}
	if err := w.put("index.html", renderIndex(w.manifest, docs)); err != nil {
		return Manifest{}, err
	}
	body, err := json.MarshalIndent(w.manifest, "", "  ")
	if err != nil {
		return Manifest{}, err
	}
	f, err := sink.Create(ManifestName, w.manifest.CreatedAt)
	if err == nil {
		_, err = f.Write(body)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return Manifest{}, fmt.Errorf("write kit manifest: %w", err)
	}
	return w.manifest, nil
}

// cmdbSnapshot writes the CIs with keys as CSV, with the relations from
// each.
func (s *Service) cmdbSnapshot(ctx context.Context, keys []string) ([]byte, error) {
	rows, err := s.pool.Query(ctx, `SELECT c.key, c.name, c.class, c.environment, c.site, c.owner, c.status, c.data_bearing,
		c.recovery_strategy, c.recovery_estimate_s,
		coalesce((SELECT string_agg(r.type || ' ' || t.key || CASE WHEN r.grp <> '' THEN ' (group ' || r.grp || ', min_up ' || r.min_up || ')' ELSE '' END, '; ' ORDER BY r.type, t.key)
			FROM relations r JOIN cis t ON t.id = r.to_id WHERE r.from_id = c.id), '')
		FROM cis c WHERE c.key = ANY($1) ORDER BY c.key`, keys)
	if err != nil {
		return nil, fmt.Errorf("snapshot CMDB: %w", err)
	}
	defer rows.Close()
	var buf bytes.Buffer
	out := csv.NewWriter(&buf)
	_ = out.Write([]string{"key", "name", "class", "environment", "site", "owner", "status", "data_bearing",
		"recovery_strategy", "recovery_estimate", "relations"})
	for rows.Next() {
		var (
			rec      [11]string
			data     bool
			estimate int64
		)
		if err := rows.Scan(&rec[0], &rec[1], &rec[2], &rec[3], &rec[4], &rec[5], &rec[6], &data, &rec[8], &estimate, &rec[10]); err != nil {
			return nil, fmt.Errorf("snapshot CMDB: %w", err)
		}
		rec[7] = fmt.Sprint(data)
		rec[9] = durationOf(estimate)
		if err := out.Write(orchestrator.SpreadsheetSafe(rec[:]...)); err != nil {
			return nil, err
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("snapshot CMDB: %w", err)
	}
	out.Flush()
	return buf.Bytes(), out.Error()
}

// DirSink writes kit files under a directory through os.Root, so no name
// can reach outside it.
type DirSink struct{ root *os.Root }

// NewDirSink creates dir if needed; it must be empty, so a kit never mixes
// with an older one's files.
func NewDirSink(dir string) (*DirSink, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create kit directory: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read kit directory: %w", err)
	}
	if len(entries) > 0 {
		return nil, fmt.Errorf("kit directory %s is not empty", dir)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("open kit directory: %w", err)
	}
	return &DirSink{root: root}, nil
}

// Create opens a new file, making its parent directories. A file on disk
// keeps the time it was written: that is within moments of modified.
func (d *DirSink) Create(name string, _ time.Time) (io.WriteCloser, error) {
	if dir := path.Dir(name); dir != "." {
		if err := d.root.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
	}
	return d.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
}

// Close releases the directory.
func (d *DirSink) Close() error { return d.root.Close() }

// ZipSink writes kit files into a zip archive.
type ZipSink struct{ zw *zip.Writer }

// NewZipSink writes a zip archive to w; Close finishes it.
func NewZipSink(w io.Writer) *ZipSink { return &ZipSink{zw: zip.NewWriter(w)} }

// Create starts a new entry dated modified; without a date, zip tools
// would show the entry as made on 1980-00-00.
func (z *ZipSink) Create(name string, modified time.Time) (io.WriteCloser, error) {
	w, err := z.zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: modified})
	if err != nil {
		return nil, err
	}
	return nopCloser{w}, nil
}

// Close writes the archive's directory.
func (z *ZipSink) Close() error { return z.zw.Close() }

// nopCloser lets a zip entry writer pass for a file.
type nopCloser struct{ io.Writer }

// Close does nothing: the next Create or Close of the archive ends the entry.
func (nopCloser) Close() error { return nil }
