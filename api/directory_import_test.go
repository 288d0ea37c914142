package api

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// dirImportTables are the directory tables with the order that makes a
// rendering of them stable.
var dirImportTables = []struct{ table, order string }{
	{"contacts", "id"}, {"contact_deputies", "contact_id, position"},
	{"call_trees", "id"}, {"call_tree_levels", "call_tree_id, level"}, {"call_tree_contacts", "call_tree_id, level, position"},
	{"suppliers", "id"}, {"supplier_contacts", "supplier_id, position"}, {"supplier_contracts", "supplier_id, position"},
	{"supplier_services", "supplier_id, position"}, {"slas", "id"}, {"sla_targets", "sla_id, priority"},
}

// dirSnapshot renders every directory table row by row, with the
// transaction that wrote each row, and the id sequences, so two states
// compare exactly: an import that rewrote a row, even with the same
// values, or merely drew an id, shows.
func dirSnapshot(t *testing.T, env *testEnv) string {
	t.Helper()
	parts := make([]string, 0, len(dirImportTables)+4)
	for _, tb := range dirImportTables {
		parts = append(parts, fmt.Sprintf(`'%[1]s:' || coalesce((SELECT string_agg(x.xmin || ' ' || row_to_json(x)::text, E'\n' ORDER BY %[2]s) FROM %[1]s x), '')`,
			tb.table, tb.order))
	}
	for _, seq := range []string{"contacts_id_seq", "call_trees_id_seq", "suppliers_id_seq", "slas_id_seq"} {
		parts = append(parts, fmt.Sprintf(`(SELECT '%[1]s:' || last_value || '/' || is_called FROM %[1]s)`, seq))
	}
	var s string
	require.NoError(t, env.pool.QueryRow(t.Context(), `SELECT concat_ws(E'\n', `+strings.Join(parts, ", ")+`)`).Scan(&s))
	return s
}

// dirImportJSONL imports JSON lines and returns the status and report.
func dirImportJSONL(t *testing.T, env *testEnv, typ, query, body string) (int, importReport) {
	t.Helper()
	resp := env.send("POST", "/api/v1/imports?format=jsonl&type="+typ+query, cm, "application/x-ndjson", []byte(body))
	return resp.Status, importReportOf(t, resp)
}

// dirImportTwice imports a file, checks every row was inserted, imports it
// again and checks that nothing in the directory changed.
func dirImportTwice(t *testing.T, env *testEnv, typ, format, body string, rows int) {
	t.Helper()
	imp := func() (int, importReport) {
		if format == "jsonl" {
			return dirImportJSONL(t, env, typ, "", body)
		}
		return env.importFile(typ, "", body)
	}
	status, rep := imp()
	require.Equal(t, http.StatusOK, status, "%+v", rep)
	require.Equal(t, importReport{Rows: rows, Inserted: rows, Written: true}, rep)
	require.Empty(t, rep.Problems)
	before := dirSnapshot(t, env)
	status, rep = imp()
	require.Equal(t, http.StatusOK, status, "%+v", rep)
	require.Equal(t, importReport{Rows: rows, Unchanged: rows, Written: true}, rep)
	require.Equal(t, before, dirSnapshot(t, env), "the second %s import of %s changes nothing", format, typ)
}

// dirProblem is one expected problem of a rejected import.
type dirProblem struct {
	row             int
	column, message string
}

// dirRejects imports a file that must be refused with exactly the problems
// given and checks nothing was written; then imports it with partial=true
// and checks the good rows were.
func dirRejects(t *testing.T, env *testEnv, typ, body string, good int, want ...dirProblem) {
	t.Helper()
	before := dirSnapshot(t, env)
	status, rep := env.importFile(typ, "", body)
	require.Equal(t, http.StatusUnprocessableEntity, status, "%+v", rep)
	require.False(t, rep.Written)
	require.Len(t, rep.Problems, len(want), "%+v", rep.Problems)
	for i, w := range want {
		p := rep.Problems[i]
		require.Equal(t, w.row, p.Row, "%+v", p)
		require.Equal(t, w.column, p.Column, "%+v", p)
		require.Contains(t, p.Message, w.message, "%+v", p)
	}
	require.Equal(t, before, dirSnapshot(t, env), "a rejected file writes nothing")

	status, rep = env.importFile(typ, "&partial=true", body)
	require.Equal(t, http.StatusOK, status, "%+v", rep)
	require.True(t, rep.Written)
	require.Equal(t, len(want), rep.Rejected)
	require.Equal(t, good, rep.Inserted+rep.Updated+rep.Unchanged)
}

// A ServiceNow sys_user export: BOM, CRLF, aliased columns, a deputy
// defined further down the file, Chinese text.
const sysUserCSV = "\ufeffsys_id,user_name,name,title,company,mobile_phone,email,deputies\r\n" +
	"u1,alice,Alice Chen,DBA,IT,+44 20 7946 0000,alice@example.com,carol\r\n" +
	"u2,bob,Bob 王,Duty manager,运维部,,bob@example.com,alice; carol\r\n" +
	"u3,carol,Carol Diaz,,IT,,,\r\n"

func TestImportContacts(t *testing.T) {
	t.Parallel()
	env := setup(t)
	dirImportTwice(t, env, "contacts", "csv", sysUserCSV, 3)

	var bob struct {
		Name, Role, Organisation, Source string
		Deputies                         []string
	}
	env.do("GET", "/api/v1/contacts/bob", dirReader, nil).JSON(t, &bob)
	require.Equal(t, "Bob 王", bob.Name)
	require.Equal(t, "Duty manager", bob.Role)
	require.Equal(t, "运维部", bob.Organisation)
	require.Equal(t, []string{"alice", "carol"}, bob.Deputies)
	require.Equal(t, "import", bob.Source)
	var alice map[string]any
	env.do("GET", "/api/v1/contacts/alice", dirReader, nil).JSON(t, &alice)
	require.Equal(t, "+44 20 7946 0000", alice["phone"])
	require.Equal(t, "u1", alice["external_id"])
	require.Equal(t, []any{"carol"}, alice["deputies"])

	// Only bob's deputies change order: bob counts as updated, and only
	// his deputy rows are rewritten.
	status, rep := env.importFile("contacts", "", strings.Replace(sysUserCSV, "alice; carol", "carol; alice", 1))
	require.Equal(t, http.StatusOK, status, "%+v", rep)
	require.Equal(t, 1, rep.Updated)
	require.Equal(t, 2, rep.Unchanged)
	env.do("GET", "/api/v1/contacts/bob", dirReader, nil).JSON(t, &bob)
	require.Equal(t, []string{"carol", "alice"}, bob.Deputies)

	// An empty deputies cell removes them.
	status, rep = env.importFile("contacts", "", strings.Replace(sysUserCSV, ",alice; carol\r\n", ",\r\n", 1))
	require.Equal(t, http.StatusOK, status, "%+v", rep)
	require.Equal(t, 1, rep.Updated)
	env.do("GET", "/api/v1/contacts/bob", dirReader, nil).JSON(t, &bob)
	require.Empty(t, bob.Deputies)
}

func TestImportContactsJSONL(t *testing.T) {
	t.Parallel()
	env := setup(t)
	body := `{"key":"dave","name":"Dave","deputies":["erin"],"chat":"@dave","source":"hr","external_id":"E-1"}
{"key":"erin","name":"Erin","phone":"+1 555 0100","notes":"line one\nline two"}
`
	dirImportTwice(t, env, "contacts", "jsonl", body, 2)
	var dave map[string]any
	env.do("GET", "/api/v1/contacts/dave", dirReader, nil).JSON(t, &dave)
	require.Equal(t, []any{"erin"}, dave["deputies"])
	require.Equal(t, "hr", dave["source"])
	require.Equal(t, "E-1", dave["external_id"])
	require.Equal(t, "@dave", dave["chat"])

	status, rep := dirImportJSONL(t, env, "contacts", "", `{"key":"x","name":"X","deputies":"erin"}`+"\n")
	require.Equal(t, http.StatusUnprocessableEntity, status)
	require.Equal(t, "deputies", rep.Problems[0].Column)
}

func TestImportContactsRejectsUnknownDeputies(t *testing.T) {
	t.Parallel()
	env := setup(t)
	require.Equal(t, http.StatusCreated, env.do("POST", "/api/v1/contacts", dirWriter, map[string]any{"key": "zed", "name": "Zed"}).Status)
	body := "key,name,deputies\n" +
		"ann,Ann,ghost\n" + // unknown
		"ben,Ben,ann\n" + // names a rejected row: rejected with it
		"cat,Cat,zed; ben\n" + // and so on down the chain
		"dan,Dan,zed\n" + // fine
		"zed,Zed again,\n" + // zed exists with another identity (manual)
		"eve,Eve,zed\n" // zed still exists: fine
	dirRejects(t, env, "contacts", body, 2,
		dirProblem{1, "deputies", `no contact with key "ghost"`},
		dirProblem{2, "deputies", `deputy "ann" is defined on row 1, which is rejected`},
		dirProblem{3, "deputies", `deputy "ben" is defined on row 2, which is rejected`},
		dirProblem{5, "key", "key zed already belongs to the contact with source manual and external_id zed"},
	)
	var dan map[string]any
	env.do("GET", "/api/v1/contacts/dan", dirReader, nil).JSON(t, &dan)
	require.Equal(t, []any{"zed"}, dan["deputies"])
	require.Equal(t, http.StatusNotFound, env.do("GET", "/api/v1/contacts/ben", dirReader, nil).Status)
}

func TestImportContactsBadCells(t *testing.T) {
	t.Parallel()
	env := setup(t)
	body := "key,name,phone,email,deputies\n" +
		"a'; DROP TABLE contacts;--,A,,,\n" +
		"../../etc/passwd,B,,,\n" +
		"c,C,call me,,\n" +
		"d,D,,not-an-email,\n" +
		"e,E,,,e\n" +
		"f,F,,,g; g\n" +
		"g,=HYPERLINK(1),,,\n" +
		"h,,,,\n" +
		"i,\"quoted, \"\"fine\"\" 中文\",,,\n"
	dirRejects(t, env, "contacts", body, 1,
		dirProblem{1, "key", "letters"},
		dirProblem{2, "key", "letters"},
		dirProblem{3, "phone", "phone number"},
		dirProblem{4, "email", "email address"},
		dirProblem{5, "deputies[0]", "own deputy"},
		dirProblem{6, "deputies[1]", "listed twice"},
		dirProblem{7, "name", "formula"},
		dirProblem{8, "name", "required"},
	)
	var i map[string]any
	env.do("GET", "/api/v1/contacts/i", dirReader, nil).JSON(t, &i)
	require.Equal(t, `quoted, "fine" 中文`, i["name"])
	var n int
	require.NoError(t, env.pool.QueryRow(t.Context(), `SELECT count(*) FROM contacts`).Scan(&n))
	require.Equal(t, 1, n)
}

const callTreeCSV = "key,name,service,runbook,levels\n" +
	`payments-tree,Payments escalation,payments,,"[{""contacts"":[""alice"",""bob""],""wait"":""15m""},{""contacts"":[""bob""]}]"` + "\n" +
	`failover-tree,DB failover,,rb-failover,"[{""contacts"":[""alice""],""wait"":""5m""}]"` + "\n"

func TestImportCallTrees(t *testing.T) {
	t.Parallel()
	env := setup(t)
	dirSeed(t, env)
	dirImportTwice(t, env, "call-trees", "csv", callTreeCSV, 2)

	var tree struct {
		Name    string
		Service *string
		Runbook *string
		Levels  []struct {
			Level    int      `json:"level"`
			Contacts []string `json:"contacts"`
			Wait     string   `json:"wait"`
		}
	}
	env.do("GET", "/api/v1/call-trees/payments-tree", dirReader, nil).JSON(t, &tree)
	require.Equal(t, "payments", *tree.Service)
	require.Nil(t, tree.Runbook)
	require.Len(t, tree.Levels, 2)
	require.Equal(t, []string{"alice", "bob"}, tree.Levels[0].Contacts)
	require.Equal(t, "15m", tree.Levels[0].Wait)
	require.Equal(t, 2, tree.Levels[1].Level)
	require.Equal(t, "0s", tree.Levels[1].Wait)
	env.do("GET", "/api/v1/call-trees/failover-tree", dirReader, nil).JSON(t, &tree)
	require.Nil(t, tree.Service)
	require.Equal(t, "rb-failover", *tree.Runbook)

	// A change confined to the levels still counts as an update.
	status, rep := env.importFile("call-trees", "", strings.Replace(callTreeCSV, `""wait"":""5m""`, `""wait"":""10m""`, 1))
	require.Equal(t, http.StatusOK, status, "%+v", rep)
	require.Equal(t, 1, rep.Updated)
	require.Equal(t, 1, rep.Unchanged)
	env.do("GET", "/api/v1/call-trees/failover-tree", dirReader, nil).JSON(t, &tree)
	require.Equal(t, "10m", tree.Levels[0].Wait)
}

func TestImportCallTreesJSONL(t *testing.T) {
	t.Parallel()
	env := setup(t)
	dirSeed(t, env)
	body := `{"key":"billing-tree","name":"Billing","service":"billing","levels":[{"contacts":["bob"],"wait":"1h"},{"level":2,"contacts":["alice","bob"]}],"source":"pager","external_id":"T-9"}
{"key":"billing-dr","name":"Billing DR","service":"billing","runbook":"rb-dr","levels":[{"contacts":["alice"]}]}
`
	dirImportTwice(t, env, "call-trees", "jsonl", body, 2)
	require.Equal(t, []string{"billing-dr", "billing-tree"}, dirKeys(t, env, "/api/v1/call-trees?service=billing", "key"))
	var tree map[string]any
	env.do("GET", "/api/v1/call-trees/billing-tree", dirReader, nil).JSON(t, &tree)
	require.Equal(t, "T-9", tree["external_id"])
}

func TestImportCallTreesRejectsUnknownReferences(t *testing.T) {
	t.Parallel()
	env := setup(t)
	dirSeed(t, env)
	existing := map[string]any{"key": "pay", "name": "Pay", "service": "payments", "levels": []map[string]any{{"contacts": []string{"alice"}}}}
	require.Equal(t, http.StatusCreated, env.do("POST", "/api/v1/call-trees", dirWriter, existing).Status)
	lv := func(contacts string) string { return `"[{""contacts"":[` + contacts + `]}]"` }
	body := "key,name,service,runbook,levels\n" +
		"t1,T1,ghost-service,," + lv(`""alice""`) + "\n" +
		"t2,T2,db1,," + lv(`""alice""`) + "\n" +
		"t3,T3,,rb1," + lv(`""alice"",""ghost""`) + "\n" +
		"t4,T4,payments,," + lv(`""alice""`) + "\n" + // payments already has a tree
		"t5,T5,billing,," + lv(`""bob""`) + "\n" + // fine
		"t6,T6,billing,," + lv(`""bob""`) + "\n" + // same scope as row 5
		"t7,T7,billing,rb2,\"[{\"\"contacts\"\":\"\n" + // not JSON
		"pay,T8,,rb3," + lv(`""bob""`) + "\n" // key taken by the manual tree
	dirRejects(t, env, "call-trees", body, 1,
		dirProblem{1, "service", `no CI with key "ghost-service"`},
		dirProblem{2, "service", `CI "db1" is a database, not a business_service`},
		dirProblem{3, "levels", `level 1: no contact with key "ghost"`},
		dirProblem{4, "service", `already has the call tree pay (source manual, external_id pay)`},
		dirProblem{6, "service", "is the scope of row 5 of this file too"},
		dirProblem{7, "levels", "JSON"},
		dirProblem{8, "key", "key pay already belongs to the call tree with source manual"},
	)
	var tree map[string]any
	require.Equal(t, http.StatusOK, env.do("GET", "/api/v1/call-trees/t5", dirReader, nil).Status)
	env.do("GET", "/api/v1/call-trees/pay", dirReader, nil).JSON(t, &tree)
	require.Equal(t, "Pay", tree["name"])
}

// A ServiceNow core_company export has no key: the sys_id becomes it.
const coreCompanyCSV = "sys_id,name,notes,contacts,services,contracts\n" +
	`c0ffee01,Acme Telecom 电信,Primary ISP,alice; bob,isp-link,"[{""reference"":""C-1"",""start"":""2025-01-01"",""end"":""2025-12-31"",""support_hours"":""business_hours""},{""reference"":""C-2"",""start"":""2026-01-01"",""end"":""2030-12-31"",""rto"":""4h"",""rpo"":""15m"",""support_hours"":""24x7"",""notes"":""renewed""}]"` + "\n" +
	"c0ffee02,Paper Co,,,,\n"

func TestImportSuppliers(t *testing.T) {
	t.Parallel()
	env := setup(t)
	dirSeed(t, env)
	dirImportTwice(t, env, "suppliers", "csv", coreCompanyCSV, 2)

	var acme struct {
		Name           string
		ExternalID     string `json:"external_id"`
		Contacts       []string
		Services       []string
		Contracts      []map[string]any
		ActiveContract map[string]any `json:"active_contract"`
	}
	env.do("GET", "/api/v1/suppliers/c0ffee01", dirReader, nil).JSON(t, &acme)
	require.Equal(t, "Acme Telecom 电信", acme.Name)
	require.Equal(t, "c0ffee01", acme.ExternalID)
	require.Equal(t, []string{"alice", "bob"}, acme.Contacts)
	require.Equal(t, []string{"isp-link"}, acme.Services)
	require.Len(t, acme.Contracts, 2)
	require.Equal(t, "C-2", acme.ActiveContract["reference"])
	require.Equal(t, "4h", acme.ActiveContract["rto"])
	require.Nil(t, acme.Contracts[0]["rto"])
	require.Equal(t, []string{"c0ffee01"}, dirKeys(t, env, "/api/v1/suppliers?service=isp-link", "key"))

	// Each kind of child change is an update of its supplier alone.
	for _, change := range [][2]string{{"alice; bob", "bob"}, {",isp-link,", ",,"}, {`""renewed""`, `""renewed twice""`}} {
		status, rep := env.importFile("suppliers", "", strings.Replace(coreCompanyCSV, change[0], change[1], 1))
		require.Equal(t, http.StatusOK, status, "%+v", rep)
		require.Equal(t, 1, rep.Updated, change[0])
		require.Equal(t, 1, rep.Unchanged, change[0])
		_, rep = env.importFile("suppliers", "", coreCompanyCSV)
		require.Equal(t, 1, rep.Updated, "back from %s", change[0])
	}
}

func TestImportSuppliersJSONL(t *testing.T) {
	t.Parallel()
	env := setup(t)
	dirSeed(t, env)
	body := `{"key":"cloudco","name":"CloudCo","services":["isp-link"],"contracts":[{"reference":"K","start":"2026-01-01","end":"2026-03-31","support_hours":"24x7"}],"source":"erp","external_id":"V-7"}
{"key":"tiny","name":"Tiny","contacts":["bob"]}
`
	dirImportTwice(t, env, "suppliers", "jsonl", body, 2)
	var sup map[string]any
	env.do("GET", "/api/v1/suppliers/cloudco", dirReader, nil).JSON(t, &sup)
	require.Equal(t, "V-7", sup["external_id"])
	require.Equal(t, []any{"isp-link"}, sup["services"])
	env.do("GET", "/api/v1/suppliers/tiny", dirReader, nil).JSON(t, &sup)
	require.Equal(t, []any{"bob"}, sup["contacts"])
}

func TestImportSuppliersRejectsUnknownReferences(t *testing.T) {
	t.Parallel()
	env := setup(t)
	dirSeed(t, env)
	require.Equal(t, http.StatusCreated, env.do("POST", "/api/v1/suppliers", dirWriter, map[string]any{"key": "taken", "name": "Taken"}).Status)
	body := "key,name,contacts,services,contracts\n" +
		"s1,S1,alice; ghost,,\n" +
		"s2,S2,,isp-link; nowhere,\n" +
		"s3,S3,,db1,\n" +
		"s4,S4,bob,isp-link,\n" + // fine
		"taken,Again,,,\n" +
		`s6,S6,,,"[{""reference"":""R"",""start"":""2026-02-30"",""end"":""2026-12-31"",""support_hours"":""24x7""}]"` + "\n" +
		`s7,S7,,,"[{""reference"":""R"",""start"":""2026-06-01"",""end"":""2026-01-01"",""support_hours"":""24x7""}]"` + "\n" +
		",Nameless,,,\n"
	dirRejects(t, env, "suppliers", body, 1,
		dirProblem{1, "contacts", `no contact with key "ghost"`},
		dirProblem{2, "services", `no CI with key "nowhere"`},
		dirProblem{3, "services", `CI "db1" is a database, not a supplier_service`},
		dirProblem{5, "key", "key taken already belongs to the supplier with source manual"},
		dirProblem{6, "contracts", "must be"},
		dirProblem{7, "contracts[0].end", "must not be before start"},
		dirProblem{8, "key", "required"},
	)
	require.Equal(t, []string{"s4", "taken"}, dirKeys(t, env, "/api/v1/suppliers", "key"))
}

const slaCSV = "business_service,sla,period,availability,measured_in,start,end,targets\n" +
	`payments,Gold,month,99.95,business_hours,2026-01-01,,"{""P1"":{""response"":""15m"",""resolution"":""4h""},""P2"":{""response"":""1h"",""resolution"":""1d""}}"` + "\n" +
	"billing,Basic,year,99,24x7,2025-01-01,2025-12-31,\n"

func TestImportSLAs(t *testing.T) {
	t.Parallel()
	env := setup(t)
	dirSeed(t, env)
	dirImportTwice(t, env, "slas", "csv", slaCSV, 2)

	var page struct {
		Items []struct {
			ID                 int64   `json:"id"`
			Name               string  `json:"name"`
			AvailabilityTarget float64 `json:"availability_target"`
			MeasuredIn         string  `json:"measured_in"`
			ValidFrom          string  `json:"valid_from"`
			ValidTo            *string `json:"valid_to"`
			ExternalID         string  `json:"external_id"`
			Targets            map[string]struct{ Response, Resolution string }
		} `json:"items"`
	}
	env.do("GET", "/api/v1/slas?service=payments", dirReader, nil).JSON(t, &page)
	require.Len(t, page.Items, 1)
	gold := page.Items[0]
	require.Equal(t, 99.95, gold.AvailabilityTarget)
	require.Equal(t, "2026-01-01", gold.ValidFrom)
	require.Nil(t, gold.ValidTo)
	require.Equal(t, "payments/Gold/2026-01-01", gold.ExternalID)
	require.Equal(t, "15m", gold.Targets["P1"].Response)
	require.Equal(t, "24h", gold.Targets["P2"].Resolution)
	var basic map[string]any
	env.do("GET", "/api/v1/slas?service=billing", dirReader, nil).JSON(t, &page)
	env.do("GET", fmt.Sprintf("/api/v1/slas/%d", page.Items[0].ID), dirReader, nil).JSON(t, &basic)
	require.Equal(t, "2025-12-31", basic["valid_to"])
	require.Equal(t, map[string]any{}, basic["targets"])

	status, rep := env.importFile("slas", "", strings.Replace(slaCSV, `""1h""`, `""2h""`, 1))
	require.Equal(t, http.StatusOK, status, "%+v", rep)
	require.Equal(t, 1, rep.Updated, "a change of targets alone is an update")
	require.Equal(t, 1, rep.Unchanged)
}

func TestImportSLAsJSONL(t *testing.T) {
	t.Parallel()
	env := setup(t)
	dirSeed(t, env)
	body := `{"service":"payments","name":"Silver","period":"quarter","availability_target":99.5,"measured_in":"24x7","valid_from":"2026-04-01","valid_to":null,"targets":{"P4":{"response":"1d","resolution":"10d"}},"source":"contracts","external_id":"SLA-1"}
{"service":"billing","name":"Silver","period":"month","availability_target":98,"measured_in":"business_hours","valid_from":"2026-01-01","valid_to":"2026-12-31"}
`
	dirImportTwice(t, env, "slas", "jsonl", body, 2)
	var page struct {
		Items []map[string]any `json:"items"`
	}
	env.do("GET", "/api/v1/slas?period=quarter", dirReader, nil).JSON(t, &page)
	require.Len(t, page.Items, 1)
	require.Equal(t, "SLA-1", page.Items[0]["external_id"])

	status, rep := dirImportJSONL(t, env, "slas", "", `{"service":"payments","name":"X","period":"month","availability_target":"high","measured_in":"24x7","valid_from":"2026-01-01"}`+"\n")
	require.Equal(t, http.StatusUnprocessableEntity, status)
	require.Equal(t, "availability_target", rep.Problems[0].Column)
}

func TestImportSLAsRejectsUnknownReferences(t *testing.T) {
	t.Parallel()
	env := setup(t)
	dirSeed(t, env)
	manual := map[string]any{"service": "billing", "name": "Gold", "period": "month", "availability_target": 99.9,
		"measured_in": "24x7", "valid_from": "2026-01-01"}
	require.Equal(t, http.StatusCreated, env.do("POST", "/api/v1/slas", dirWriter, manual).Status)
	body := "service,name,period,availability_target,measured_in,valid_from,valid_to,targets\n" +
		"ghost,A,month,99,24x7,2026-01-01,,\n" +
		"db1,B,month,99,24x7,2026-01-01,,\n" +
		"billing,Gold,month,99,24x7,2026-01-01,,\n" + // the manual SLA's natural key
		"payments,C,month,99,24x7,2026-01-01,,\n" + // fine
		"payments,C,year,99,24x7,2026-01-01,,\n" + // same natural key as row 4
		"payments,D,month,99,24x7,31/01/2026,,\n" +
		"payments,E,month,101,24x7,2026-01-01,,\n" +
		`payments,F,month,99,24x7,2026-01-01,,"{""P9"":{""response"":""1h"",""resolution"":""2h""}}"` + "\n" +
		`payments,G,month,99,24x7,2026-01-01,,"{""P1"":{""response"":""4h"",""resolution"":""1h""}}"` + "\n"
	dirRejects(t, env, "slas", body, 1,
		dirProblem{1, "service", `no CI with key "ghost"`},
		dirProblem{2, "service", `CI "db1" is a database, not a business_service`},
		dirProblem{3, "name", `service billing already has the SLA "Gold" from 2026-01-01, with source manual`},
		dirProblem{5, "external_id", "duplicates row 4"},
		dirProblem{6, "valid_from", "must be a day"},
		dirProblem{7, "availability_target", "percentage"},
		dirProblem{8, "targets.P9", "priority"},
		dirProblem{9, "targets.P1.resolution", "must not be shorter"},
	)
	var page struct {
		Items []map[string]any `json:"items"`
	}
	env.do("GET", "/api/v1/slas?service=payments", dirReader, nil).JSON(t, &page)
	require.Len(t, page.Items, 1)
	require.Equal(t, "C", page.Items[0]["name"])
}
