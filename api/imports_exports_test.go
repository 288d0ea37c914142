package api

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// exportFile reads a file of testdata/exports, written as the tools write
// them: every cell quoted, a byte-order mark, CRLF, multi-line cells and
// display values.
func exportFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "exports", name))
	require.NoError(t, err)
	return string(b)
}

// importOK imports a file that must go in whole, and returns its report.
func (e *testEnv) importOK(typ, query, body string) importReport {
	e.t.Helper()
	status, rep := e.importFile(typ, query, body)
	require.Equal(e.t, http.StatusOK, status, "%s: %+v", typ, rep)
	require.Zero(e.t, rep.Rejected, "%+v", rep.Problems)
	return rep
}

func TestImportServiceNowExportsAsExported(t *testing.T) {
	t.Parallel()
	env := setup(t)
	files := []struct{ typ, name string }{
		{"cis", "servicenow_cmdb_ci.csv"}, {"relations", "servicenow_cmdb_rel_ci.csv"}, {"incidents", "servicenow_incident.csv"},
	}
	first := map[string]importReport{}
	for _, f := range files {
		first[f.typ] = env.importOK(f.typ, "", exportFile(t, f.name))
	}
	require.Equal(t, 11, first["cis"].Inserted)
	require.Equal(t, 6, first["relations"].Inserted)
	require.Equal(t, 4, first["incidents"].Inserted)

	// Keys come from names; a name two CIs share gives the second (in
	// sys_id order) a suffix, and the report says so.
	warnings := first["cis"]
	require.Len(t, warnings.Warnings, 1)
	require.Equal(t, 8, warnings.Warnings[0].Row)
	require.Contains(t, warnings.Warnings[0].Message, "key load-balancer, derived from the name, is taken by row 9; this CI gets key load-balancer-2")

	type ciRow struct{ Key, Name, Class, Status, ExternalID string }
	rows, err := env.pool.Query(t.Context(), `SELECT key, name, class, status, external_id FROM cis ORDER BY key`)
	require.NoError(t, err)
	var cis []ciRow
	for rows.Next() {
		var c ciRow
		require.NoError(t, rows.Scan(&c.Key, &c.Name, &c.Class, &c.Status, &c.ExternalID))
		cis = append(cis, c)
	}
	require.NoError(t, rows.Err())
	require.Equal(t, []ciRow{
		{"esx-bj-01", "esx-bj-01", "server", "maintenance", "5fc37291fb2f4410a1c2d3e4f5a6b7d4"},
		{"load-balancer", "Load Balancer", "network", "planned", "1a00aaaafb2f4410a1c2d3e4f5a6b7d6"},
		{"load-balancer-2", "Load Balancer", "network", "operational", "60d483a2fb2f4410a1c2d3e4f5a6b7d5"},
		{"new-sso", "new-sso", "application", "planned", "82f6a5c4fb2f4410a1c2d3e4f5a6b7d8"},
		{"old-fax-01", "old-fax-01", "server", "retired", "71e594b3fb2f4410a1c2d3e4f5a6b7d7"},
		{"online-tax-service", "Online Tax Service", "business_service", "operational", "9f3a1c0b1b2f4410a1c2d3e4f5a6b7c8"},
		{"taxapp01", "taxapp01", "server", "operational", "2c904f6e1b2f4410a1c2d3e4f5a6b7d1"},
		{"taxcollect-app", "TaxCollect App", "application", "operational", "1b8f3e5d1b2f4410a1c2d3e4f5a6b7d0"},
		{"taxdb01", "taxdb01", "database", "operational", "3da1507f1b2f4410a1c2d3e4f5a6b7d2"},
		{"taxdb02", "taxdb02", "database", "operational", "4eb26180fb2f4410a1c2d3e4f5a6b7d3"},
		{"网上办税服务厅", "网上办税服务厅", "business_service", "operational", "0a7e2d4c1b2f4410a1c2d3e4f5a6b7c9"},
	}, cis)

	var priority, cis1, services1 string
	require.NoError(t, env.pool.QueryRow(t.Context(), `SELECT i.priority,
			(SELECT string_agg(c.key, ',') FROM incident_cis l JOIN cis c ON c.id = l.ci_id WHERE l.incident_id = i.id),
			(SELECT string_agg(c.key, ',') FROM incident_services l JOIN cis c ON c.id = l.service_id WHERE l.incident_id = i.id)
		FROM incidents i WHERE external_id = 'INC0010002'`).Scan(&priority, &cis1, &services1))
	require.Equal(t, "P3", priority, "impact 2 and urgency 2 give priority 3")
	require.Equal(t, "taxcollect-app", cis1)
	require.Equal(t, "网上办税服务厅", services1)

	// The same files again change nothing.
	for _, f := range files {
		rep := env.importOK(f.typ, "", exportFile(t, f.name))
		require.Zero(t, rep.Inserted+rep.Updated, "%s: %+v", f.typ, rep)
		require.Equal(t, first[f.typ].Rows, rep.Unchanged, f.typ)
	}

	// What-if on the imported graph: the database takes both services down,
	// through the application, by the names the export used.
	w := whatIf(t, env, map[string]any{"failed": []string{"taxdb01"}, "duration": "2h"})
	require.ElementsMatch(t, []string{"online-tax-service", "网上办税服务厅"}, w.services())
	require.Contains(t, w.Down, "taxcollect-app")
	w = whatIf(t, env, map[string]any{"failed": []string{"esx-bj-01"}, "duration": "2h"})
	require.Contains(t, w.Down, "taxapp01", "Virtualizes::Virtualized by reads from the other end")
}

func TestImportITopAndGLPIExports(t *testing.T) {
	t.Parallel()
	env := setup(t)
	rep := env.importOK("cis", "", exportFile(t, "itop_server.csv"))
	require.Equal(t, 3, rep.Inserted)
	var owner, site, status, criticality string
	require.NoError(t, env.pool.QueryRow(t.Context(), `SELECT owner, site, status, attributes->>'business_criticity' FROM cis WHERE key = 'srv02'`).
		Scan(&owner, &site, &status, &criticality))
	require.Equal(t, []string{"Demo Org", "Paris DC", "planned", "medium"}, []string{owner, site, status, criticality})

	rep = env.importOK("incidents", "", exportFile(t, "itop_userrequest.csv"))
	require.Equal(t, 2, rep.Inserted)
	var linked string
	require.NoError(t, env.pool.QueryRow(t.Context(), `SELECT string_agg(c.key, ',' ORDER BY c.key) FROM incidents i
		JOIN incident_cis l ON l.incident_id = i.id JOIN cis c ON c.id = l.ci_id WHERE i.external_id = 'R-000102'`).Scan(&linked))
	require.Equal(t, "srv01,srv02", linked, "the shortened link set names both")

	// GLPI: semicolons, labels as headers, Windows-1252 (as Excel on a
	// French Windows saves), day-first dates.
	glpi := "Name;Entity;Type;Status;Location;Purchase date\r\n" +
		"Serveur de fichiers Zürich;Racine > Genève;Server;In use;Zürich – Salle 2;25/03/2025\r\n" +
		"\"Contrôleur; réseau\";Racine;Switch;Planned;Genève;05/03/2025\r\n"
	body, err := charmap.Windows1252.NewEncoder().String(glpi)
	require.NoError(t, err)
	rep = env.importOK("cis", "", body)
	require.Equal(t, 2, rep.Inserted)
	var name string
	require.NoError(t, env.pool.QueryRow(t.Context(), `SELECT name, site FROM cis WHERE key = 'serveur-de-fichiers-zürich'`).Scan(&name, &site))
	require.Equal(t, "Serveur de fichiers Zürich", name)
	require.Equal(t, "Zürich – Salle 2", site)

	// GLPI tickets: ID is the external id (beside iTop's ref it is not).
	rep = env.importOK("incidents", "", "ID;Title;Status;Opening date;Priority;Associated elements\r\n"+
		"4711;Imprimante hors service;Closed;25/03/2025 14:22;Very high;srv01\r\n")
	require.Equal(t, 1, rep.Inserted)
	var priority, opened string
	require.NoError(t, env.pool.QueryRow(t.Context(), `SELECT priority, to_char(opened_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI')
		FROM incidents WHERE external_id = '4711'`).Scan(&priority, &opened))
	require.Equal(t, []string{"P1", "2025-03-25 14:22"}, []string{priority, opened})
}

func TestImportEncodingsAndDates(t *testing.T) {
	t.Parallel()
	env := setup(t)
	env.importOK("cis", "", "key,name,class\nfin-db,财务数据库,database\n")
	// Excel on a Chinese Windows saves GB18030; dates day-first, shown by
	// the second row (25/03).
	incidents := "number,short_description,description,priority,cmdb_ci,opened_at\r\n" +
		"INC1,数据库宕机,,1 - Critical,财务数据库,05/03/2025 14:22\r\n" +
		"INC2,慢,\"多行\r\n说明\",2 - High,fin-db,25/03/2025 08:00\r\n"
	gb, err := simplifiedchinese.GB18030.NewEncoder().String(incidents)
	require.NoError(t, err)
	env.importOK("incidents", "&timezone=Asia/Shanghai", gb)
	var opened string
	require.NoError(t, env.pool.QueryRow(t.Context(), `SELECT to_char(opened_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') FROM incidents WHERE external_id = 'INC1'`).Scan(&opened))
	require.Equal(t, "2025-03-05 06:22", opened, "05/03 is 5 March, 14:22 in Shanghai")

	// An Excel re-save in the US: month first, 12-hour clock.
	env.importOK("incidents", "&date_format=mdy", "number,short_description,priority,opened_at\nINC3,Excel,3,3/5/2025 2:22 PM\n")
	require.NoError(t, env.pool.QueryRow(t.Context(), `SELECT to_char(opened_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') FROM incidents WHERE external_id = 'INC3'`).Scan(&opened))
	require.Equal(t, "2025-03-05 14:22", opened)

	// Nothing in the file tells day from month: the row names the column.
	status, rep := env.importFile("incidents", "", "number,short_description,priority,opened_at\nINC4,x,P1,05/03/2025 10:00\n")
	require.Equal(t, http.StatusUnprocessableEntity, status)
	require.Equal(t, "opened_at", rep.Problems[0].Column)
	require.Contains(t, rep.Problems[0].Message, "date_format")

	// Neither UTF-8, GB18030 nor Windows-1252: refused with the line.
	resp := env.send("POST", "/api/v1/imports?type=cis", cm, "text/csv", []byte("key,name,class\na,A,server\nb,bad \x81\x20 byte,server\n"))
	require.Equal(t, http.StatusUnprocessableEntity, resp.Status)
	require.Contains(t, string(resp.Body), "line 3")

	// Bad options are named.
	for query, field := range map[string]string{"&charset=ebcdic": "charset", "&date_format=soon": "date_format", "&timezone=Mars/Base": "timezone"} {
		resp := env.send("POST", "/api/v1/imports?type=cis"+query, cm, "text/csv", []byte("key,name,class\na,A,server\n"))
		require.Equal(t, http.StatusUnprocessableEntity, resp.Status, query)
		require.Contains(t, string(resp.Body), `"field":"`+field+`"`, query)
	}
}

func TestImportAmbiguousDisplayName(t *testing.T) {
	t.Parallel()
	env := setup(t)
	env.importOK("cis", "", "key,name,class\nweb-a,Web,server\nweb-b,Web,server\napp,App,application\n")
	status, rep := env.importFile("relations", "", "parent,type,child\nApp,Depends on::Used by,Web\nApp,Depends on::Used by,web-a\n")
	require.Equal(t, http.StatusUnprocessableEntity, status)
	require.Len(t, rep.Problems, 1)
	require.Equal(t, 1, rep.Problems[0].Row)
	require.Equal(t, "to", rep.Problems[0].Column)
	require.Equal(t, `"Web" names 2 CIs: web-a, web-b; use a key`, rep.Problems[0].Message)
	status, rep = env.importFile("incidents", "", "number,short_description,priority,opened_at,cmdb_ci\nI1,x,P1,2025-03-05 10:00,Web\n")
	require.Equal(t, http.StatusUnprocessableEntity, status)
	require.Equal(t, "affected_cis", rep.Problems[0].Column)
	require.True(t, strings.HasPrefix(rep.Problems[0].Message, `"Web" names 2 CIs`), rep.Problems[0].Message)
}
