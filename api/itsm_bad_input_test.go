package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator/itsm"
)

// itsmBadCase is one rejected request: the status it gets and the field
// its error must name ("" when the error is about the whole body).
type itsmBadCase struct {
	body   any
	status int
	field  string
}

// itsmRejects posts every case to path and checks that each is refused,
// naming its field, and that table and the audit log stay untouched.
func itsmRejects(t *testing.T, env *testEnv, path, table string, cases map[string]itsmBadCase) {
	t.Helper()
	rows, audits := itsmCount(t, env, table), itsmCount(t, env, "audit_log")
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			resp := env.do("POST", path, itsmWriter, tc.body)
			require.Equal(t, tc.status, resp.Status, "%s", resp.Body)
			if tc.field != "" {
				require.Contains(t, itsmFields(t, resp), tc.field, "%s", resp.Body)
			}
		})
	}
	require.Equal(t, rows, itsmCount(t, env, table), "nothing written to %s", table)
	require.Equal(t, audits, itsmCount(t, env, "audit_log"), "nothing audited")
}

// itsmWith returns base with the given fields replaced.
func itsmWith(base map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range base {
		out[k] = v
	}
	for i := 0; i < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

func TestIncidentBadInput(t *testing.T) {
	t.Parallel()
	env := setup(t)
	itsmSeed(t, env, "db1", "svc-tax")
	ok := map[string]any{"title": "x", "priority": "P2", "cause": "network", "opened_at": "2026-01-05T10:00:00Z"}
	itsmRejects(t, env, "/api/v1/incidents", "incidents", map[string]itsmBadCase{
		"malformed":         {`{"title":`, 422, ""},
		"not an object":     {`["title"]`, 422, ""},
		"empty":             {"", 422, ""},
		"trailing data":     {`{"title":"x","priority":"P2","cause":"network","opened_at":"2026-01-05T10:00:00Z"} {}`, 422, ""},
		"unknown field":     {itsmWith(ok, "severity", "high"), 422, "severity"},
		"derived status":    {itsmWith(ok, "status", "closed"), 422, "status"},
		"wrong type":        {itsmWith(ok, "major", "yes"), 422, "major"},
		"number title":      {itsmWith(ok, "title", 42), 422, "title"},
		"keys not a list":   {itsmWith(ok, "affected_cis", "db1"), 422, "affected_cis"},
		"missing title":     {itsmWith(ok, "title", " "), 422, "title"},
		"bad priority":      {itsmWith(ok, "priority", "P0"), 422, "priority"},
		"lower priority":    {itsmWith(ok, "priority", "p1"), 422, "priority"},
		"bad cause":         {itsmWith(ok, "cause", "alien invasion"), 422, "cause"},
		"bad date":          {itsmWith(ok, "opened_at", "yesterday"), 422, "opened_at"},
		"date without zone": {itsmWith(ok, "opened_at", "2026-01-05 10:00:00"), 422, "opened_at"},
		"date as number":    {itsmWith(ok, "restored_at", 1736071200), 422, "restored_at"},
		"impossible date":   {itsmWith(ok, "opened_at", "2026-02-30T10:00:00Z"), 422, "opened_at"},
		"year 9999":         {itsmWith(ok, "opened_at", "9999-01-01T00:00:00Z"), 422, "opened_at"},
		"restored early":    {itsmWith(ok, "restored_at", "2026-01-05T09:59:59Z"), 422, "restored_at"},
		"closed early":      {itsmWith(ok, "closed_at", "2025-01-05T10:00:00Z"), 422, "closed_at"},
		"unknown CIs":       {itsmWith(ok, "affected_cis", []string{"db1", "ghost", "'; DROP TABLE cis; --"}), 422, "affected_cis"},
		"path traversal":    {itsmWith(ok, "affected_cis", []string{"../../etc/passwd"}), 422, "affected_cis"},
		"not a service":     {itsmWith(ok, "affected_services", []string{"db1"}), 422, "affected_services"},
		"unknown problem":   {itsmWith(ok, "problem_id", 424242), 422, "problem_id"},
		"control chars":     {itsmWith(ok, "title", "bell\x07"), 422, "title"},
		"newline in title":  {itsmWith(ok, "title", "two\nlines"), 422, "title"},
		"non-UTF-8":         {"{\"title\":\"bad \xff\",\"priority\":\"P2\",\"cause\":\"network\",\"opened_at\":\"2026-01-05T10:00:00Z\"}", 422, "title"},
		"long title":        {itsmWith(ok, "title", strings.Repeat("标", 200)), 422, "title"},
		"too many CIs":      {itsmWith(ok, "affected_cis", make([]string, 1001)), 422, "affected_cis"},
		"oversized":         {itsmWith(ok, "description", strings.Repeat("a", 2<<20)), 413, ""},
		"wrong content":     {`title=x`, 422, ""},
	})

	// Hostile but legal text is stored verbatim, never interpreted.
	hostile := "'; DROP TABLE incidents; -- <script>alert(1)</script> =cmd|' /C calc'!A0 ../../etc/passwd"
	inc := itsmCreate[itsm.Incident](t, env, "/api/v1/incidents", itsmWith(ok, "title", hostile, "description", "line 1\nline 2\ttab"))
	require.Equal(t, hostile, inc.Title)
	got, _ := itsmList(t, env, "/api/v1/incidents?q="+strings.ReplaceAll(strings.ReplaceAll("DROP TABLE", " ", "%20"), "'", "%27"))
	require.Equal(t, []string{inc.ExternalID}, got)
}

func TestITSMBadInputOtherRecords(t *testing.T) {
	t.Parallel()
	env := setup(t)
	itsmSeed(t, env, "db1")
	problem := map[string]any{"title": "x", "opened_at": "2026-01-05T10:00:00Z"}
	itsmRejects(t, env, "/api/v1/problems", "problems", map[string]itsmBadCase{
		"unknown field":     {itsmWith(problem, "severity", 1), 422, "severity"},
		"bad status":        {itsmWith(problem, "status", "done"), 422, "status"},
		"known error flag":  {itsmWith(problem, "status", "known_error"), 422, "known_error"},
		"incident ids type": {itsmWith(problem, "incident_ids", []string{"1"}), 422, "incident_ids"},
		"unknown incidents": {itsmWith(problem, "incident_ids", []int{77}), 422, "incident_ids"},
		"resolved early":    {itsmWith(problem, "resolved_at", "2020-01-01T00:00:00Z"), 422, "resolved_at"},
		"bad date":          {itsmWith(problem, "opened_at", "2026-13-01T00:00:00Z"), 422, "opened_at"},
	})
	change := map[string]any{"title": "x"}
	itsmRejects(t, env, "/api/v1/changes", "changes", map[string]itsmBadCase{
		"bad type":          {itsmWith(change, "type", "urgent"), 422, "type"},
		"bad risk":          {itsmWith(change, "risk", "extreme"), 422, "risk"},
		"bad status":        {itsmWith(change, "status", "done"), 422, "status"},
		"unknown CI":        {itsmWith(change, "affected_cis", []string{"nope"}), 422, "affected_cis"},
		"end before start":  {itsmWith(change, "planned_start", "2026-01-02T00:00:00Z", "planned_end", "2026-01-01T00:00:00Z"), 422, "planned_end"},
		"done without time": {itsmWith(change, "status", "failed"), 422, "actual_start"},
		"bad actual date":   {itsmWith(change, "actual_start", "soon"), 422, "actual_start"},
		"major as string":   {itsmWith(change, "major", "true"), 422, "major"},
	})
	release := map[string]any{"version": "1.0"}
	itsmRejects(t, env, "/api/v1/releases", "releases", map[string]itsmBadCase{
		"no version":       {map[string]any{"title": "x"}, 422, "version"},
		"bad status":       {itsmWith(release, "status", "live"), 422, "status"},
		"deployed no time": {itsmWith(release, "status", "deployed"), 422, "deployed_at"},
		"unknown CI":       {itsmWith(release, "affected_cis", []string{"db1", "db2"}), 422, "affected_cis"},
		"long source":      {itsmWith(release, "source", strings.Repeat("s", 101)), 422, "source"},
	})
}

func TestITSMBadQueries(t *testing.T) {
	t.Parallel()
	env := setup(t)
	for path, field := range map[string]string{
		"/api/v1/incidents?priority=P9":                   "priority",
		"/api/v1/incidents?major=maybe":                   "major",
		"/api/v1/incidents?cause=meteor":                  "cause",
		"/api/v1/incidents?status=lost":                   "status",
		"/api/v1/incidents?opened_after=last+week":        "opened_after",
		"/api/v1/incidents?opened_before=2026-02-30":      "opened_before",
		"/api/v1/incidents?severity=1":                    "severity",
		"/api/v1/incidents?q=" + strings.Repeat("x", 201): "q",
		"/api/v1/incidents?after=bm90IGEgY3Vyc29y":        "after",
		"/api/v1/incidents?after=eyJhIjoiMTIzIn0":         "after", // a cursor of another list
		"/api/v1/incidents?limit=0":                       "limit",
		"/api/v1/problems?known_error=2":                  "known_error",
		"/api/v1/problems?after=eyJhIjoiLTEifQ":           "after",
		"/api/v1/changes?type=urgent":                     "type",
		"/api/v1/changes?implemented_after=x":             "implemented_after",
		"/api/v1/releases?deployed_before=x":              "deployed_before",
		"/api/v1/releases?version=1":                      "version",
		"/api/v1/incidents/abc":                           "id",
		"/api/v1/problems/-1":                             "id",
		"/api/v1/changes/1.5":                             "id",
		"/api/v1/releases/99999999999999999999":           "id",
	} {
		resp := env.do("GET", path, itsmReader, nil)
		require.Equal(t, http.StatusUnprocessableEntity, resp.Status, "%s: %s", path, resp.Body)
		require.Contains(t, itsmFields(t, resp), field, path)
	}
	for _, path := range []string{"/api/v1/incidents/42", "/api/v1/problems/42", "/api/v1/changes/42", "/api/v1/releases/42"} {
		require.Equal(t, http.StatusNotFound, env.do("GET", path, itsmReader, nil).Status, path)
		require.Equal(t, http.StatusNotFound, env.do("DELETE", path, itsmWriter, nil).Status, path)
	}
	// Readers cannot write; executives cannot read records.
	require.Equal(t, http.StatusForbidden, env.do("POST", "/api/v1/incidents", itsmReader, map[string]any{}).Status)
	require.Equal(t, http.StatusForbidden, env.do("GET", "/api/v1/incidents", "executive", nil).Status)
}
