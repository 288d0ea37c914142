package web

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/runbooks"
)

// stepForm is a step as its form holds it: what was typed, kept when the
// service refuses it so that nothing typed is lost. The form carries the
// whole step, so every field is sent on a change.
type stepForm struct {
	Title, Text, OwnerRole, Owner, Estimate string
	Mandatory, Cleanup                      bool
	DependsOn                               []string
	// Kind is manual, automated or decision.
	Kind                                  string
	Method, URL, DrillURL, ExpectedStatus string
	DecisionRole, OnReject                string
	// After places a new step after that step ("" leaves the service's
	// default: before the hand-back).
	After string
}

// stepFormOf is the form of an existing step.
func stepFormOf(s runbooks.Step) stepForm {
	f := stepForm{Title: s.Title, Text: s.Text, OwnerRole: s.OwnerRole, Owner: s.Owner, Estimate: s.Estimate.String(),
		Mandatory: s.Mandatory, Cleanup: s.Cleanup, DependsOn: s.DependsOn, Kind: kindOf(s)}
	if a := s.Automation; a != nil {
		f.Method, f.URL, f.DrillURL = a.Method, a.URL, a.DrillURL
		if a.ExpectedStatus != 0 {
			f.ExpectedStatus = strconv.Itoa(a.ExpectedStatus)
		}
	}
	if d := s.Decision; d != nil {
		f.DecisionRole, f.OnReject = string(d.Role), d.OnReject
	}
	return f
}

// stepFormFrom reads the posted form.
func stepFormFrom(r *http.Request) stepForm {
	get := r.PostFormValue
	return stepForm{Title: get("title"), Text: get("text"), OwnerRole: get("owner_role"), Owner: get("owner"),
		Estimate: get("estimate"), Mandatory: get("mandatory") == "yes", Cleanup: get("cleanup") == "yes",
		DependsOn: r.PostForm["depends_on"], Kind: get("kind"), Method: get("method"), URL: get("url"),
		DrillURL: get("drill_url"), ExpectedStatus: get("expected_status"), DecisionRole: get("decision_role"),
		OnReject: get("on_reject"), After: get("after")}
}

// input is the form as the service's input. An automated step keeps what
// the form does not show of its call (headers, body, assertion, timeout,
// retries); switching kind clears the other kind's part, as null does
// through the API.
func (f stepForm) input(current *runbooks.Step) (runbooks.StepInput, error) {
	deps := f.DependsOn
	if deps == nil {
		deps = []string{}
	}
	in := runbooks.StepInput{Title: &f.Title, Text: &f.Text, OwnerRole: &f.OwnerRole, Owner: &f.Owner,
		Mandatory: &f.Mandatory, Cleanup: &f.Cleanup, DependsOn: &deps}
	if e := strings.TrimSpace(f.Estimate); e != "" {
		in.Estimate = &e
	}
	if current == nil && f.After != "" {
		in.After = &f.After
	}
	null := json.RawMessage("null")
	switch f.Kind {
	case "manual":
		in.Automation, in.Decision = null, null
	case "automated":
		var a runbooks.Automation
		if current != nil && current.Automation != nil {
			a = *current.Automation
		}
		a.Method, a.URL, a.DrillURL, a.ExpectedStatus = f.Method, strings.TrimSpace(f.URL), strings.TrimSpace(f.DrillURL), 0
		if s := strings.TrimSpace(f.ExpectedStatus); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil {
				return in, orchestrator.Invalid("automation.expected_status", "must be an HTTP status such as 200")
			}
			a.ExpectedStatus = n
		}
		raw, err := json.Marshal(a)
		if err != nil {
			return in, err
		}
		in.Automation, in.Decision = raw, null
	case "decision":
		raw, err := json.Marshal(runbooks.Decision{Role: orchestrator.Role(f.DecisionRole), OnReject: f.OnReject})
		if err != nil {
			return in, err
		}
		in.Automation, in.Decision = null, raw
	default:
		return in, orchestrator.Invalid("kind", "must be manual, automated or decision")
	}
	return in, nil
}
