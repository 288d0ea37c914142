package itsmsync

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/impact"
	"github.com/bcdr/bcdr/orchestrator/importer"
	"github.com/bcdr/bcdr/orchestrator/outbound"
	"github.com/bcdr/bcdr/orchestrator/postgres/pgtest"
	"github.com/bcdr/bcdr/orchestrator/scheduler"
	"github.com/bcdr/bcdr/orchestrator/secretref"
)

// BenchmarkSyncCMDB syncs a generated CMDB of 100,000 CIs and 400,000
// relations from a loopback ServiceNow instance (Table API pages of
// BENCH_SN_PAGE records, 10,000 by default) and, in the same run, imports
// the same records from files shaped as the sync writes them, each into a
// fresh database. It reports both times and their ratio (the issue's
// target: the sync within 2× the file import).
func BenchmarkSyncCMDB(b *testing.B) {
	// BENCH_SN_SCALE divides the sizes, for a quick look.
	scale := 1
	if v := os.Getenv("BENCH_SN_SCALE"); v != "" {
		scale, _ = strconv.Atoi(v)
	}
	nodes, edges := impact.Generate(1, 100_000/scale, 400_000/scale, 2_000/scale)
	inst := newBenchInstance(nodes, edges)
	srv := httptest.NewServer(inst)
	b.Cleanup(srv.Close)
	pageSize := 10000
	if v := os.Getenv("BENCH_SN_PAGE"); v != "" {
		pageSize, _ = strconv.Atoi(v)
	}
	target := fmt.Sprintf("servicenow?instance=%s&tables=cmdb_ci,cmdb_rel_ci&auth=basic&user=%s&password=env:BCDR_SECRET_SN&page_size=%d",
		srv.URL, testUser, pageSize)
	files := inst.files()
	policy, err := outbound.ParsePolicy("127.0.0.1")
	require.NoError(b, err)
	ctx := orchestrator.WithActor(context.Background(), orchestrator.Actor{Name: "bench", Role: orchestrator.RoleAdmin})
	for b.Loop() {
		// The file import of the same records.
		pool := pgtest.New(b)
		reg := registry()
		start := time.Now()
		for _, f := range files {
			rep, err := reg.Import(ctx, pool, f.typ, bytes.NewReader(f.body), importer.Options{Format: "csv", Source: DefaultSource})
			require.NoError(b, err, "%+v", rep.Problems)
		}
		fileS := time.Since(start).Seconds()

		// The sync.
		pool = pgtest.New(b)
		s := NewSyncer(pool, orchestrator.Runtime{}, Options{Imports: registry(), Outbound: policy, Secrets: secretref.Policy{},
			LookupEnv: func(name string) (string, bool) { v, ok := testEnv[name]; return v, ok }, TempDir: b.TempDir()})
		schedules := scheduler.NewService(pool, orchestrator.Runtime{}, scheduler.ServiceOptions{Handled: []scheduler.Kind{scheduler.KindITSMSync},
			Targets: map[scheduler.Kind]func(string) error{scheduler.KindITSMSync: s.CheckTarget}})
		name, kind, spec := "bench", scheduler.KindITSMSync, "@daily"
		sc, err := schedules.Create(ctx, scheduler.Input{Name: &name, Kind: &kind, Target: &target, Cron: &spec})
		require.NoError(b, err)
		t, err := ParseTarget(target)
		require.NoError(b, err)
		start = time.Now()
		res, err := s.Sync(ctx, sc.ID, t)
		require.NoError(b, err)
		syncS := time.Since(start).Seconds()
		var reading, importing time.Duration
		for _, tr := range res.Tables {
			require.Equal(b, map[string]int{"cis": len(nodes), "relations": len(edges)}[tr.Type], tr.Import.Inserted, tr.Table)
			reading += tr.Reading
			importing += tr.Importing
		}
		b.ReportMetric(fileS, "file-import-s")
		b.ReportMetric(syncS, "sync-s")
		b.ReportMetric(reading.Seconds(), "sync-read-s")
		b.ReportMetric(importing.Seconds(), "sync-import-s")
		b.ReportMetric(syncS/fileS, "sync/file")
	}
}

// benchInstance answers the Table API for a generated CMDB, as the fake
// instance of the tests does but generating each page, so that half a
// million records cost no more memory than their generator's slices.
type benchInstance struct {
	cis  []benchRow
	rels []benchRow
}

// benchRow is a record: its sys_id, sys_updated_on and fields in the order
// of the table's columns, each as [display, value].
type benchRow struct {
	id, updated string
	fields      [][2]string
}

// snClass is a bcdr class as ServiceNow names the class table.
var snClass = map[string][2]string{
	"site": {"Location", "cmn_location"}, "network": {"Network Gear", "cmdb_ci_netgear"}, "server": {"Linux Server", "cmdb_ci_linux_server"},
	"vm": {"Virtual Machine Instance", "cmdb_ci_vm_instance"}, "storage": {"Storage Device", "cmdb_ci_storage_device"},
	"database": {"Database Instance", "cmdb_ci_db_instance"}, "application": {"Application", "cmdb_ci_appl"},
	"middleware": {"Middleware", "cmdb_ci_middleware"}, "backup_repository": {"Backup Repository", "u_cmdb_ci_backup_repository"},
	"supplier_service": {"Supplier Service", "u_cmdb_ci_supplier_service"}, "business_service": {"Business Service", "cmdb_ci_service"},
}

// snRelType is a bcdr relation type as ServiceNow's relationship type.
var snRelType = map[string]string{
	"depends_on": "Depends on::Used by", "runs_on": "Runs on::Runs", "hosted_in": "Hosted on::Hosts",
	"provided_by": "Provided By::Provides", "backed_up_by": "Backed up by::Backs up",
	"replicates_to": "Replicates to::Replicated from", "fails_over_to": "Fails over to::Failover for",
}

func newBenchInstance(nodes []impact.Node, edges []impact.Edge) *benchInstance {
	base := time.Date(2025, 1, 6, 0, 0, 0, 0, time.UTC)
	inst := &benchInstance{}
	ids := make(map[string]string, len(nodes))
	for i, n := range nodes {
		id := fmt.Sprintf("%032x", i+1)
		ids[n.Key] = id
		cls, ok := snClass[n.Class]
		if !ok {
			cls = [2]string{n.Class, "cmdb_ci_" + n.Class}
		}
		site := n.Site
		inst.cis = append(inst.cis, benchRow{id: id, updated: base.Add(time.Duration(i/100) * time.Second).Format(snTime),
			fields: [][2]string{{id, id}, {n.Key, n.Key}, cls, {"Operational", "1"}, {"Installed", "1"},
				{site, siteID(site)}, {"CMDB Admin", "6816f79cc0a8016401c5a33be04be441"}}})
	}
	for j, e := range edges {
		id := fmt.Sprintf("e%031x", j+1)
		typ, ok := snRelType[e.Type]
		if !ok {
			typ = e.Type
		}
		inst.rels = append(inst.rels, benchRow{id: id, updated: base.Add(time.Duration(j/400) * time.Second).Format(snTime),
			fields: [][2]string{{id, id}, {e.From, ids[e.From]}, {e.To, ids[e.To]}, {typ, fmt.Sprintf("%032x", len(typ))}}})
	}
	return inst
}

func siteID(site string) string {
	if site == "" {
		return ""
	}
	return fmt.Sprintf("%032x", len(site)+1<<20)
}

// spec is the columns of a table's rows.
func (inst *benchInstance) table(name string) ([]benchRow, []field) {
	if name == "cmdb_rel_ci" {
		return inst.rels, tableSpecs["cmdb_rel_ci"].fields
	}
	return inst.cis, ciSpec.fields
}

func (inst *benchInstance) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rows, cols := inst.table(strings.TrimPrefix(r.URL.Path, "/api/now/table/"))
	q := r.URL.Query()
	from := 0
	for cond := range strings.SplitSeq(q.Get("sysparm_query"), "^") {
		if since, ok := strings.CutPrefix(cond, "sys_updated_on>="); ok {
			from = sort.Search(len(rows), func(i int) bool { return rows[i].updated >= since })
		}
	}
	limit, _ := strconv.Atoi(q.Get("sysparm_limit"))
	offset, _ := strconv.Atoi(q.Get("sysparm_offset"))
	rows = rows[from:]
	total := len(rows)
	rows = rows[min(offset, total):min(offset+limit, total)]
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set("X-Total-Count", strconv.Itoa(total))
	if total > limit {
		w.Header().Set("Link", links(r.URL, offset, limit, total))
	}
	buf := make([]byte, 0, 1<<20)
	buf = append(buf, `{"result":[`...)
	for i, row := range rows {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, '{')
		for k, c := range cols {
			buf = appendField(buf, c.name, row.fields[k][0], row.fields[k][1])
			buf = append(buf, ',')
		}
		buf = appendField(buf, "sys_updated_on", row.updated, row.updated)
		buf = append(buf, '}')
		if len(buf) > 512<<10 {
			_, _ = w.Write(buf)
			buf = buf[:0]
		}
	}
	buf = append(buf, "]}"...)
	_, _ = w.Write(buf)
}

func appendField(buf []byte, name, display, value string) []byte {
	buf = strconv.AppendQuote(buf, name)
	buf = append(buf, `:{"display_value":`...)
	buf = strconv.AppendQuote(buf, display)
	buf = append(buf, `,"value":`...)
	buf = strconv.AppendQuote(buf, value)
	return append(buf, '}')
}

// benchFile is a file of one record type.
type benchFile struct {
	typ  string
	body []byte
}

// files are the same records as the instance holds, as the CSV files the
// sync writes (a ServiceNow list export's columns).
func (inst *benchInstance) files() []benchFile {
	var out []benchFile
	for _, table := range []string{"cmdb_ci", "cmdb_rel_ci"} {
		rows, cols := inst.table(table)
		var b bytes.Buffer
		w := csv.NewWriter(&b)
		header := make([]string, len(cols))
		for i, c := range cols {
			header[i] = c.name
		}
		_ = w.Write(header)
		rec := make([]string, len(cols))
		for _, row := range rows {
			for i, c := range cols {
				if c.display {
					rec[i] = row.fields[i][0]
				} else {
					rec[i] = row.fields[i][1]
				}
			}
			_ = w.Write(rec)
		}
		w.Flush()
		out = append(out, benchFile{typ: specOf(table).importType, body: b.Bytes()})
	}
	return out
}
