package api

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/demo"
	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/importer"
	"github.com/bcdr/bcdr/orchestrator/itsm"
)

// itsmSnapshot renders every ITSM table, link tables included, as text so
// two database states can be compared exactly.
func (e *testEnv) itsmSnapshot() string {
	e.t.Helper()
	var s string
	err := e.pool.QueryRow(e.t.Context(), `SELECT
		coalesce((SELECT string_agg(row_to_json(t)::text, E'\n' ORDER BY t.id) FROM problems t), '') || E'\n' ||
		coalesce((SELECT string_agg(row_to_json(t)::text, E'\n' ORDER BY t.id) FROM incidents t), '') || E'\n' ||
		coalesce((SELECT string_agg(row_to_json(t)::text, E'\n' ORDER BY t.incident_id, t.ci_id) FROM incident_cis t), '') || E'\n' ||
		coalesce((SELECT string_agg(row_to_json(t)::text, E'\n' ORDER BY t.incident_id, t.service_id) FROM incident_services t), '') || E'\n' ||
		coalesce((SELECT string_agg(row_to_json(t)::text, E'\n' ORDER BY t.id) FROM changes t), '') || E'\n' ||
		coalesce((SELECT string_agg(row_to_json(t)::text, E'\n' ORDER BY t.change_id, t.ci_id) FROM change_cis t), '') || E'\n' ||
		coalesce((SELECT string_agg(row_to_json(t)::text, E'\n' ORDER BY t.id) FROM releases t), '') || E'\n' ||
		coalesce((SELECT string_agg(row_to_json(t)::text, E'\n' ORDER BY t.release_id, t.ci_id) FROM release_cis t), '')`).Scan(&s)
	require.NoError(e.t, err)
	return s
}

// importJSONL posts a JSON lines file.
func (e *testEnv) importJSONL(typ, query, body string) (int, importReport) {
	e.t.Helper()
	resp := e.send("POST", "/api/v1/imports?type="+typ+"&format=jsonl"+query, cm, "application/x-ndjson", []byte(body))
	return resp.Status, importReportOf(e.t, resp)
}

// listIncidents returns the incidents a list query answers, by external id.
func (e *testEnv) listIncidents(query string) map[string]itsm.Incident {
	e.t.Helper()
	resp := e.do("GET", "/api/v1/incidents?limit=1000"+query, itsmReader, nil)
	require.Equal(e.t, http.StatusOK, resp.Status, "%s", resp.Body)
	var page struct{ Items []itsm.Incident }
	resp.JSON(e.t, &page)
	out := map[string]itsm.Incident{}
	for _, i := range page.Items {
		out[i.ExternalID] = i
	}
	return out
}

// A ServiceNow problem and incident export: BOM, CRLF, display values,
// Chinese titles, a quoted description holding a comma and a newline.
const (
	serviceNowProblems = "\ufeffnumber,short_description,opened_at,state,cause_notes\r\n" +
		"PRB0040001,磁盘故障 Disk failures,2026-01-05 12:00:00,Root Cause Analysis,Firmware bug\r\n"
	serviceNowIncidents = "\ufeffnumber,short_description,description,priority,cmdb_ci,business_service,opened_at," +
		"u_restored_at,resolved_at,closed_at,category,close_code,major_incident,problem_id\r\n" +
		"INC0010001,核心数据库宕机 Core DB down,\"Disk failed, then\r\nfailover\",1 - Critical,db1; web1,svcTax," +
		"2026-01-05 10:00:00,2026-01-05 11:15:00,2026-01-05 12:30:00,2026-01-06 09:00:00,Hardware,,true,PRB0040001\r\n" +
		"INC0010002,网络抖动 Network flaps,,3 - Moderate,web1,,2026-02-01 08:00:00,,,,Network,,false,\r\n" +
		"INC0010003,Password reset storm,,4 - Low,,,2026-02-02 08:00:00,,2026-02-02 09:00:00,,Inquiry / Help,Human error,false,\r\n" +
		"INC0010004,Printer queue,,5 - Planning,,,2026-02-03 08:00:00,,,,Inquiry / Help,,false,\r\n"
)

func TestImportServiceNowIncidents(t *testing.T) {
	t.Parallel()
	env := setup(t)
	itsmSeed(t, env, "db1", "web1", "svcTax")
	status, rep := env.importFile("problems", "&source=servicenow", serviceNowProblems)
	require.Equal(t, http.StatusOK, status, "%+v", rep)
	require.Equal(t, 1, rep.Inserted)

	status, rep = env.importFile("incidents", "&source=servicenow", serviceNowIncidents)
	require.Equal(t, http.StatusOK, status, "%+v", rep)
	require.Equal(t, importReport{Rows: 4, Inserted: 4, Written: true}, rep)

	var problemID int64
	require.NoError(t, env.pool.QueryRow(t.Context(), `SELECT id FROM problems WHERE external_id = 'PRB0040001'`).Scan(&problemID))
	got := env.listIncidents("")
	core := got["INC0010001"]
	require.Equal(t, "核心数据库宕机 Core DB down", core.Title)
	require.Equal(t, "Disk failed, then\nfailover", core.Description)
	require.Equal(t, "servicenow", core.Source)
	require.Equal(t, "P1", core.Priority)
	require.Equal(t, "hardware", core.Cause)
	require.True(t, core.Major)
	require.Equal(t, []string{"db1", "web1"}, core.AffectedCIs)
	require.Equal(t, []string{"svcTax"}, core.AffectedServices)
	require.Equal(t, time.Date(2026, 1, 5, 11, 15, 0, 0, time.UTC), core.RestoredAt.UTC(), "u_restored_at wins over resolved_at")
	require.Equal(t, "closed", core.Status)
	require.Equal(t, &problemID, core.ProblemID)
	require.Equal(t, "network", got["INC0010002"].Cause)
	require.Equal(t, "P3", got["INC0010002"].Priority)
	require.Equal(t, "open", got["INC0010002"].Status)
	require.Equal(t, "human_error", got["INC0010003"].Cause, "close code when the category names no cause")
	require.Equal(t, "restored", got["INC0010003"].Status, "resolved_at stands in for a blank u_restored_at")
	require.Equal(t, "other", got["INC0010004"].Cause)
	require.Equal(t, "P4", got["INC0010004"].Priority)

	before := env.itsmSnapshot()
	status, rep = env.importFile("incidents", "&source=servicenow", serviceNowIncidents)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, importReport{Rows: 4, Unchanged: 4, Written: true}, rep)
	require.Equal(t, before, env.itsmSnapshot(), "the second import changes nothing")

	// A changed link alone is a change of the record.
	status, rep = env.importFile("incidents", "&source=servicenow", strings.Replace(serviceNowIncidents, "db1; web1", "db1", 1))
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, 1, rep.Updated)
	require.Equal(t, 3, rep.Unchanged)
	require.Equal(t, []string{"db1"}, env.listIncidents("")["INC0010001"].AffectedCIs)

	// The CSV export imports back unchanged.
	export := env.do("GET", "/api/v1/incidents?format=csv", itsmReader, nil)
	require.Equal(t, http.StatusOK, export.Status)
	require.Equal(t, "text/csv; charset=utf-8", export.Header.Get("Content-Type"))
	require.True(t, strings.HasPrefix(string(export.Body), "source,external_id,title,"))
	require.Contains(t, string(export.Body), "核心数据库宕机 Core DB down")
	before = env.itsmSnapshot()
	status, rep = env.importFile("incidents", "", string(export.Body))
	require.Equal(t, http.StatusOK, status, "%+v", rep)
	require.Equal(t, 4, rep.Unchanged)
	require.Equal(t, before, env.itsmSnapshot())

	filtered := env.do("GET", "/api/v1/incidents?format=csv&priority=P1", itsmReader, nil)
	records, err := csv.NewReader(bytes.NewReader(filtered.Body)).ReadAll()
	require.NoError(t, err)
	require.Len(t, records, 2, "header and the one P1 incident")
	require.Equal(t, "Disk failed, then\nfailover", records[1][3])
	require.Equal(t, http.StatusUnprocessableEntity, env.do("GET", "/api/v1/incidents?format=csv&priority=P9", itsmReader, nil).Status)
}

func TestImportITopIncidents(t *testing.T) {
	t.Parallel()
	env := setup(t)
	itsmSeed(t, env, "db1", "web1")
	const itop = "id,ref,title,description,priority,start_date,resolution_date,close_date,functionalcis_list\n" +
		"17,I-000017,Stockage saturé,,2,2026-03-01 09:00:00,2026-03-01 10:00:00,,functionalci_id->name:web1;impact_code:manual|functionalci_id->name:db1;impact_code:computed\n" +
		"18,I-000018,Lenteur,,4,2026-03-02 09:00:00,,,\n"
	resp := env.send("POST", "/api/v1/imports?type=incidents&source=itop", cm, "text/csv", []byte(itop))
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	var rep importReport
	resp.JSON(t, &rep)
	require.Equal(t, 2, rep.Inserted)
	require.Contains(t, string(resp.Body), `"ignored_columns":["id"]`, "iTop's own id is not the external id")
	got := env.listIncidents("")
	require.Equal(t, []string{"db1", "web1"}, got["I-000017"].AffectedCIs)
	require.Equal(t, "P2", got["I-000017"].Priority)
	require.Equal(t, "restored", got["I-000017"].Status)
	require.Equal(t, "other", got["I-000018"].Cause)
}

func TestImportServiceNowChanges(t *testing.T) {
	t.Parallel()
	env := setup(t)
	itsmSeed(t, env, "db1", "web1")
	const changes = "\ufeffnumber,short_description,type,risk,state,cmdb_ci,start_date,end_date,work_start,work_end,close_code\r\n" +
		"CHG001,补丁 Patch web,Standard,Low,Closed,web1,2026-01-10 20:00:00,2026-01-10 22:00:00,2026-01-10 20:05:00,2026-01-10 21:00:00,Successful\r\n" +
		"CHG002,DB upgrade,Emergency,High,Closed,db1; web1,2026-01-11 20:00:00,2026-01-11 23:00:00,2026-01-11 20:00:00,2026-01-11 22:00:00,Unsuccessful\r\n" +
		"CHG003,Firewall rules,Normal,Moderate,Scheduled,,2026-02-01 20:00:00,2026-02-01 21:00:00,,,\r\n" +
		"CHG004,Abandoned idea,Normal,Moderate,Canceled,,,,,,\r\n" +
		"CHG005,Storage move,Normal,Low,Closed Unsuccessful,db1,2026-01-12 20:00:00,,,,\r\n"
	status, rep := env.importFile("changes", "&source=servicenow", changes)
	require.Equal(t, http.StatusOK, status, "%+v", rep)
	require.Equal(t, 5, rep.Inserted)

	resp := env.do("GET", "/api/v1/changes?limit=100", itsmReader, nil)
	var page struct{ Items []itsm.Change }
	resp.JSON(t, &page)
	byID := map[string]itsm.Change{}
	for _, c := range page.Items {
		byID[c.ExternalID] = c
	}
	require.Equal(t, "standard", byID["CHG001"].Type)
	require.Equal(t, "implemented", byID["CHG001"].Status)
	require.Equal(t, time.Date(2026, 1, 10, 21, 0, 0, 0, time.UTC), byID["CHG001"].ImplementedAt.UTC())
	require.Equal(t, "failed", byID["CHG002"].Status)
	require.Equal(t, "high", byID["CHG002"].Risk)
	require.Equal(t, "emergency", byID["CHG002"].Type)
	require.Equal(t, []string{"db1", "web1"}, byID["CHG002"].AffectedCIs)
	require.Equal(t, "approved", byID["CHG003"].Status)
	require.Equal(t, "medium", byID["CHG003"].Risk)
	require.Equal(t, "requested", byID["CHG004"].Status)
	require.Equal(t, "failed", byID["CHG005"].Status)
	require.Equal(t, time.Date(2026, 1, 12, 20, 0, 0, 0, time.UTC), byID["CHG005"].ActualStart.UTC(), "planned start stands in")

	before := env.itsmSnapshot()
	status, rep = env.importFile("changes", "&source=servicenow", changes)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, 5, rep.Unchanged)
	require.Equal(t, before, env.itsmSnapshot())

	export := env.do("GET", "/api/v1/changes?format=csv&status=failed", itsmReader, nil)
	require.Equal(t, http.StatusOK, export.Status)
	require.True(t, strings.HasPrefix(string(export.Body), "source,external_id,title,type,risk,major,status,affected_cis"))
	require.Equal(t, 3, strings.Count(string(export.Body), "\n"), "%s", export.Body)
	status, rep = env.importFile("changes", "", string(export.Body))
	require.Equal(t, http.StatusOK, status, "%+v", rep)
	require.Equal(t, 2, rep.Unchanged)
	require.Equal(t, before, env.itsmSnapshot())
}

func TestImportITSMJSONLines(t *testing.T) {
	t.Parallel()
	env := setup(t)
	itsmSeed(t, env, "db1", "web1", "svcTax")
	files := []struct{ typ, body string }{
		{"problems", `{"external_id":"P1","title":"Flaky disks","opened_at":"2026-01-01T00:00:00Z","known_error":true,"workaround":"Swap"}` + "\n"},
		{"incidents", `{"external_id":"I1","title":"数据库 down","priority":"P2","cause":"hardware","affected_cis":["db1"],"affected_services":["svcTax"],"opened_at":"2026-01-02T00:00:00Z","problem":"P1"}` + "\n" +
			"\n" + `{"external_id":"I2","title":"Web slow","priority":"P3","cause":"software","opened_at":"2026-01-03T00:00:00Z","restored_at":"2026-01-03T01:00:00Z"}` + "\n"},
		{"changes", `{"external_id":"C1","title":"Patch","type":"normal","risk":"low","status":"implemented","affected_cis":["web1"],"actual_start":"2026-01-04T00:00:00Z"}` + "\n"},
		{"releases", `{"external_id":"R1","version":"2.4.0","title":"Spring release","status":"deployed","deployed_at":"2026-01-05T00:00:00Z","affected_cis":["web1","db1"]}` + "\n"},
	}
	for _, f := range files {
		status, rep := env.importJSONL(f.typ, "", f.body)
		require.Equal(t, http.StatusOK, status, "%s: %+v", f.typ, rep)
		require.Equal(t, strings.Count(strings.TrimSpace(f.body), "}\n")+1, rep.Inserted, f.typ)
	}
	before := env.itsmSnapshot()
	for _, f := range files {
		status, rep := env.importJSONL(f.typ, "", f.body)
		require.Equal(t, http.StatusOK, status)
		require.Zero(t, rep.Inserted+rep.Updated, f.typ)
	}
	require.Equal(t, before, env.itsmSnapshot())

	require.Equal(t, 1, itsmCount(t, env, "release_cis WHERE ci_id = (SELECT id FROM cis WHERE key = 'db1')"))
	var problem string
	require.NoError(t, env.pool.QueryRow(t.Context(), `SELECT p.external_id FROM incidents i JOIN problems p ON p.id = i.problem_id
		WHERE i.external_id = 'I1'`).Scan(&problem))
	require.Equal(t, "P1", problem)

	// A problem's incident list replaces the incidents' links, as on the API.
	var i2 int64
	require.NoError(t, env.pool.QueryRow(t.Context(), `SELECT id FROM incidents WHERE external_id = 'I2'`).Scan(&i2))
	status, rep := env.importJSONL("problems", "", fmt.Sprintf(`{"external_id":"P1","title":"Flaky disks","opened_at":"2026-01-01T00:00:00Z","known_error":true,"workaround":"Swap","incident_ids":[%d]}`, i2))
	require.Equal(t, http.StatusOK, status, "%+v", rep)
	require.Equal(t, 1, rep.Updated)
	require.Equal(t, 1, itsmCount(t, env, "incidents WHERE problem_id IS NOT NULL AND external_id = 'I2'"))
	require.Equal(t, 1, itsmCount(t, env, "incidents WHERE problem_id IS NULL AND external_id = 'I1'"))

	bad := `{"external_id":"X1","title":"x","priority":"P1","cause":"other","opened_at":"yesterday"}
{"external_id":"X2","title":"x","priority":"P1","cause":"other","opened_at":"2026-01-01T00:00:00Z","problem":5}
{"external_id":"X3","title":"x","priority":"P1","cause":"other","opened_at":"2026-01-01T00:00:00Z","colour":"red"}
{"title":"no id","priority":"P1","cause":"other","opened_at":"2026-01-01T00:00:00Z"}
`
	status, rep = env.importJSONL("incidents", "", bad)
	require.Equal(t, http.StatusUnprocessableEntity, status)
	require.Len(t, rep.Problems, 4)
	for i, col := range []string{"opened_at", "problem", "colour", "external_id"} {
		require.Equal(t, i+1, rep.Problems[i].Row)
		require.Equal(t, col, rep.Problems[i].Column, "%+v", rep.Problems[i])
	}
}

func TestImportIncidentsBadReferences(t *testing.T) {
	t.Parallel()
	env := setup(t)
	itsmSeed(t, env, "web1", "svcTax")
	rows := []struct{ line, column, message string }{
		{"A1,ok,P1,web1,svcTax,", "", ""},
		{"A2,ghost,P1,ghost; web1,,", "affected_cis", `no CI has key "ghost"`},
		{"A3,ghosts,P1,nope2; nope1,,", "affected_cis", `no CI has keys "nope1", "nope2"`},
		{"A4,not a service,P1,,web1,", "affected_services", `not business services (class business_service): "web1"`},
		{"A5,unknown service,P1,,svcGone,", "affected_services", `no CI has key "svcGone"`},
		{"A6,no problem,P1,,,PRB404", "problem", `no problem has external_id "PRB404" in source "import"`},
		{",blank id,P1,,,", "external_id", "required in imports"},
		{"A8,sql,P1,x' OR '1'='1,,", "affected_cis", `no CI has key "x' OR '1'='1"`},
		{"A9,\"=HYPERLINK(\"\"x\"\")\",P1,,,", "title", "formula"},
		{"A10,bell\x07,P1,,,", "title", "control characters"},
		{"A11,\xff latin1,P1,,,", "title", "UTF-8"},
		{"A12,bad priority,P9,,,", "priority", "must be one of"},
		{"A1,duplicate,P1,,,", "external_id", "duplicates row 1"},
	}
	var b strings.Builder
	b.WriteString("external_id,title,priority,affected_cis,affected_services,problem,opened_at\n")
	for _, r := range rows {
		b.WriteString(r.line + ",2026-01-01T00:00:00Z\n")
	}
	status, rep := env.importFile("incidents", "&charset=utf-8", b.String())
	require.Equal(t, http.StatusUnprocessableEntity, status)
	require.False(t, rep.Written)
	require.Zero(t, itsmCount(t, env, "incidents"))
	byRow := map[int]int{}
	for i, p := range rep.Problems {
		byRow[p.Row] = i
	}
	for i, r := range rows {
		if r.message == "" {
			require.NotContains(t, byRow, i+1)
			continue
		}
		require.Contains(t, byRow, i+1, "row %d (%s) rejected", i+1, r.message)
		p := rep.Problems[byRow[i+1]]
		require.Equal(t, r.column, p.Column, "row %d: %+v", i+1, p)
		require.Contains(t, p.Message, r.message, "row %d", i+1)
	}

	status, rep = env.importFile("incidents", "&partial=true&charset=utf-8", b.String())
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, 1, rep.Inserted)
	require.Equal(t, len(rows)-1, rep.Rejected)
	require.Equal(t, 1, itsmCount(t, env, "incidents"))
	require.Equal(t, 1, itsmCount(t, env, "incident_cis"))
	require.Equal(t, 1, itsmCount(t, env, "incident_services"))

	resp := env.send("POST", "/api/v1/imports?type=incidents", cm, "text/csv", []byte("title,priority\nx,P1\n"))
	require.Equal(t, http.StatusUnprocessableEntity, resp.Status)
	require.Contains(t, string(resp.Body), "missing external_id, opened_at")
}

func TestImportOneBadIncidentInAHundredThousand(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("imports 100,000 rows")
	}
	env := setup(t)
	itsmSeed(t, env, "web1", "db1")
	schema := env.incidentSchema()
	const n, badRow = 100_000, 73_456
	var b strings.Builder
	b.WriteString("external_id,title,priority,cause,affected_cis,opened_at,restored_at\n")
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 1; i <= n; i++ {
		opened := start.Add(time.Duration(i) * time.Minute)
		restored := opened.Add(time.Hour).Format(time.RFC3339)
		if i == badRow {
			restored = opened.Add(-time.Hour).Format(time.RFC3339)
		}
		fmt.Fprintf(&b, "INC%07d,事件 %d,P%d,hardware,web1; db1,%s,%s\n", i, i, i%4+1, opened.Format(time.RFC3339), restored)
	}
	status, rep := env.importFile("incidents", "", b.String())
	require.Equal(t, http.StatusUnprocessableEntity, status)
	require.Equal(t, n, rep.Rows)
	require.Equal(t, 1, rep.Rejected)
	require.Len(t, rep.Problems, 1)
	require.Equal(t, badRow, rep.Problems[0].Row)
	require.Equal(t, "restored_at", rep.Problems[0].Column)
	for _, table := range []string{"incidents", "incident_cis"} {
		require.Zero(t, itsmCount(t, env, table), "nothing written to %s", table)
	}

	require.Equal(t, schema, env.incidentSchema(), "indexes and constraints are back after the rollback")

	// 99,999 new rows into an empty table load in bulk: indexes and foreign
	// keys are set aside and rebuilt.
	status, rep = env.importFile("incidents", "&partial=true", b.String())
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, n-1, rep.Inserted)
	require.Equal(t, 2*(n-1), itsmCount(t, env, "incident_cis"))
	require.Equal(t, schema, env.incidentSchema(), "every index and constraint is rebuilt")
	require.Len(t, env.listIncidents("&ci=web1&priority=P2"), 1000, "the rebuilt indexes answer queries")

	before := env.itsmSnapshot()
	status, rep = env.importFile("incidents", "&partial=true", b.String())
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, n-1, rep.Unchanged)
	require.Equal(t, before, env.itsmSnapshot())
}

// Imports of one record type take turns: the same file sent four times at
// once is inserted by exactly one of them and found unchanged by the rest.
func TestImportSameIncidentsConcurrently(t *testing.T) {
	t.Parallel()
	env := setup(t)
	itsmSeed(t, env, "db1", "web1", "svcTax")
	var b strings.Builder
	b.WriteString("external_id,title,priority,affected_cis,affected_services,opened_at\n")
	for i := range 500 {
		fmt.Fprintf(&b, "INC%04d,Disk latency %d,P3,db1; web1,svcTax,2026-01-05T10:00:00Z\n", i, i)
	}
	const imports = 4
	reports := make([]importer.Report, imports)
	errs := make([]error, imports)
	var wg sync.WaitGroup
	for i := range imports {
		wg.Go(func() {
			reports[i], errs[i] = demo.Registry().Import(t.Context(), env.pool, "incidents",
				strings.NewReader(b.String()), importer.Options{Format: "csv"})
		})
	}
	wg.Wait()
	inserted, unchanged := 0, 0
	for i := range imports {
		require.NoError(t, errs[i])
		inserted += reports[i].Inserted
		unchanged += reports[i].Unchanged
	}
	require.Equal(t, 500, inserted)
	require.Equal(t, 3*500, unchanged)
	require.Equal(t, 500, itsmCount(t, env, "incidents"))
	require.Equal(t, 1000, itsmCount(t, env, "incident_cis"))
	require.Equal(t, 500, itsmCount(t, env, "incident_services"))
}

// incidentSchema lists the indexes and constraints of the incident tables.
func (e *testEnv) incidentSchema() string {
	e.t.Helper()
	var s string
	err := e.pool.QueryRow(e.t.Context(), `SELECT string_agg(d, E'\n' ORDER BY d) FROM (
		SELECT indexdef AS d FROM pg_indexes WHERE tablename IN ('incidents', 'incident_cis', 'incident_services')
		UNION ALL
		SELECT conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint
			WHERE conrelid IN ('incidents'::regclass, 'incident_cis'::regclass, 'incident_services'::regclass)) x`).Scan(&s)
	require.NoError(e.t, err)
	return s
}

func TestITSMExportRefusesUnknownFormat(t *testing.T) {
	t.Parallel()
	env := setup(t)
	for _, path := range []string{"/api/v1/incidents?format=xml", "/api/v1/changes?format=xlsx"} {
		resp := env.do("GET", path, orchestrator.RoleAuditor, nil)
		require.Equal(t, http.StatusUnprocessableEntity, resp.Status, path)
	}
}
