package postgres

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DumpFormat names the layout of a dump: a gzip stream of lines,
//
//	bcdr-dump/1
//	header {"schema_version":13,"created_at":"…"}
//	table {"name":"cis","columns":["id","key",…]}
//	<the table's rows in COPY text format>
//	\.
//	… one table block per table, parents before the tables referring to them …
//	sequence {"name":"cis_id_seq","last_value":490,"is_called":true}
//	end {"tables":52,"rows":123456,"sha256":"<hex of every byte before this line>"}
//
// COPY's text format escapes backslashes, so no row is the line `\.`.
const DumpFormat = "bcdr-dump/1"

// versionTable is goose's bookkeeping, which the migrator, not the dump,
// restores.
const versionTable = "goose_db_version"

// DumpHeader says what a dump holds.
type DumpHeader struct {
	SchemaVersion int64     `json:"schema_version"`
	CreatedAt     time.Time `json:"created_at"`
}

// DumpSummary counts what a dump holds or a restore wrote.
type DumpSummary struct {
	DumpHeader
	Tables int              `json:"tables"`
	Rows   int64            `json:"rows"`
	Counts map[string]int64 `json:"counts"`
}

type dumpTable struct {
	Name    string   `json:"name"`
	Columns []string `json:"columns"`
}

type dumpSequence struct {
	Name      string `json:"name"`
	LastValue int64  `json:"last_value"`
	IsCalled  bool   `json:"is_called"`
}

type dumpEnd struct {
	Tables int    `json:"tables"`
	Rows   int64  `json:"rows"`
	SHA256 string `json:"sha256"`
}

// Dump writes every table and sequence of the current schema, but for the
// migrator's own, to w as one consistent snapshot (a read-only repeatable
// read transaction: writers go on undisturbed). version is the schema
// version the data belongs to.
func Dump(ctx context.Context, pool *pgxpool.Pool, w io.Writer, version int64, now time.Time) (DumpSummary, error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return DumpSummary{}, fmt.Errorf("dump: %w", err)
	}
	defer conn.Release()
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return DumpSummary{}, fmt.Errorf("dump: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	// A dump of a large database outlasts the statement timeout meant for
	// requests.
	if _, err := tx.Exec(ctx, `SET LOCAL statement_timeout = 0`); err != nil {
		return DumpSummary{}, fmt.Errorf("dump: %w", err)
	}
	tables, err := schemaTables(ctx, tx)
	if err != nil {
		return DumpSummary{}, err
	}
	gz := gzip.NewWriter(w)
	sum := sha256.New()
	out := bufio.NewWriterSize(io.MultiWriter(gz, sum), 1<<16)
	s := DumpSummary{DumpHeader: DumpHeader{SchemaVersion: version, CreatedAt: now.UTC()}, Counts: map[string]int64{}}
	fmt.Fprintf(out, "%s\n", DumpFormat)
	writeRecord(out, "header", s.DumpHeader)
	for _, t := range tables {
		writeRecord(out, "table", t)
		tag, err := conn.Conn().PgConn().CopyTo(ctx, out, fmt.Sprintf("COPY %s (%s) TO STDOUT",
			pgx.Identifier{t.Name}.Sanitize(), quoteColumns(t.Columns)))
		if err != nil {
			return DumpSummary{}, fmt.Errorf("dump table %s: %w", t.Name, err)
		}
		out.WriteString("\\.\n")
		s.Tables++
		s.Rows += tag.RowsAffected()
		s.Counts[t.Name] = tag.RowsAffected()
	}
	seqs, err := schemaSequences(ctx, tx)
	if err != nil {
		return DumpSummary{}, err
	}
	for _, seq := range seqs {
		writeRecord(out, "sequence", seq)
	}
	if err := out.Flush(); err != nil {
		return DumpSummary{}, fmt.Errorf("write dump: %w", err)
	}
	end, _ := json.Marshal(dumpEnd{Tables: s.Tables, Rows: s.Rows, SHA256: hex.EncodeToString(sum.Sum(nil))})
	if _, err := fmt.Fprintf(gz, "end %s\n", end); err != nil {
		return DumpSummary{}, fmt.Errorf("write dump: %w", err)
	}
	if err := gz.Close(); err != nil {
		return DumpSummary{}, fmt.Errorf("write dump: %w", err)
	}
	return s, nil
}

func writeRecord(w io.Writer, kind string, v any) {
	b, _ := json.Marshal(v)
	fmt.Fprintf(w, "%s %s\n", kind, b)
}

func quoteColumns(cols []string) string {
	q := make([]string, len(cols))
	for i, c := range cols {
		q[i] = pgx.Identifier{c}.Sanitize()
	}
	return strings.Join(q, ", ")
}

// schemaTables lists the current schema's tables with their stored
// columns, ordered so that every table comes after the tables its foreign
// keys refer to.
func schemaTables(ctx context.Context, q Querier) ([]dumpTable, error) {
	const query = `SELECT c.relname, array_agg(a.attname ORDER BY a.attnum)
		FROM pg_class c
		JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
		WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r' AND c.relname <> $1
		GROUP BY c.relname ORDER BY c.relname`
	rows, err := q.Query(ctx, query, versionTable)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	tables, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (dumpTable, error) {
		var t dumpTable
		return t, r.Scan(&t.Name, &t.Columns)
	})
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	const fks = `SELECT c.relname, p.relname FROM pg_constraint k
		JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class p ON p.oid = k.confrelid
		WHERE k.contype = 'f' AND c.relnamespace = current_schema()::regnamespace AND k.conrelid <> k.confrelid`
	rows, err = q.Query(ctx, fks)
	if err != nil {
		return nil, fmt.Errorf("list foreign keys: %w", err)
	}
	parents := map[string][]string{}
	var child, parent string
	if _, err := pgx.ForEachRow(rows, []any{&child, &parent}, func() error {
		parents[child] = append(parents[child], parent)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("list foreign keys: %w", err)
	}
	return parentsFirst(tables, parents)
}

// parentsFirst orders tables so that each follows its parents, keeping
// the name order otherwise.
func parentsFirst(tables []dumpTable, parents map[string][]string) ([]dumpTable, error) {
	done := map[string]bool{}
	var ordered []dumpTable
	for len(ordered) < len(tables) {
		progress := false
		for _, t := range tables {
			if done[t.Name] || slices.ContainsFunc(parents[t.Name], func(p string) bool { return !done[p] }) {
				continue
			}
			done[t.Name] = true
			ordered = append(ordered, t)
			progress = true
		}
		if !progress {
			return nil, errors.New("dump: the tables' foreign keys form a cycle")
		}
	}
	return ordered, nil
}

func schemaSequences(ctx context.Context, q Querier) ([]dumpSequence, error) {
	rows, err := q.Query(ctx, `SELECT relname FROM pg_class
		WHERE relnamespace = current_schema()::regnamespace AND relkind = 'S' ORDER BY relname`)
	if err != nil {
		return nil, fmt.Errorf("list sequences: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("list sequences: %w", err)
	}
	seqs := make([]dumpSequence, len(names))
	for i, name := range names {
		seqs[i].Name = name
		err := q.QueryRow(ctx, "SELECT last_value, is_called FROM "+pgx.Identifier{name}.Sanitize()).Scan(&seqs[i].LastValue, &seqs[i].IsCalled)
		if err != nil {
			return nil, fmt.Errorf("read sequence %s: %w", name, err)
		}
	}
	return seqs, nil
}

// dumpReader reads a dump's lines, hashing everything before the end line.
type dumpReader struct {
	r    *bufio.Reader
	sum  hash.Hash
	line int
}

func newDumpReader(r io.Reader) (*dumpReader, error) {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("not a bcdr dump (not gzip): %w", err)
	}
	return &dumpReader{r: bufio.NewReaderSize(gz, 1<<16), sum: sha256.New()}, nil
}

// next returns the next line, without its newline, adding it to the
// checksum; io.ErrUnexpectedEOF when the dump ends without an end line.
func (d *dumpReader) next() ([]byte, error) {
	return d.read(true)
}

// read is next, but for a line between blocks (inBlock false) that is the
// end line, which the checksum does not cover. A table's row may start
// with "end " too; only walk knows which lines are rows.
func (d *dumpReader) read(inBlock bool) ([]byte, error) {
	line, err := d.r.ReadBytes('\n')
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("the dump is cut short after line %d: %w", d.line, io.ErrUnexpectedEOF)
		}
		return nil, fmt.Errorf("read dump: %w", err)
	}
	d.line++
	if inBlock || !bytes.HasPrefix(line, []byte("end ")) {
		d.sum.Write(line)
	}
	return line[:len(line)-1], nil
}

// record reads the next line as `kind {json}` into v.
func (d *dumpReader) record(line []byte, kind string, v any) error {
	body, ok := bytes.CutPrefix(line, []byte(kind+" "))
	if !ok {
		return fmt.Errorf("dump line %d: expected a %s line", d.line, kind)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("dump line %d: %w", d.line, err)
	}
	return nil
}

// header reads the format line and the header.
func (d *dumpReader) header() (DumpHeader, error) {
	first, err := d.next()
	if err != nil {
		return DumpHeader{}, err
	}
	if string(first) != DumpFormat {
		return DumpHeader{}, fmt.Errorf("not a bcdr dump: the first line is not %q", DumpFormat)
	}
	line, err := d.next()
	if err != nil {
		return DumpHeader{}, err
	}
	var h DumpHeader
	return h, d.record(line, "header", &h)
}

// dumpVisitor is what reading a dump does with each part.
type dumpVisitor struct {
	table    func(t dumpTable, rows io.Reader) (int64, error)
	sequence func(s dumpSequence) error
}

// walk reads the rest of a dump after its header, calling v for each
// part, and checks the end line against what was read.
func (d *dumpReader) walk(v dumpVisitor, s *DumpSummary) error {
	s.Counts = map[string]int64{}
	for {
		line, err := d.read(false)
		if err != nil {
			return err
		}
		switch {
		case bytes.HasPrefix(line, []byte("table ")):
			var t dumpTable
			if err := d.record(line, "table", &t); err != nil {
				return err
			}
			n, err := v.table(t, &copyBlock{d: d})
			if err != nil {
				return fmt.Errorf("table %s: %w", t.Name, err)
			}
			s.Tables++
			s.Rows += n
			s.Counts[t.Name] = n
		case bytes.HasPrefix(line, []byte("sequence ")):
			var seq dumpSequence
			if err := d.record(line, "sequence", &seq); err != nil {
				return err
			}
			if err := v.sequence(seq); err != nil {
				return fmt.Errorf("sequence %s: %w", seq.Name, err)
			}
		case bytes.HasPrefix(line, []byte("end ")):
			var end dumpEnd
			if err := d.record(line, "end", &end); err != nil {
				return err
			}
			if got := hex.EncodeToString(d.sum.Sum(nil)); got != end.SHA256 {
				return errors.New("the dump's checksum does not match its content (the file was altered or damaged)")
			}
			if end.Tables != s.Tables || end.Rows != s.Rows {
				return fmt.Errorf("the dump says %d tables and %d rows but holds %d and %d", end.Tables, end.Rows, s.Tables, s.Rows)
			}
			return nil
		default:
			return fmt.Errorf("dump line %d: not a table, sequence or end line", d.line)
		}
	}
}

// copyBlock reads one table's COPY rows, up to its `\.` line, which it
// consumes without returning. Whoever reads it must read it to the end.
type copyBlock struct {
	d    *dumpReader
	buf  []byte
	done bool
}

func (b *copyBlock) Read(p []byte) (int, error) {
	for len(b.buf) == 0 {
		if b.done {
			return 0, io.EOF
		}
		line, err := b.d.next()
		if err != nil {
			return 0, err
		}
		if string(line) == `\.` {
			b.done = true
			continue
		}
		b.buf = append(line, '\n')
	}
	n := copy(p, b.buf)
	b.buf = b.buf[n:]
	return n, nil
}

// countRows reads a block to its end and counts its rows.
func countRows(r io.Reader) (int64, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<16), 1<<30)
	var n int64
	for sc.Scan() {
		n++
	}
	return n, sc.Err()
}

// ReadDumpHeader reads what a dump says it holds, without checking the rest.
func ReadDumpHeader(r io.Reader) (DumpHeader, error) {
	d, err := newDumpReader(r)
	if err != nil {
		return DumpHeader{}, err
	}
	return d.header()
}

// VerifyDump reads a whole dump and checks its checksum and counts,
// touching no database: what a restore checks before it deletes anything.
func VerifyDump(r io.Reader) (DumpSummary, error) {
	d, err := newDumpReader(r)
	if err != nil {
		return DumpSummary{}, err
	}
	s := DumpSummary{}
	if s.DumpHeader, err = d.header(); err != nil {
		return DumpSummary{}, err
	}
	err = d.walk(dumpVisitor{
		table:    func(_ dumpTable, rows io.Reader) (int64, error) { return countRows(rows) },
		sequence: func(dumpSequence) error { return nil },
	}, &s)
	return s, err
}

// RestoreData loads a dump into a database whose schema is at the dump's
// version, replacing every row of every table, in one transaction: either
// the whole dump is in place or nothing changed. User triggers are off
// while it loads, so the rows arrive exactly as dumped (audit rows
// unaltered, counters not bumped); foreign keys are checked as usual. A
// table of the schema the dump does not hold is left empty.
func RestoreData(ctx context.Context, pool *pgxpool.Pool, r io.Reader) (DumpSummary, error) {
	d, err := newDumpReader(r)
	if err != nil {
		return DumpSummary{}, err
	}
	s := DumpSummary{}
	if s.DumpHeader, err = d.header(); err != nil {
		return DumpSummary{}, err
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return DumpSummary{}, fmt.Errorf("restore: %w", err)
	}
	defer conn.Release()
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL statement_timeout = 0`); err != nil {
			return err
		}
		tables, err := schemaTables(ctx, tx)
		if err != nil {
			return err
		}
		names := make([]string, len(tables))
		known := map[string]bool{}
		for i, t := range tables {
			names[i] = pgx.Identifier{t.Name}.Sanitize()
			known[t.Name] = true
		}
		for _, n := range names {
			if _, err := tx.Exec(ctx, "ALTER TABLE "+n+" DISABLE TRIGGER USER"); err != nil {
				return fmt.Errorf("restore: %w", err)
			}
		}
		if len(names) > 0 {
			if _, err := tx.Exec(ctx, "TRUNCATE "+strings.Join(names, ", ")); err != nil {
				return fmt.Errorf("restore: empty the tables: %w", err)
			}
		}
		err = d.walk(dumpVisitor{
			table: func(t dumpTable, rows io.Reader) (int64, error) {
				if !known[t.Name] {
					return 0, fmt.Errorf("the database at schema version %d has no such table", s.SchemaVersion)
				}
				tag, err := conn.Conn().PgConn().CopyFrom(ctx, rows, fmt.Sprintf("COPY %s (%s) FROM STDIN",
					pgx.Identifier{t.Name}.Sanitize(), quoteColumns(t.Columns)))
				return tag.RowsAffected(), err
			},
			sequence: func(seq dumpSequence) error {
				_, err := tx.Exec(ctx, `SELECT setval($1::regclass, $2, $3)`, pgx.Identifier{seq.Name}.Sanitize(), seq.LastValue, seq.IsCalled)
				return err
			},
		}, &s)
		if err != nil {
			return err
		}
		for _, n := range names {
			if _, err := tx.Exec(ctx, "ALTER TABLE "+n+" ENABLE TRIGGER USER"); err != nil {
				return fmt.Errorf("restore: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return DumpSummary{}, err
	}
	return s, nil
}
