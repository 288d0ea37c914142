package api

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

type riskBody struct {
	ID                 int64
	Title              string
	InherentScore      int    `json:"inherent_score"`
	ResidualScore      int    `json:"residual_score"`
	ResidualLikelihood int    `json:"residual_likelihood"`
	ReviewOverdue      bool   `json:"review_overdue"`
	ExternalID         string `json:"external_id"`
	Quantification     struct {
		ARO       float64
		AROHow    string `json:"aro_how"`
		SLE       float64
		SLEHow    string `json:"sle_how"`
		ALE       float64
		ALEHow    string `json:"ale_how"`
		Incidents int
		Window    string
		Outage    *string
		Services  []struct {
			Service string
			Outage  string
			Loss    float64
		}
		Unpriced []string
	}
}

func impRisk(kv ...any) map[string]any {
	r := map[string]any{"title": "Storage failure", "threat": "hardware", "scope": map[string]any{"cis": []string{"db1", "db3"}},
		"likelihood": 3, "impact": 4, "controls": []string{"RAID 6", "spare disks on site"}, "residual_likelihood": 2,
		"treatment": "mitigate", "owner": "li.na", "review_date": "2020-01-31"}
	for i := 0; i+1 < len(kv); i += 2 {
		r[kv[i].(string)] = kv[i+1]
	}
	return r
}

func TestRiskRegisterQuantifies(t *testing.T) {
	t.Parallel()
	env := impPayroll(t)
	var r riskBody
	resp := env.do("POST", "/api/v1/risks", cm, impRisk())
	require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
	resp.JSON(t, &r)
	require.Equal(t, 12, r.InherentScore)
	require.Equal(t, 8, r.ResidualScore)
	require.True(t, r.ReviewOverdue)
	require.Equal(t, "risk-"+itoa(r.ID), r.ExternalID)

	// No incident history: ARO from likelihood 3; both services are out for
	// their estimated recovery (3h30m), 85k each on the BIA curve.
	q := r.Quantification
	require.Equal(t, 0, q.Incidents)
	require.Equal(t, "17520h", q.Window)
	require.InDelta(t, 0.5, q.ARO, 1e-9)
	require.Equal(t, "likelihood 3 → 0.5 per year", q.AROHow)
	require.Nil(t, q.Outage)
	require.Len(t, q.Services, 2)
	require.Equal(t, "3h30m", q.Services[0].Outage)
	require.InDelta(t, 170000, q.SLE, 0.01)
	require.InDelta(t, 85000, q.ALE, 0.01)
	require.Contains(t, q.SLEHow, "svc-pay 85000 after 3h30m")
	require.Equal(t, "ARO 0.5 × SLE 170000 = 85000", q.ALEHow)

	// Matching incidents (cause and scope, inside two years) take over.
	now := time.Now().UTC()
	for i, inc := range []struct {
		cause  string
		ci     string
		ago    int // days
		lasted time.Duration
	}{
		{"hardware", "db1", 100, 2 * time.Hour},
		{"hardware", "db3", 200, 4 * time.Hour},
		{"software", "db1", 50, time.Hour},       // another cause
		{"hardware", "host1", 30, time.Hour},     // outside the scope
		{"hardware", "db1", 800, 10 * time.Hour}, // outside the window
	} {
		opened := now.AddDate(0, 0, -inc.ago)
		resp := env.do("POST", "/api/v1/incidents", cm, map[string]any{"title": "incident " + itoa(int64(i)), "priority": "P2",
			"cause": inc.cause, "affected_cis": []string{inc.ci}, "opened_at": opened.Format(time.RFC3339),
			"restored_at": opened.Add(inc.lasted).Format(time.RFC3339)})
		require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
	}
	env.do("GET", "/api/v1/risks/"+itoa(r.ID), auditor, nil).JSON(t, &r)
	q = r.Quantification
	require.Equal(t, 2, q.Incidents)
	require.InDelta(t, 1, q.ARO, 1e-9)
	require.Equal(t, "2 incidents in 730 days", q.AROHow)
	require.Equal(t, "3h", *q.Outage, "median of 2h and 4h")
	require.InDelta(t, 140000, q.SLE, 0.01)
	require.InDelta(t, 140000, q.ALE, 0.01)

	// What-if for the risk uses its scope and its median outage.
	w := whatIf(t, env, map[string]any{"risk": r.ID})
	require.ElementsMatch(t, []string{"svc-pay", "svc-rep"}, w.services())
	require.Equal(t, "3h", w.Services[0].Outage)

	// A scope that takes nothing down costs nothing.
	resp = env.do("PUT", "/api/v1/risks/"+itoa(r.ID), cm, impRisk("scope", map[string]any{"sites": []string{"dc2"}}))
	require.Equal(t, http.StatusOK, resp.Status, "%s", resp.Body)
	resp.JSON(t, &r)
	require.Zero(t, r.Quantification.SLE)
	require.Equal(t, "no service with a BIA goes down", r.Quantification.SLEHow)
	require.Equal(t, "risk-"+itoa(r.ID), r.ExternalID, "a blank external id keeps the stored one")

	// A supplier scope.
	require.Equal(t, http.StatusCreated, env.do("POST", "/api/v1/suppliers", cm,
		map[string]any{"key": "cdnco", "name": "CDN Co", "services": []string{"sup-cdn"}}).Status)
	resp = env.do("POST", "/api/v1/risks", cm, impRisk("title", "CDN outage", "threat", "supplier",
		"scope", map[string]any{"suppliers": []string{"cdnco"}}, "likelihood", 5, "residual_likelihood", nil, "review_date", nil))
	require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
	resp.JSON(t, &r)
	require.InDelta(t, 4, r.Quantification.ARO, 1e-9)
	require.Equal(t, 5, r.ResidualLikelihood, "residual defaults to inherent")
	require.False(t, r.ReviewOverdue)
	require.Equal(t, "svc-web", r.Quantification.Services[0].Service)
}

func TestRiskRegisterCRUDAndBadInput(t *testing.T) {
	t.Parallel()
	env := impPayroll(t)
	for name, c := range map[string]struct {
		body  any
		field string
	}{
		"unknown threat":     {impRisk("threat", "meteor"), "threat"},
		"likelihood 6":       {impRisk("likelihood", 6), "likelihood"},
		"impact 0":           {impRisk("impact", 0), "impact"},
		"residual above":     {impRisk("residual_likelihood", 4), "residual_likelihood"},
		"unknown CI":         {impRisk("scope", map[string]any{"cis": []string{"db1", "ghost"}}), "scope.cis[1]"},
		"unknown site":       {impRisk("scope", map[string]any{"sites": []string{"../etc"}}), "scope.sites[0]"},
		"unknown supplier":   {impRisk("scope", map[string]any{"suppliers": []string{"acme"}}), "scope.suppliers[0]"},
		"empty scope":        {impRisk("scope", map[string]any{}), "scope"},
		"repeated scope":     {impRisk("scope", map[string]any{"cis": []string{"db1", "db1"}}), "scope.cis[1]"},
		"bad treatment":      {impRisk("treatment", "ignore"), "treatment"},
		"bad review date":    {impRisk("review_date", "31/01/2026"), "review_date"},
		"no title":           {impRisk("title", " "), "title"},
		"control in title":   {impRisk("title", "a\x07b"), "title"},
		"wrong type":         {impRisk("likelihood", "high"), "likelihood"},
		"wrong scope type":   {impRisk("scope", []string{"db1"}), "scope"},
		"unknown field":      {impRisk("severity", 3), "severity"},
		"control in control": {impRisk("controls", []string{"ok", "a\x1bb"}), "controls[1]"},
	} {
		resp := env.do("POST", "/api/v1/risks", cm, c.body)
		require.Equal(t, http.StatusUnprocessableEntity, resp.Status, "%s: %s", name, resp.Body)
		require.Contains(t, impFields(t, resp), c.field, name)
	}
	require.Zero(t, itsmCount(t, env, "risks"), "nothing partial written")

	var ids []int64
	for _, threat := range []string{"hardware", "power", "hardware"} {
		var r riskBody
		resp := env.do("POST", "/api/v1/risks", cm, impRisk("threat", threat))
		require.Equal(t, http.StatusCreated, resp.Status, "%s", resp.Body)
		resp.JSON(t, &r)
		ids = append(ids, r.ID)
	}
	require.Equal(t, http.StatusForbidden, env.do("POST", "/api/v1/risks", operator, impRisk()).Status)
	resp := env.do("POST", "/api/v1/risks", cm, impRisk("source", "grc", "external_id", "R-1"))
	require.Equal(t, http.StatusCreated, resp.Status)
	resp = env.do("POST", "/api/v1/risks", cm, impRisk("source", "grc", "external_id", "R-1"))
	require.Equal(t, http.StatusConflict, resp.Status, "%s", resp.Body)

	var page struct {
		Items []riskBody
		Next  string
	}
	env.do("GET", "/api/v1/risks?threat=hardware&limit=1", auditor, nil).JSON(t, &page)
	require.Len(t, page.Items, 1)
	require.NotEmpty(t, page.Next)
	env.do("GET", "/api/v1/risks?threat=hardware&limit=5&after="+page.Next, auditor, nil).JSON(t, &page)
	require.Len(t, page.Items, 2, "the second hardware risk and R-1")
	env.do("GET", "/api/v1/risks?ci=db3", auditor, nil).JSON(t, &page)
	require.Len(t, page.Items, 4)
	env.do("GET", "/api/v1/risks?ci=vm1", auditor, nil).JSON(t, &page)
	require.Empty(t, page.Items)
	for _, q := range []string{"threat=meteor", "colour=red", "treatment=pray", "limit=-1"} {
		require.Equal(t, http.StatusUnprocessableEntity, env.do("GET", "/api/v1/risks?"+q, auditor, nil).Status, q)
	}

	var heat struct {
		Total    int
		Inherent []struct{ Likelihood, Impact, Count int }
		Residual []struct {
			Likelihood, Impact, Count int
			Risks                     []int64
		}
	}
	env.do("GET", "/api/v1/risks/heatmap", operator, nil).JSON(t, &heat)
	require.Equal(t, 4, heat.Total)
	require.Len(t, heat.Inherent, 25)
	cell := func(l, i int) int { return (l-1)*5 + i - 1 }
	require.Equal(t, 4, heat.Inherent[cell(3, 4)].Count)
	require.Equal(t, 4, heat.Residual[cell(2, 4)].Count)
	require.Equal(t, ids, heat.Residual[cell(2, 4)].Risks[:3])
	require.Zero(t, heat.Residual[cell(3, 4)].Count)

	require.Equal(t, http.StatusNoContent, env.do("DELETE", "/api/v1/risks/"+itoa(ids[0]), cm, nil).Status)
	for _, id := range []string{itoa(ids[0]), "abc", "-1", "99999999999999999999"} {
		require.Equal(t, http.StatusNotFound, env.do("GET", "/api/v1/risks/"+id, auditor, nil).Status, id)
		require.Equal(t, http.StatusNotFound, env.do("PUT", "/api/v1/risks/"+id, cm, impRisk()).Status, id)
		require.Equal(t, http.StatusNotFound, env.do("DELETE", "/api/v1/risks/"+id, cm, nil).Status, id)
	}
}
