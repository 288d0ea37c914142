package itsmsync

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/cmdb"
	"github.com/bcdr/bcdr/orchestrator/directory"
	"github.com/bcdr/bcdr/orchestrator/impact"
	"github.com/bcdr/bcdr/orchestrator/importer"
	"github.com/bcdr/bcdr/orchestrator/itsm"
	"github.com/bcdr/bcdr/orchestrator/outbound"
	"github.com/bcdr/bcdr/orchestrator/postgres/pgtest"
	"github.com/bcdr/bcdr/orchestrator/scheduler"
	"github.com/bcdr/bcdr/orchestrator/secretref"
)

// bundle is what a sync test works with.
type bundle struct {
	pool      *pgxpool.Pool
	fake      *fakeInstance
	schedules *scheduler.Service
	log       *lockedBuffer
	ctx       context.Context
}

// lockedBuffer is a log sink shared by goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// registry is the importer registry of the record types a sync writes.
func registry() importer.Registry {
	return importer.NewRegistry(cmdb.CIImport(), cmdb.RelationImport(), directory.SupplierImport(),
		itsm.IncidentImport(), itsm.ProblemImport(), itsm.ChangeImport())
}

// testEnv holds the secrets the targets reference.
var testEnv = map[string]string{"BCDR_SECRET_SN": testPassword, "BCDR_SECRET_SN_OAUTH": testSecret}

// setup returns a syncer allowed to reach loopback, over a fresh database,
// and a fake instance answering with the recorded tables.
func setup(t *testing.T, tables ...string) (*Syncer, *bundle) {
	t.Helper()
	b := &bundle{pool: pgtest.New(t), fake: newFakeInstance(t, tables...), log: &lockedBuffer{}}
	b.ctx = orchestrator.WithActor(t.Context(), orchestrator.Actor{Name: "test", Role: orchestrator.RoleAdmin})
	policy, err := outbound.ParsePolicy("127.0.0.1")
	require.NoError(t, err)
	s := NewSyncer(b.pool, orchestrator.Runtime{Logger: slog.New(slog.NewTextHandler(b.log, nil))}, Options{
		Imports: registry(), Outbound: policy, Secrets: secretref.Policy{},
		LookupEnv: func(name string) (string, bool) { v, ok := testEnv[name]; return v, ok },
		Timeout:   5 * time.Second, Retries: 2, RetryWaitMin: 10 * time.Millisecond, RetryWaitMax: 5 * time.Second,
		TempDir: t.TempDir()})
	b.schedules = scheduler.NewService(b.pool, orchestrator.Runtime{}, scheduler.ServiceOptions{
		Handled: []scheduler.Kind{scheduler.KindITSMSync},
		Targets: map[scheduler.Kind]func(string) error{scheduler.KindITSMSync: s.CheckTarget}})
	return s, b
}

// basicTarget is a target reading tables from the fake with basic auth.
func (b *bundle) basicTarget(tables string, extra string) string {
	return fmt.Sprintf("servicenow?instance=%s&tables=%s&auth=basic&user=%s&password=env:BCDR_SECRET_SN%s",
		b.fake.URL, tables, testUser, extra)
}

// schedule creates an itsm_sync schedule with target.
func (b *bundle) schedule(t *testing.T, name, target string) scheduler.Schedule {
	t.Helper()
	kind, spec := scheduler.KindITSMSync, "0 2 * * *"
	sc, err := b.schedules.Create(b.ctx, scheduler.Input{Name: &name, Kind: &kind, Target: &target, Cron: &spec})
	require.NoError(t, err)
	return sc
}

// sync runs the schedule's target once, as its job does.
func (b *bundle) sync(t *testing.T, s *Syncer, sc scheduler.Schedule) (Result, error) {
	t.Helper()
	target, err := ParseTarget(sc.Target)
	require.NoError(t, err)
	return s.Sync(b.ctx, sc.ID, target)
}

func (b *bundle) count(t *testing.T, table string) int {
	t.Helper()
	var n int
	require.NoError(t, b.pool.QueryRow(b.ctx, `SELECT count(*) FROM `+table).Scan(&n))
	return n
}

// markOf is a table's mark, nil when it has none.
func (b *bundle) markOf(t *testing.T, sc scheduler.Schedule, table string) *mark {
	t.Helper()
	m, err := loadMark(b.ctx, b.pool, sc.ID, b.fake.URL, table)
	require.NoError(t, err)
	if m.At.IsZero() {
		return nil
	}
	return &m
}

func byTable(res Result) map[string]TableResult {
	out := map[string]TableResult{}
	for _, t := range res.Tables {
		out[t.Table] = t
	}
	return out
}

// A full sync of CIs, relations and incidents imports them as a file
// import of the same exports would, and a what-if on the imported graph
// answers; a second run with nothing changed imports nothing; changes
// after the mark are picked up, including one in the same second as the
// mark that the last run had not seen.
func TestSyncServiceNow(t *testing.T) {
	t.Parallel()
	s, b := setup(t, "cmdb_ci", "cmdb_rel_ci", "incident")
	// Listed out of order: the sync reads CIs, then relations, then incidents.
	sc := b.schedule(t, "servicenow nightly", b.basicTarget("incident,cmdb_rel_ci,cmdb_ci", ""))

	res, err := b.sync(t, s, sc)
	require.NoError(t, err)
	require.Equal(t, []string{"cmdb_ci", "cmdb_rel_ci", "incident"}, []string{res.Tables[0].Table, res.Tables[1].Table, res.Tables[2].Table})
	got := byTable(res)
	require.Equal(t, 6, got["cmdb_ci"].Import.Inserted)
	require.Equal(t, 5, got["cmdb_rel_ci"].Import.Inserted)
	require.Equal(t, 3, got["incident"].Import.Inserted)
	require.Equal(t, "2025-03-07 18:45:31", got["cmdb_ci"].HighWater.Format(snTime))
	for _, tr := range res.Tables {
		require.Empty(t, tr.Import.IgnoredColumns, tr.Table)
	}
	require.NotContains(t, b.fake.tableRequests("incident")[0].URL.Query().Get("sysparm_fields"), "problem_id",
		"without the problem table an incident's problem could not be resolved")

	ci, err := cmdb.NewService(b.pool).GetCI(b.ctx, "online-tax-service")
	require.NoError(t, err)
	require.Equal(t, "business_service", ci.Class)
	require.Equal(t, "servicenow", ci.Source)
	require.Equal(t, "b1c3d5e7f9a1b3c5d7e9f1a3b5c7d901", ci.ExternalID)
	require.Equal(t, "Beijing DC1", ci.Site, "references to other tables come by display value")
	dr, err := cmdb.NewService(b.pool).GetCI(b.ctx, "taxdb-dr")
	require.NoError(t, err)
	require.Equal(t, "database", dr.Class)
	require.Equal(t, "operational", dr.Status, "DR Standby is up")

	var priority, cause string
	var restored *time.Time
	var cis []string
	require.NoError(t, b.pool.QueryRow(b.ctx, `SELECT i.priority, i.cause, i.restored_at,
			ARRAY(SELECT c.key FROM incident_cis l JOIN cis c ON c.id = l.ci_id WHERE l.incident_id = i.id ORDER BY c.key)
		FROM incidents i WHERE i.external_id = 'INC0010001'`).Scan(&priority, &cause, &restored, &cis))
	require.Equal(t, "P1", priority, "1 - Critical")
	require.Equal(t, "software", cause, "Database")
	require.Equal(t, "2025-03-10 03:40:00", restored.UTC().Format(snTime), "stored values are UTC whatever the user's zone")
	require.Contains(t, cis, "taxdb")

	answer, err := impact.NewService(b.pool, orchestrator.Runtime{}, nil).WhatIf(b.ctx, impact.Scenario{Failed: []string{"tax-db-01"}})
	require.NoError(t, err)
	require.Contains(t, answer.Down, "online-tax-service")
	require.Equal(t, "online-tax-service", answer.Services[0].Key)
	require.Equal(t, []string{"online-tax-service", "taxcollect-app", "taxdb", "tax-db-01"}, answer.Services[0].Path)

	// Nothing changed: every table is asked from its mark and nothing is read.
	res, err = b.sync(t, s, sc)
	require.NoError(t, err)
	for _, tr := range res.Tables {
		require.Zero(t, tr.Read, tr.Table)
		require.Zero(t, tr.Import.Inserted+tr.Import.Updated, tr.Table)
	}
	reqs := b.fake.tableRequests("cmdb_ci")
	require.Contains(t, reqs[len(reqs)-1].URL.Query().Get("sysparm_query"), "sys_updated_on>=2025-03-07 18:45:31^ORDERBYsys_updated_on^ORDERBYsys_id")

	// tax-app-01 goes into repair; a CI is added in the very second of the
	// mark; a new incident is opened.
	b.fake.set("cmdb_ci", "b1c3d5e7f9a1b3c5d7e9f1a3b5c7d904", "2025-04-01 08:00:00", map[string]value{
		"operational_status": {Display: "Repair in Progress", Value: "3"}})
	b.fake.set("cmdb_ci", "b1c3d5e7f9a1b3c5d7e9f1a3b5c7d907", "2025-03-07 18:45:31", map[string]value{
		"name": {"tax-web-01", "tax-web-01"}, "sys_class_name": {"Linux Server", "cmdb_ci_linux_server"},
		"operational_status": {"Operational", "1"}})
	b.fake.set("incident", "a9e30c7dc61122760116894de7bcc7c0", "2025-04-01 08:05:00", map[string]value{
		"number": {"INC0010004", "INC0010004"}, "short_description": {"tax-app-01 repair", "tax-app-01 repair"},
		"description": {"-(see KB0012) disk\vfull", "-(see KB0012) disk\vfull"},
		"priority":    {"2 - High", "2"}, "cmdb_ci": {"tax-app-01", "b1c3d5e7f9a1b3c5d7e9f1a3b5c7d904"},
		"opened_at": {"01/04/2025 16:01:00", "2025-04-01 08:01:00"}})
	res, err = b.sync(t, s, sc)
	require.NoError(t, err)
	got = byTable(res)
	require.Equal(t, 2, got["cmdb_ci"].Read)
	require.Equal(t, 1, got["cmdb_ci"].Import.Inserted)
	require.Equal(t, 1, got["cmdb_ci"].Import.Updated)
	require.Equal(t, 1, got["incident"].Import.Inserted)
	require.Zero(t, got["incident"].Import.Updated)
	var description string
	require.NoError(t, b.pool.QueryRow(b.ctx, `SELECT description FROM incidents WHERE external_id = 'INC0010004'`).Scan(&description))
	require.Equal(t, "'-(see KB0012) diskfull", description, "text a spreadsheet would run is defused, control characters dropped")
	app, err := cmdb.NewService(b.pool).GetCI(b.ctx, "tax-app-01")
	require.NoError(t, err)
	require.Equal(t, "maintenance", app.Status)
	require.Equal(t, 7, b.count(t, "cis"))
	require.Equal(t, 4, b.count(t, "incidents"))
	m := b.markOf(t, sc, "cmdb_ci")
	require.Equal(t, "2025-04-01 08:00:00", m.At.Format(snTime))
	require.Equal(t, []string{"b1c3d5e7f9a1b3c5d7e9f1a3b5c7d904"}, m.IDs)
}

// Pages of two records carry the sync through a run of records updated in
// the same second that spans a page boundary, each page asked from the
// last time read with the offset counting only the records at that time.
func TestSyncPages(t *testing.T) {
	t.Parallel()
	s, b := setup(t, "cmdb_ci")
	sc := b.schedule(t, "paged", b.basicTarget("cmdb_ci", "&page_size=2"))
	res, err := b.sync(t, s, sc)
	require.NoError(t, err)
	require.Equal(t, 6, res.Tables[0].Import.Inserted)
	require.Equal(t, 6, b.count(t, "cis"))
	var asked []string
	for _, r := range b.fake.tableRequests("cmdb_ci") {
		q := r.URL.Query()
		asked = append(asked, q.Get("sysparm_query")+" @"+q.Get("sysparm_offset"))
	}
	require.Equal(t, []string{
		"ORDERBYsys_updated_on^ORDERBYsys_id @0",
		"sys_updated_on>=2025-03-05 14:22:10^ORDERBYsys_updated_on^ORDERBYsys_id @2",
		"sys_updated_on>=2025-03-06 09:00:00^ORDERBYsys_updated_on^ORDERBYsys_id @1",
	}, asked, "the last page is full but its Link header has no next: no fourth request")
	m := b.markOf(t, sc, "cmdb_ci")
	require.Equal(t, "2025-03-07 18:45:31", m.At.Format(snTime))
}

// A 429 with Retry-After is waited out, then the page is asked again.
func TestSyncRetryAfter(t *testing.T) {
	t.Parallel()
	s, b := setup(t, "cmdb_ci")
	sc := b.schedule(t, "throttled", b.basicTarget("cmdb_ci", ""))
	var throttledAt, retriedAt time.Time
	b.fake.fault = func(w http.ResponseWriter, r *http.Request, n int) bool {
		if n == 2 {
			retriedAt = time.Now()
		}
		if n != 1 {
			return false
		}
		throttledAt = time.Now()
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, `{"error":{"message":"Rate limit exceeded","detail":"Rate limit of 100 requests per 1 hour exceeded"},"status":"failure"}`)
		return true
	}
	res, err := b.sync(t, s, sc)
	require.NoError(t, err)
	require.Equal(t, 6, res.Tables[0].Import.Inserted)
	reqs := b.fake.tableRequests("cmdb_ci")
	require.Len(t, reqs, 2, "the throttled request is asked again")
	require.Equal(t, reqs[0].URL.RawQuery, reqs[1].URL.RawQuery)
	require.GreaterOrEqual(t, retriedAt.Sub(throttledAt), time.Second, "Retry-After: 1 is honoured")
}

// The instance failing on the third page leaves nothing written and the
// mark where it was; the next run, with the instance back, imports all.
func TestSyncFailureOnLaterPage(t *testing.T) {
	t.Parallel()
	s, b := setup(t, "cmdb_ci")
	sc := b.schedule(t, "flaky", b.basicTarget("cmdb_ci", "&page_size=2"))
	var pages int
	b.fake.fault = func(w http.ResponseWriter, r *http.Request, n int) bool {
		if r.URL.Path != "/api/now/table/cmdb_ci" {
			return false
		}
		if pages++; pages < 3 {
			return false
		}
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprint(w, `{"error":{"message":"Transaction cancelled: maximum execution time exceeded","detail":null},"status":"failure"}`)
		return true
	}
	_, err := b.sync(t, s, sc)
	require.ErrorContains(t, err, "500")
	require.Zero(t, b.count(t, "cis"), "nothing of the delta is written")
	require.Nil(t, b.markOf(t, sc, "cmdb_ci"))
	require.Len(t, b.fake.tableRequests("cmdb_ci"), 2+3, "the failing page is tried 1 + Retries times")

	b.fake.mu.Lock()
	b.fake.fault = nil
	b.fake.mu.Unlock()
	res, err := b.sync(t, s, sc)
	require.NoError(t, err)
	require.Equal(t, 6, res.Tables[0].Import.Inserted)
	require.NotNil(t, b.markOf(t, sc, "cmdb_ci"))
}

// A crash after a table's import committed and before its mark moved
// leaves the mark behind; the next run reads the same delta again and the
// import changes nothing.
func TestSyncCrashBeforeMark(t *testing.T) {
	t.Parallel()
	s, b := setup(t, "cmdb_ci", "cmdb_rel_ci")
	sc := b.schedule(t, "crashy", b.basicTarget("cmdb_ci,cmdb_rel_ci", ""))
	s.beforeMark = func(table string) error { return fmt.Errorf("replica lost before moving the mark of %s", table) }
	_, err := b.sync(t, s, sc)
	require.ErrorContains(t, err, "replica lost")
	require.Equal(t, 6, b.count(t, "cis"), "the import committed")
	require.Nil(t, b.markOf(t, sc, "cmdb_ci"))
	require.Zero(t, b.count(t, "relations"), "the run stopped at the first table")

	s.beforeMark = nil
	res, err := b.sync(t, s, sc)
	require.NoError(t, err)
	ci := byTable(res)["cmdb_ci"]
	require.Equal(t, 6, ci.Read)
	require.Equal(t, 6, ci.Import.Unchanged)
	require.Zero(t, ci.Import.Inserted+ci.Import.Updated)
	require.Equal(t, 6, b.count(t, "cis"))
	require.Equal(t, 5, byTable(res)["cmdb_rel_ci"].Import.Inserted)
	require.NotNil(t, b.markOf(t, sc, "cmdb_ci"))
}

// A host the address policy refuses is not called, and the error says
// which setting allows it.
func TestSyncAddressPolicy(t *testing.T) {
	t.Parallel()
	s, b := setup(t, "cmdb_ci")
	s.opts.Outbound = outbound.Policy{}
	sc := b.schedule(t, "refused", b.basicTarget("cmdb_ci", ""))
	_, err := b.sync(t, s, sc)
	require.ErrorContains(t, err, "address 127.0.0.1 is not allowed for outbound calls (loopback); allow it with BCDR_OUTBOUND_ALLOW")
	require.ErrorContains(t, err, "read cmdb_ci")
	require.Empty(t, b.fake.tableRequests("cmdb_ci"))
	require.Zero(t, b.count(t, "cis"))
}

// Every table bcdr syncs imports with every column it asks for taken by
// the importer (none ignored): suppliers, problems, incidents naming their
// problem by number, and changes.
func TestSyncEveryTable(t *testing.T) {
	t.Parallel()
	all := []string{"cmdb_ci", "cmdb_rel_ci", "core_company", "problem", "incident", "change_request"}
	s, b := setup(t, all...)
	sc := b.schedule(t, "everything", b.basicTarget("change_request,incident,problem,core_company,cmdb_rel_ci,cmdb_ci", ""))
	res, err := b.sync(t, s, sc)
	require.NoError(t, err)
	for _, tr := range res.Tables {
		require.Empty(t, tr.Import.IgnoredColumns, tr.Table)
		require.Empty(t, tr.Import.Warnings, tr.Table)
		require.NotZero(t, tr.Import.Inserted, tr.Table)
	}
	var supplier, supplierKey string
	require.NoError(t, b.pool.QueryRow(b.ctx, `SELECT name, key FROM suppliers`).Scan(&supplier, &supplierKey))
	require.Equal(t, "Acme Telecom", supplier)
	require.Equal(t, "f2a3b4c5d6e7f8a9b0c1d2e3f4a5b601", supplierKey)
	var problemStatus, problemOf string
	require.NoError(t, b.pool.QueryRow(b.ctx, `SELECT p.status, p.external_id FROM incidents i JOIN problems p ON p.id = i.problem_id
		WHERE i.external_id = 'INC0010001'`).Scan(&problemStatus, &problemOf))
	require.Equal(t, "open", problemStatus)
	require.Equal(t, "PRB0040012", problemOf)
	var changeStatus, risk string
	var cis []string
	require.NoError(t, b.pool.QueryRow(b.ctx, `SELECT c.status, c.risk,
			ARRAY(SELECT k.key FROM change_cis l JOIN cis k ON k.id = l.ci_id WHERE l.change_id = c.id)
		FROM changes c WHERE c.external_id = 'CHG0030001'`).Scan(&changeStatus, &risk, &cis))
	require.Equal(t, "implemented", changeStatus)
	require.Equal(t, "medium", risk)
	require.Equal(t, []string{"taxdb"}, cis)
	for _, r := range b.fake.tableRequests("core_company") {
		require.True(t, strings.HasPrefix(r.URL.Query().Get("sysparm_query"), "vendor=true^"), "companies are read as vendors only")
	}
}
