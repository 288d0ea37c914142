package importer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/audit"
	"github.com/bcdr/bcdr/orchestrator/postgres"
)

// DefaultMaxProblems caps how many bad rows a report lists.
const DefaultMaxProblems = 1000

// importMemory is the work_mem of an import's transaction.
const importMemory = "64MB"

// Options control one import.
type Options struct {
	Format  string // csv or jsonl
	Partial bool   // write the good rows even when some are bad
	Source  string // source name for rows that carry none; default "import"
	// MaxProblems caps the problems listed (DefaultMaxProblems when 0).
	MaxProblems int
	// Progress, when set, is called now and then with the bytes read so far.
	Progress func(bytesRead int64)
	// BulkRows is the number of new records from which a record type with
	// Spec.Bulk loads in bulk (DefaultBulkRows when 0).
	BulkRows int
	// Charset is the file's character set, one of Charsets or a name
	// ParseCharset reads; "" detects it (see detectCharset).
	Charset string
	// DateFormat reads CSV dates written with the year last: dmy, mdy, or
	// a Go layout; ymd refuses them. "" detects the order from the file.
	DateFormat string
	// Timezone is the IANA zone of CSV times written without one (UTC
	// when empty).
	Timezone string
}

// checkOptions validates the options a caller passes through, naming the
// parameter at fault.
func checkOptions(opts *Options) (*dateReader, error) {
	if opts.Format != "csv" && opts.Format != "jsonl" {
		return nil, fieldError("format", "must be csv or jsonl")
	}
	cs, ok := ParseCharset(opts.Charset)
	if !ok {
		return nil, fieldError("charset", "must be one of "+strings.Join(Charsets, ", ")+" (or gbk, cp1252, latin1)")
	}
	opts.Charset = cs
	return newDateReader(opts.DateFormat, opts.Timezone)
}

// Problem is one bad row: its number (1 = the first data row), the column
// or field at fault when known, and what is wrong.
type Problem struct {
	Row     int    `json:"row"`
	Column  string `json:"column,omitempty"`
	Message string `json:"message"`
}

// Report says what an import did.
type Report struct {
	Type      string    `json:"type"`
	Format    string    `json:"format"`
	Rows      int       `json:"rows"`
	Inserted  int       `json:"inserted"`
	Updated   int       `json:"updated"`
	Unchanged int       `json:"unchanged"`
	Rejected  int       `json:"rejected"`
	Written   bool      `json:"written"`
	Problems  []Problem `json:"problems"`
	// ProblemsTruncated is true when more rows were bad than are listed.
	ProblemsTruncated bool `json:"problems_truncated,omitempty"`
	// IgnoredColumns are CSV columns no field of the record type takes.
	IgnoredColumns []string `json:"ignored_columns,omitempty"`
	// Warnings are rows written otherwise than they read, such as a CI
	// whose key derived from its name was taken and got a suffix.
	Warnings []Problem `json:"warnings,omitempty"`
}

func (r *Report) add(p Problem, max int) {
	r.Rejected++
	if len(r.Problems) < max {
		r.Problems = append(r.Problems, p)
	} else {
		r.ProblemsTruncated = true
	}
}

// Registry holds the importable record types by name. A registry made by
// NewRegistry or WithLimits also queues the imports it runs (see Limits);
// copies of it share the queue.
type Registry map[string]Kind

// NewRegistry indexes kinds by their type name, with the default Limits.
func NewRegistry(kinds ...Kind) Registry {
	r := Registry{}
	for _, k := range kinds {
		r[k.TypeName()] = k
	}
	return r.WithLimits(Limits{})
}

// Types lists the registered type names, sorted.
func (r Registry) Types() []string {
	names := slices.Collect(maps.Keys(r))
	slices.Sort(names)
	return names
}

// ErrRejected is returned with a report when bad rows stopped an
// all-or-nothing import; nothing was written and the report says why.
var ErrRejected = errors.New("import rejected")

// RejectedError says how many rows stopped an import; it matches ErrRejected.
type RejectedError struct{ Rejected, Rows int }

func (e *RejectedError) Error() string {
	return fmt.Sprintf("%d of %d rows are invalid; nothing was written", e.Rejected, e.Rows)
}

// Is makes errors.Is(err, ErrRejected) true.
func (e *RejectedError) Is(target error) bool { return target == ErrRejected }

// Import reads a whole file of one record type in one transaction. With
// bad rows and no Partial option nothing is written, and the returned error
// is EINVALID; the report lists the rows either way.
//
// The import first waits its turn in the registry's queue, holding no
// connection; a full queue refuses it with a BusyError. Its statements are
// bounded by ctx's deadline, not the pool's statement timeout. When ctx
// ends, even in the middle of a stalled upload, it stops at once and
// writes nothing.
func (r Registry) Import(ctx context.Context, pool *pgxpool.Pool, typ string, body io.Reader, opts Options) (Report, error) {
	kind, ok := r[typ]
	if !ok {
		return Report{}, &orchestrator.Error{Code: orchestrator.EINVALID, Message: "unknown record type",
			Fields: []orchestrator.FieldError{{Field: "type", Message: "must be one of " + strings.Join(r.Types(), ", ")}}}
	}
	dates, err := checkOptions(&opts)
	if err != nil {
		return Report{}, err
	}
	if opts.Source == "" {
		opts.Source = "import"
	}
	if opts.MaxProblems <= 0 {
		opts.MaxProblems = DefaultMaxProblems
	}
	if opts.BulkRows <= 0 {
		opts.BulkRows = DefaultBulkRows
	}
	if a, ok := kind.(*admitted); ok {
		leave, err := a.enter(ctx)
		if err != nil {
			return Report{}, err
		}
		defer leave()
	}
	body, stop := interruptible(ctx, body)
	defer stop()
	src, err := newSource(body, opts.Format, opts.Charset)
	if err != nil {
		return Report{}, orchestrator.Errorf(orchestrator.EINVALID, "%v", err)
	}
	src.dates = dates
	rep := Report{Type: typ, Format: opts.Format, Problems: []Problem{}}
	err = postgres.WithTx(ctx, pool, func(tx pgx.Tx) error {
		if err := importTimeout(ctx, tx); err != nil {
			return err
		}
		if err := kind.run(ctx, tx, src, opts, &rep); err != nil {
			return err
		}
		if rep.Rejected > 0 && !opts.Partial {
			return ErrRejected
		}
		rep.Written = true
		return audit.Record(ctx, tx, audit.Change{Action: "import", Resource: typ, ResourceID: opts.Source,
			Summary: fmt.Sprintf("%s import of %d rows: %d inserted, %d updated, %d unchanged, %d rejected",
				opts.Format, rep.Rows, rep.Inserted, rep.Updated, rep.Unchanged, rep.Rejected)})
	})
	if errors.Is(err, ErrRejected) {
		rep.Inserted, rep.Updated, rep.Unchanged = 0, 0, 0
		return rep, &RejectedError{Rejected: rep.Rejected, Rows: rep.Rows}
	}
	if err != nil && ctx.Err() != nil {
		// Whatever broke first (the upload, a statement, the connection),
		// the import stopped because it was cancelled.
		rep.Inserted, rep.Updated, rep.Unchanged, rep.Written = 0, 0, 0, false
		return rep, fmt.Errorf("import %s: %w", typ, context.Cause(ctx))
	}
	return rep, err
}

// importTimeout lifts the pool's statement timeout, meant for requests
// that answer in seconds, off the import's transaction: copying a slow
// upload or merging a million rows takes longer. ctx's deadline, if any,
// bounds its statements instead.
func importTimeout(ctx context.Context, tx pgx.Tx) error {
	ms := int64(0)
	if deadline, ok := ctx.Deadline(); ok {
		ms = max(time.Until(deadline).Milliseconds(), 1)
	}
	if _, err := tx.Exec(ctx, `SELECT set_config('statement_timeout', $1, true)`, strconv.FormatInt(ms, 10)); err != nil {
		return fmt.Errorf("prepare import: %w", err)
	}
	return nil
}

// run stages every good row with COPY, lets the database reject rows with
// bad references, and merges what is left.
func (s *Spec[In]) run(ctx context.Context, tx pgx.Tx, src *source, opts Options, rep *Report) error {
	// The checks and merges sort and hash whole files; the default 4 MB
	// would send a million-row file to disk several times over. JIT
	// compiling those few large statements costs more than it saves.
	for _, stmt := range []string{`SET LOCAL work_mem = '` + importMemory + `'`, `SET LOCAL jit = off`} {
		if _, err := tx.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("prepare import: %w", err)
		}
	}
	if err := s.createStage(ctx, tx); err != nil {
		return err
	}
	rows, err := s.newRowReader(src, opts, rep)
	if err != nil {
		return err
	}
	cols := make([]string, 0, len(s.Stage)+1)
	cols = append(cols, "row_no")
	for _, c := range s.Stage {
		cols = append(cols, c.Name)
	}
	_, err = tx.CopyFrom(ctx, pgx.Identifier{"import_stage"}, cols, rows)
	rows.close()
	if err != nil {
		if rows.fatal != nil {
			return rows.fatal
		}
		return fmt.Errorf("stage rows: %w", postgres.Translate(err))
	}
	rep.Rows = src.row
	// Imports of one record type take turns (in memory on this replica,
	// here across replicas), so a merge may insert the records it did not
	// find without racing another import to them. The staging table is the
	// import's own: the turn starts once the upload is read.
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, "bcdr import "+s.Type); err != nil {
		return fmt.Errorf("wait for other %s imports: %w", s.Type, err)
	}
	// Temporary tables have no statistics until analysed; without them the
	// planner picks nested loops for the checks and the merge.
	if _, err := tx.Exec(ctx, `ANALYZE import_stage`); err != nil {
		return fmt.Errorf("analyse staged rows: %w", err)
	}
	if s.Resolve != nil {
		warnings, err := s.Resolve(ctx, tx)
		if err != nil {
			return err
		}
		rep.Warnings = append(rep.Warnings, warnings...)
	}
	if err := s.rejectInStage(ctx, tx, opts, rep); err != nil {
		return err
	}
	if rep.Rejected > 0 && !opts.Partial {
		return nil
	}
	bulk, err := s.bulkWanted(ctx, tx, opts.BulkRows, rep.Rows-rep.Rejected)
	if err != nil {
		return err
	}
	if !bulk {
		return s.merge(ctx, tx, rep)
	}
	aside, err := setAsideIndexes(ctx, tx, s.Bulk)
	if err != nil {
		return err
	}
	if err := s.merge(ctx, tx, rep); err != nil {
		return err
	}
	return aside.rebuild(ctx, tx)
}

func (s *Spec[In]) createStage(ctx context.Context, tx pgx.Tx) error {
	defs := make([]string, 0, len(s.Stage)+1)
	defs = append(defs, "row_no integer NOT NULL")
	for _, c := range s.Stage {
		defs = append(defs, c.Name+" "+c.Type)
	}
	ddl := "CREATE TEMP TABLE import_stage (" + strings.Join(defs, ", ") + ") ON COMMIT DROP"
	if _, err := tx.Exec(ctx, ddl); err != nil {
		return fmt.Errorf("create staging table: %w", err)
	}
	return nil
}

// rejectInStage finds duplicate identities and the spec's database-side
// problems, records them and removes those rows from the stage.
func (s *Spec[In]) rejectInStage(ctx context.Context, tx pgx.Tx, opts Options, rep *Report) error {
	queries := []string{}
	if len(s.Identity) > 0 {
		id := strings.Join(s.Identity, ", ")
		// Grouping hashes; a window over the whole file would sort it.
		queries = append(queries, `SELECT s.row_no, '`+s.Identity[len(s.Identity)-1]+`', 'duplicates row ' || d.first_row || ' of this file'
			FROM (SELECT `+id+`, min(row_no) AS first_row FROM import_stage GROUP BY `+id+` HAVING count(*) > 1) d
				JOIN import_stage s USING (`+id+`)
			WHERE s.row_no <> d.first_row`)
	}
	if s.Check != "" {
		queries = append(queries, s.Check)
	}
	bad := map[int32]bool{}
	var problems []Problem
	for _, q := range queries {
		rows, err := tx.Query(ctx, q)
		if err != nil {
			return fmt.Errorf("check staged rows: %w", err)
		}
		for rows.Next() {
			var p Problem
			var row int32
			if err := rows.Scan(&row, &p.Column, &p.Message); err != nil {
				rows.Close()
				return fmt.Errorf("check staged rows: %w", err)
			}
			if !bad[row] {
				bad[row] = true
				p.Row = int(row)
				problems = append(problems, p)
			}
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("check staged rows: %w", err)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	for _, p := range problems {
		rep.add(p, opts.MaxProblems)
	}
	slices.SortFunc(rep.Problems, func(a, b Problem) int { return a.Row - b.Row })
	ids := make([]int32, 0, len(bad))
	for r := range bad {
		ids = append(ids, r)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM import_stage WHERE row_no = ANY($1)`, ids); err != nil {
		return fmt.Errorf("drop rejected rows: %w", err)
	}
	return nil
}

func (s *Spec[In]) merge(ctx context.Context, tx pgx.Tx, rep *Report) error {
	rows, err := tx.Query(ctx, s.Merge)
	if err != nil {
		return fmt.Errorf("merge %s: %w", s.Type, postgres.Translate(err))
	}
	for rows.Next() {
		var inserted bool
		if err := rows.Scan(&inserted); err != nil {
			rows.Close()
			return fmt.Errorf("merge %s: %w", s.Type, err)
		}
		if inserted {
			rep.Inserted++
		} else {
			rep.Updated++
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("merge %s: %w", s.Type, postgres.Translate(err))
	}
	rep.Unchanged = rep.Rows - rep.Rejected - rep.Inserted - rep.Updated
	if s.After != nil {
		return s.After(ctx, tx)
	}
	return nil
}

// decodeJSONRow decodes one JSON line strictly into a new In.
func decodeJSONRow[In any](line []byte) (*In, error) {
	in := new(In)
	dec := json.NewDecoder(strings.NewReader(string(line)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(in); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("data after the JSON object")
	}
	return in, nil
}
