package api

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	ics "github.com/arran4/golang-ical"
	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/drills"
	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/cmdb"
	"github.com/bcdr/bcdr/runbooks"
)

// approvedService adds business service key depending on key-db, with an
// approved runbook.
func (e *testEnv) approvedService(key string) int64 {
	e.t.Helper()
	ctx := orchestrator.WithActor(context.Background(), orchestrator.Actor{Name: "admin", Role: orchestrator.RoleAdmin})
	svc := e.server.svc
	_, err := svc.CMDB.CreateCI(ctx, cmdb.CIInput{Key: key, Name: key, Class: "business_service"})
	require.NoError(e.t, err)
	_, err = svc.CMDB.CreateCI(ctx, cmdb.CIInput{Key: key + "-db", Name: key + " db", Class: "database", RecoveryStrategy: "restore",
		RecoveryEstimate: orchestrator.Duration(time.Hour)})
	require.NoError(e.t, err)
	_, err = svc.CMDB.CreateRelation(ctx, cmdb.RelationInput{From: key, To: key + "-db", Type: "depends_on"})
	require.NoError(e.t, err)
	r, err := svc.Runbooks.Create(ctx, runbooks.CreateInput{Service: key})
	require.NoError(e.t, err)
	_, err = svc.Runbooks.Approve(ctx, strconv.FormatInt(r.ID, 10))
	require.NoError(e.t, err)
	return r.ID
}

// fields lists the fields an error body names.
func (r *response) fields(t *testing.T) []string {
	t.Helper()
	var body errorBody
	r.JSON(t, &body)
	var out []string
	for _, f := range body.Error.Fields {
		out = append(out, f.Field)
	}
	return out
}

func TestDrillPolicyAPI(t *testing.T) {
	env := setup(t)
	resp := env.do("GET", "/api/v1/drills/policy", orchestrator.RoleAuditor, nil)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	var policy struct{ Tiers []drills.Policy }
	resp.JSON(t, &policy)
	require.Len(t, policy.Tiers, 5)

	for body, want := range map[string][]string{
		`{"tiers":[{"tier":9,"type":"technical","per_year":2}]}`: {"tiers[0].tier"},
		`{"tiers":[{"tier":1,"type":"party","per_year":13}]}`:    {"tiers[0].type", "tiers[0].per_year"},
		`{"tiers":[]}`: {"tiers"},
		`{"tiers":[{"tier":"zero","type":"technical","per_year":2}]}`:      {"tiers.tier"},
		`{"tiers":[{"tier":1,"type":"technical","per_year":2,"extra":1}]}`: {"extra"},
	} {
		resp := env.do("PUT", "/api/v1/drills/policy", orchestrator.RoleContinuityManager, body)
		require.Equal(t, http.StatusUnprocessableEntity, resp.Status, "%s: %s", body, resp.Body)
		require.ElementsMatch(t, want, resp.fields(t), "%s: %s", body, resp.Body)
	}
	resp = env.do("PUT", "/api/v1/drills/policy", orchestrator.RoleContinuityManager, `{"tiers":[{"tier":3,"type":"walkthrough","per_year":2}]}`)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	resp.JSON(t, &policy)
	require.Equal(t, drills.TypeWalkthrough, policy.Tiers[3].Type)
	require.Equal(t, 2, policy.Tiers[3].PerYear)
}

func TestDrillProgrammeAPI(t *testing.T) {
	env := setup(t)
	env.approvedService("pay")
	env.approvedService("hr")
	year := strconv.Itoa(time.Now().Year() + 1)
	path := "/api/v1/drills/programme?year=" + year
	manager := orchestrator.RoleContinuityManager

	resp := env.do("GET", path, orchestrator.RoleOperator, nil)
	require.Equal(t, http.StatusNotFound, resp.Status, "%s", resp.Body)

	// Bad input names the field and writes nothing.
	for _, tc := range []struct {
		path string
		body any
		want []string
	}{
		{"/api/v1/drills/programme", nil, []string{"year"}},
		{"/api/v1/drills/programme?year=next", nil, []string{"year"}},
		{"/api/v1/drills/programme?year=1999", nil, []string{"year"}},
		{path, `{"timezone":"Moon/Base","max_per_week":0}`, []string{"timezone", "max_per_week"}},
		{path, `{"blackouts":["2027-02-30"],"freezes":[{"from":"x","to":"2027-01-01"}]}`, []string{"blackouts[0]", "freezes[0].from"}},
		{path, `{"rules":[{"rrule":"FREQ=MINUTELY"},{"tier":0}]}`, []string{"rules[0].rrule", "rules[1].rrule"}},
		{path, `{"holidays":"2027-01-01"}`, []string{"holidays"}},
		{path, `{"reminder_days":7,"surprise":true}`, []string{"surprise"}},
	} {
		resp := env.do("POST", tc.path, manager, tc.body)
		require.Equal(t, http.StatusUnprocessableEntity, resp.Status, "%s %v: %s", tc.path, tc.body, resp.Body)
		require.ElementsMatch(t, tc.want, resp.fields(t), "%s %v: %s", tc.path, tc.body, resp.Body)
	}
	require.Equal(t, http.StatusNotFound, env.do("GET", path, manager, nil).Status, "nothing was written")

	resp = env.do("POST", path, manager, nil)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	resp = env.do("POST", path, manager, map[string]any{"timezone": "America/New_York", "start_time": "10:00", "max_per_week": 1,
		"holidays": []string{year + "-07-05"}, "rules": []map[string]any{{"tier": 4, "rrule": "FREQ=YEARLY;BYMONTH=7;BYDAY=1MO"}}})
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	var p drills.Programme
	resp.JSON(t, &p)
	require.Equal(t, drills.ProgrammeDraft, p.Status)
	require.Len(t, p.Entries, 2, "pay and hr, tier 4 without a BIA: one tabletop each (scopes apart)")
	days := map[string]bool{}
	for _, e := range p.Entries {
		require.Equal(t, drills.TypeTabletop, e.Type)
		require.Contains(t, strings.Join(e.Notes, " "), "no approved BIA")
		local := e.PlannedStart.In(mustLoad(t, "America/New_York"))
		require.Equal(t, 10, local.Hour())
		days[local.Format(time.DateOnly)] = true
	}
	// The first Monday of July is a holiday, so neither drill is on it.
	require.NotContains(t, days, year+"-07-05")

	resp = env.do("PUT", path, manager, map[string]any{"entries": []map[string]any{{"title": "", "type": "brunch", "services": []string{"nobody"}}}})
	require.Equal(t, http.StatusUnprocessableEntity, resp.Status, "%s", resp.Body)
	require.ElementsMatch(t, []string{"entries[0].title", "entries[0].type", "entries[0].services[0]"}, resp.fields(t))
	resp = env.do("PUT", path, manager, `{"entries":[{"title":"Extra tabletop","type":"tabletop","services":["hr"]}]}`)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	var edited drills.Programme
	resp.JSON(t, &edited)
	require.Equal(t, 1, edited.Unplaced, "a bare entry waits for a date")
	resp = env.do("PUT", path, manager, map[string]any{"entries": p.Entries[:1]})
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)

	resp = env.do("POST", "/api/v1/drills/programme/approve?year="+year, manager, nil)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	resp.JSON(t, &p)
	require.Equal(t, drills.ProgrammeApproved, p.Status)
	require.Len(t, p.Entries, 1)
	require.NotNil(t, p.Entries[0].Drill)
	resp = env.do("GET", "/api/v1/drills/"+strconv.FormatInt(*p.Entries[0].Drill, 10), orchestrator.RoleAuditor, nil)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	require.Equal(t, http.StatusConflict, env.do("POST", path, manager, nil).Status)
	require.Equal(t, http.StatusConflict, env.do("POST", "/api/v1/drills/programme/approve?year="+year, manager, nil).Status)

	resp = env.do("GET", "/api/v1/drills/coverage?year="+year, orchestrator.RoleExecutive, nil)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	var cov drills.Coverage
	resp.JSON(t, &cov)
	require.Len(t, cov.Services, 2)
	require.Equal(t, http.StatusUnprocessableEntity, env.do("GET", "/api/v1/drills/coverage", orchestrator.RoleExecutive, nil).Status)
}

func mustLoad(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	require.NoError(t, err)
	return loc
}

func TestCalendarFeedAPI(t *testing.T) {
	env := setup(t)
	env.approvedService("pay")
	year := strconv.Itoa(time.Now().Year() + 1)
	manager := orchestrator.RoleContinuityManager
	require.Equal(t, http.StatusOK, env.do("POST", "/api/v1/drills/programme?year="+year, manager, nil).Status)
	require.Equal(t, http.StatusOK, env.do("POST", "/api/v1/drills/programme/approve?year="+year, manager, nil).Status)

	resp := env.do("POST", "/api/v1/drills/calendar/feeds", manager, `{"name":"team calendar"}`)
	require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
	var created struct {
		ID    int64  `json:"id"`
		Token string `json:"token"`
		URL   string `json:"url"`
	}
	resp.JSON(t, &created)
	require.Equal(t, "http://bcdr.test/api/v1/drills/calendar.ics?token="+created.Token, created.URL)
	resp = env.do("POST", "/api/v1/drills/calendar/feeds", manager, `{"name":"`+strings.Repeat("x", 400)+`"}`)
	require.Equal(t, []string{"name"}, resp.fields(t))

	resp = env.do("GET", "/api/v1/drills/calendar/feeds", orchestrator.RoleAuditor, nil)
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	require.NotContains(t, string(resp.Body), created.Token, "the token is shown once")
	require.Contains(t, string(resp.Body), "team calendar")

	// The feed, as a calendar client fetches it: no Authorization header,
	// and the access log never holds the token.
	var logs bytes.Buffer
	logged := NewServer(Options{Pool: env.pool, Services: env.server.svc, BaseURL: "http://bcdr.test",
		Runtime: orchestrator.Runtime{Logger: slog.New(slog.NewJSONHandler(&logs, nil))}})
	fetch := func(token string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		logged.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/drills/calendar.ics?token="+token, nil))
		return rec
	}
	rec := fetch(created.Token)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	require.Equal(t, "text/calendar; charset=utf-8", rec.Header().Get("Content-Type"))
	cal, err := ics.ParseCalendar(bytes.NewReader(rec.Body.Bytes()))
	require.NoError(t, err)
	require.Len(t, cal.Events(), 1)
	require.Contains(t, rec.Body.String(), "\r\nDTSTART:"+year)
	resp = env.do("GET", "/api/v1/drills/calendar.ics?token="+created.Token, "", nil)
	require.Equal(t, http.StatusOK, resp.Status, "the contract holds for the feed too")

	for _, bad := range []string{"", "nonsense", created.Token + "0", "bcdrcal_%27%20OR%201%3D1--", "%00%0a"} {
		rec := fetch(bad)
		require.Equal(t, http.StatusUnauthorized, rec.Code, bad)
		require.Contains(t, rec.Body.String(), `"message":"unauthorized"`, "no detail")
	}
	require.Equal(t, http.StatusNoContent, env.do("DELETE", fmt.Sprintf("/api/v1/drills/calendar/feeds/%d", created.ID), manager, nil).Status)
	require.Equal(t, http.StatusUnauthorized, fetch(created.Token).Code, "revoked")
	require.Equal(t, http.StatusNotFound, env.do("DELETE", "/api/v1/drills/calendar/feeds/999", manager, nil).Status)
	require.NotContains(t, logs.String(), created.Token)
	require.NotContains(t, logs.String(), created.Token[8:20])
	require.Contains(t, logs.String(), `"route":"/api/v1/drills/calendar.ics"`)
}
