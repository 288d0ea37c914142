package itsmsync

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/importer"
	"github.com/bcdr/bcdr/orchestrator/outbound"
	"github.com/bcdr/bcdr/orchestrator/scheduler"
	"github.com/bcdr/bcdr/orchestrator/secretref"
)

// Defaults of Options.
const (
	DefaultTimeout      = time.Minute
	DefaultRetries      = 5
	DefaultRetryWaitMin = 2 * time.Second
	DefaultRetryWaitMax = 2 * time.Minute
)

// snTime is how ServiceNow writes a stored date and time (UTC).
const snTime = "2006-01-02 15:04:05"

// Options are a Syncer's dependencies and limits.
type Options struct {
	// Imports runs the imports: the registry the API's imports use.
	Imports importer.Registry
	// Outbound is the address policy of every request.
	Outbound outbound.Policy
	// Secrets is what secret references may name; LookupEnv reads
	// variables [os.LookupEnv].
	Secrets   secretref.Policy
	LookupEnv secretref.Lookup
	// Timeout bounds one request [DefaultTimeout]; Retries is how often a
	// request answered 429 or 5xx, or not answered, is repeated
	// [DefaultRetries], waiting between RetryWaitMin and RetryWaitMax (a
	// Retry-After header decides within them) [DefaultRetryWaitMin,
	// DefaultRetryWaitMax].
	Timeout                    time.Duration
	Retries                    int
	RetryWaitMin, RetryWaitMax time.Duration
	// TempDir holds each table's delta while it is read [os.TempDir()].
	TempDir string
}

// Syncer runs itsm_sync schedules.
type Syncer struct {
	pool *pgxpool.Pool
	rt   orchestrator.Runtime
	opts Options
	// beforeMark, in tests, runs between a table's import and the move of
	// its mark: a failure there is a crash in between.
	beforeMark func(table string) error
}

// NewSyncer returns a Syncer over pool.
func NewSyncer(pool *pgxpool.Pool, rt orchestrator.Runtime, opts Options) *Syncer {
	if opts.LookupEnv == nil {
		opts.LookupEnv = os.LookupEnv
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Retries == 0 {
		opts.Retries = DefaultRetries
	}
	if opts.RetryWaitMin <= 0 {
		opts.RetryWaitMin = DefaultRetryWaitMin
	}
	if opts.RetryWaitMax <= 0 {
		opts.RetryWaitMax = DefaultRetryWaitMax
	}
	return &Syncer{pool: pool, rt: rt, opts: opts}
}

// TableResult is what one table's sync did.
type TableResult struct {
	Table string `json:"table"`
	Type  string `json:"type"`
	// Read counts the records the instance sent that were new to the mark.
	Read   int             `json:"read"`
	Import importer.Report `json:"import"`
	// HighWater is the table's mark after the sync, nil when it has none.
	HighWater *time.Time `json:"high_water"`
	// Reading and Importing are how long the table took to read from the
	// instance and to import.
	Reading   time.Duration `json:"-"`
	Importing time.Duration `json:"-"`
}

// Result is what a sync did, table by table, in the order synced.
type Result struct {
	Tables []TableResult `json:"tables"`
}

// String is the result as a run's output: one line per table.
func (r Result) String() string {
	lines := make([]string, 0, len(r.Tables))
	for _, t := range r.Tables {
		mark := "no mark yet"
		if t.HighWater != nil {
			mark = "mark " + t.HighWater.UTC().Format(snTime)
		}
		lines = append(lines, fmt.Sprintf("%s → %s: %d read, %d inserted, %d updated, %d unchanged (%s)",
			t.Table, t.Type, t.Read, t.Import.Inserted, t.Import.Updated, t.Import.Unchanged, mark))
	}
	return strings.Join(lines, "\n")
}

// HandleRun is the scheduler's itsm_sync job: it syncs every table of the
// schedule's target in order and stops at the first that fails, whose
// delta is then written to nothing and whose mark stays; the tables before
// it keep what they imported. The output lists each table's counts.
func (s *Syncer) HandleRun(ctx context.Context, run scheduler.Run) (string, error) {
	t, err := ParseTarget(run.Target)
	if err != nil {
		return "", fmt.Errorf("schedule %q: target %v", run.ScheduleName, err)
	}
	if _, ok := orchestrator.LookupActor(ctx); !ok {
		ctx = orchestrator.WithActor(ctx, orchestrator.Actor{Name: "schedule " + run.ScheduleName, Role: orchestrator.RoleAdmin})
	}
	res, err := s.Sync(ctx, run.ScheduleID, t)
	return res.String(), err
}

// Sync reads every table of t changed since its mark and imports it, in
// t's order, for the schedule scheduleID (whose marks these are).
func (s *Syncer) Sync(ctx context.Context, scheduleID int64, t Target) (Result, error) {
	c, err := s.client(t)
	if err != nil {
		return Result{}, err
	}
	var res Result
	for _, table := range t.Tables {
		tr, err := s.syncTable(ctx, c, scheduleID, t, table)
		res.Tables = append(res.Tables, tr)
		if err != nil {
			s.rt.Log().Warn("itsm sync failed", "schedule", scheduleID, "instance", t.Instance, "table", table, "error", err.Error())
			return res, fmt.Errorf("sync %s from %s: %w", table, t.Instance, err)
		}
		s.rt.Log().Info("itsm sync", "schedule", scheduleID, "instance", t.Instance, "table", table, "read", tr.Read,
			"inserted", tr.Import.Inserted, "updated", tr.Import.Updated, "unchanged", tr.Import.Unchanged)
	}
	return res, nil
}

// client resolves t's secrets and builds its Table API client.
func (s *Syncer) client(t Target) (*tableClient, error) {
	c := &tableClient{instance: t.Instance, target: t, user: t.User}
	resolve := func(field string, ref secretref.Ref) (string, error) {
		if ref == (secretref.Ref{}) {
			return "", nil
		}
		b, err := s.opts.Secrets.Resolve(ref, s.opts.LookupEnv)
		if err != nil {
			// The error names the variable or the file, never a value.
			return "", fmt.Errorf("target's %s: %v", field, err)
		}
		return string(b), nil
	}
	var err error
	if c.password, err = resolve("password", t.Password); err != nil {
		return nil, err
	}
	if c.secret, err = resolve("client_secret", t.ClientSecret); err != nil {
		return nil, err
	}
	c.http = outbound.NewClient(outbound.Options{Timeout: s.opts.Timeout, Retries: s.opts.Retries,
		RetryWaitMin: s.opts.RetryWaitMin, RetryWaitMax: s.opts.RetryWaitMax, Policy: s.opts.Outbound})
	return c, nil
}

// syncTable reads table's delta into a file and imports it; the mark moves
// once the import committed.
func (s *Syncer) syncTable(ctx context.Context, c *tableClient, scheduleID int64, t Target, table string) (TableResult, error) {
	spec := specOf(table)
	tr := TableResult{Table: table, Type: spec.importType}
	from, err := loadMark(ctx, s.pool, scheduleID, t.Instance, table)
	if err != nil {
		return tr, err
	}
	if !from.At.IsZero() {
		at := from.At
		tr.HighWater = &at
	}
	f, err := os.CreateTemp(s.opts.TempDir, "bcdr-sync-*.csv")
	if err != nil {
		return tr, fmt.Errorf("hold the delta: %w", err)
	}
	defer func() {
		f.Close()
		os.Remove(f.Name())
	}()
	cols := spec.columns(t.Tables)
	start := time.Now()
	to, read, err := readDelta(ctx, c, table, spec, cols, t.PageSize, from, f)
	tr.Read, tr.Reading = read, time.Since(start)
	if err != nil {
		return tr, err
	}
	if read == 0 {
		return tr, nil
	}
	if _, err := f.Seek(0, 0); err != nil {
		return tr, fmt.Errorf("read back the delta: %w", err)
	}
	start = time.Now()
	rep, err := s.opts.Imports.Import(ctx, s.pool, spec.importType, f, importer.Options{
		Format: "csv", Source: t.Source, Charset: "utf-8", DateFormat: "ymd", Timezone: "UTC"})
	tr.Import, tr.Importing = rep, time.Since(start)
	if err != nil {
		return tr, importError(err, rep)
	}
	if s.beforeMark != nil {
		if err := s.beforeMark(table); err != nil {
			return tr, err
		}
	}
	if err := saveMark(ctx, s.pool, scheduleID, t.Instance, table, to, read); err != nil {
		return tr, err
	}
	at := to.At
	tr.HighWater = &at
	return tr, nil
}

// importError says why a delta was not imported, with its first problems.
func importError(err error, rep importer.Report) error {
	if !errors.Is(err, importer.ErrRejected) || len(rep.Problems) == 0 {
		return fmt.Errorf("import: %w", err)
	}
	var b strings.Builder
	for i, p := range rep.Problems[:min(len(rep.Problems), 5)] {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "record %d", p.Row)
		if p.Column != "" {
			fmt.Fprintf(&b, " %s", p.Column)
		}
		fmt.Fprintf(&b, ": %s", p.Message)
	}
	if len(rep.Problems) > 5 {
		fmt.Fprintf(&b, "; and %d more", rep.Rejected-5)
	}
	return fmt.Errorf("import: %w (%s); the mark stays, so the next run reads these records again", err, b.String())
}

// readDelta pages through table's records updated at or after from.At, in
// (sys_updated_on, sys_id) order, writing those not imported yet to w as
// CSV with cols for header. It returns the new mark and how many records
// it wrote.
//
// Each request asks for sys_updated_on >= the last time read, skipping the
// records at that time already read (sysparm_offset counts only those),
// rather than for one growing offset over the whole delta: a record
// updated while the sync pages moves to the end of the order, and with a
// plain offset the record after it would slip to an earlier page already
// read and be lost.
func readDelta(ctx context.Context, c *tableClient, table string, spec *tableSpec, cols []field, limit int,
	from mark, w *os.File) (mark, int, error) {
	names := make([]string, 0, len(cols)+1)
	for _, f := range cols {
		names = append(names, f.name)
	}
	ask := append(slices.Clone(names), "sys_updated_on")
	if !slices.Contains(ask, "sys_id") {
		ask = append(ask, "sys_id")
	}
	out := csv.NewWriter(w)
	if err := out.Write(names); err != nil {
		return from, 0, fmt.Errorf("hold the delta: %w", err)
	}
	to := from
	to.IDs = slices.Clone(from.IDs)
	imported := make(map[string]bool, len(from.IDs))
	for _, id := range from.IDs {
		imported[id] = true
	}
	cursor, within, written := from.At, 0, 0
	row := make([]string, len(cols))
	lastFirst := ""
	for {
		q := pageRequest{table: table, fields: ask, limit: limit, offset: within, query: spec.query}
		cond := "ORDERBYsys_updated_on^ORDERBYsys_id"
		if !cursor.IsZero() {
			// A date written as text is read as UTC, the stored value's
			// zone (javascript:gs.dateGenerate would read it in the sync
			// user's zone instead).
			cond = "sys_updated_on>=" + cursor.UTC().Format(snTime) + "^" + cond
		}
		if q.query != "" {
			q.query += "^" + cond
		} else {
			q.query = cond
		}
		p, err := c.fetch(ctx, q)
		if err != nil {
			return from, 0, err
		}
		// An instance that ignored sysparm_offset would answer the same
		// page for ever.
		if len(p.Result) > 0 {
			first := p.Result[0]["sys_id"].Value
			if first != "" && first == lastFirst {
				return from, 0, fmt.Errorf("read %s: the instance answered the same page twice (is sysparm_offset ignored?)", table)
			}
			lastFirst = first
		}
		for _, rec := range p.Result {
			at, id, err := stamp(rec)
			if err != nil {
				return from, 0, fmt.Errorf("read %s: %v", table, err)
			}
			if at.Before(cursor) {
				return from, 0, fmt.Errorf("read %s: the instance answered records out of sys_updated_on order", table)
			}
			if at.Equal(cursor) {
				within++
			} else {
				cursor, within = at, 1
			}
			if at.Equal(from.At) && imported[id] {
				continue // imported by the last sync
			}
			for i, f := range cols {
				if f.display {
					row[i] = cell(rec[f.name].Display)
				} else {
					row[i] = cell(rec[f.name].Value)
				}
			}
			if err := out.Write(row); err != nil {
				return from, 0, fmt.Errorf("hold the delta: %w", err)
			}
			written++
			to.advance(at, id)
		}
		if len(p.Result) < limit || p.hasLink && !p.next {
			break
		}
	}
	out.Flush()
	if err := out.Error(); err != nil {
		return from, 0, fmt.Errorf("hold the delta: %w", err)
	}
	return to, written, nil
}

// stamp is a record's sys_updated_on and sys_id.
func stamp(rec record) (time.Time, string, error) {
	id := rec["sys_id"].Value
	raw := rec["sys_updated_on"].Value
	if id == "" || raw == "" {
		return time.Time{}, "", errors.New("a record has no sys_id or sys_updated_on (the sync user must be able to read both)")
	}
	at, err := time.Parse(snTime, raw)
	if err != nil {
		return time.Time{}, "", fmt.Errorf("record %s: sys_updated_on %q is not a ServiceNow date and time", clip(id), clip(raw))
	}
	return at, id, nil
}

// cell is a value as the delta file holds it. The importer refuses cells a
// spreadsheet would run as formulas and cells with control characters, as
// it should for files people edit; text typed into ServiceNow ("-(see
// KB0012)", a pasted vertical tab) is not an attack, and refusing it would
// stop the table's sync at that record for good. So such text gets the
// leading quote bcdr's own CSV exports give it, and control characters
// other than tab and line ends are dropped.
func cell(s string) string {
	if strings.ContainsFunc(s, isControl) {
		s = strings.Map(func(r rune) rune {
			if isControl(r) {
				return -1
			}
			return r
		}, s)
	}
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '@':
		return "'" + s
	case '+', '-':
		if strings.ContainsAny(s[1:], "=(|!@") {
			return "'" + s
		}
	}
	return s
}

func isControl(r rune) bool { return r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0x7f }
