package runbooks

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bcdr/bcdr/orchestrator"
)

// Step limits.
const (
	maxSteps     = 10000
	maxTitle     = 200
	maxText      = 4000
	maxRole      = 100
	maxOwner     = 128
	maxDependsOn = 200
	maxEstimate  = orchestrator.Duration(30 * 24 * time.Hour)
)

// StepInput adds a step or changes some of its fields: fields left out
// stay as they are. Automation is tri-state: left out keeps the step's,
// null makes the step manual, an object attaches it. After places a new
// step after the step with that id (default: before the hand-back).
type StepInput struct {
	Title      *string         `json:"title"`
	Text       *string         `json:"text"`
	OwnerRole  *string         `json:"owner_role"`
	Owner      *string         `json:"owner"`
	Estimate   *string         `json:"estimate"`
	Mandatory  *bool           `json:"mandatory"`
	DependsOn  *[]string       `json:"depends_on"`
	CI         *string         `json:"ci"`
	Automation json.RawMessage `json:"automation"`
	// Decision is tri-state like Automation: null makes the step an
	// ordinary one again.
	Decision json.RawMessage `json:"decision"`
	Cleanup  *bool           `json:"cleanup"`
	After    *string         `json:"after"`
}

// apply writes the input's fields onto s, recording problems in v.
func (in StepInput) apply(v *orchestrator.Validation, s *Step) {
	text := func(field string, src *string, dst *string, limit int, required, multiline bool) {
		if src == nil {
			return
		}
		val := strings.TrimSpace(*src)
		if msg := checkText(val, limit, required, multiline); msg != "" {
			v.Add(field, "%s", msg)
			return
		}
		*dst = val
	}
	text("title", in.Title, &s.Title, maxTitle, true, false)
	text("text", in.Text, &s.Text, maxText, false, true)
	text("owner_role", in.OwnerRole, &s.OwnerRole, maxRole, false, false)
	text("owner", in.Owner, &s.Owner, maxOwner, false, false)
	text("ci", in.CI, &s.CI, maxOwner, false, false)
	if in.Estimate != nil {
		d, err := orchestrator.ParseDuration(*in.Estimate)
		switch {
		case err != nil:
			v.Add("estimate", "%s", err.Error())
		case d > maxEstimate:
			v.Add("estimate", "must be at most %s", maxEstimate)
		default:
			s.Estimate = d
		}
	}
	if in.Mandatory != nil {
		s.Mandatory = *in.Mandatory
	}
	if in.DependsOn != nil {
		deps := *in.DependsOn
		if len(deps) > maxDependsOn {
			v.Add("depends_on", "must list at most %d steps", maxDependsOn)
		}
		seen := map[string]bool{}
		clean := []string{}
		for i, d := range deps {
			if !stepIDPattern.MatchString(d) {
				v.Add(fmt.Sprintf("depends_on[%d]", i), "%q is not a step id such as s12", clip(d))
				continue
			}
			if !seen[d] {
				seen[d] = true
				clean = append(clean, d)
			}
		}
		s.DependsOn = clean
	}
	if in.Cleanup != nil {
		s.Cleanup = *in.Cleanup
	}
	in.applyAutomation(v, s)
	in.applyDecision(v, s)
	if s.Automation != nil && s.Decision != nil {
		v.Add("decision", "a step is automated or a decision, not both")
	}
}

func (in StepInput) applyDecision(v *orchestrator.Validation, s *Step) {
	raw := bytes.TrimSpace(in.Decision)
	if len(raw) == 0 {
		return
	}
	if string(raw) == "null" {
		s.Decision = nil
		return
	}
	var d Decision
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		v.Add("decision", "must be null or a decision object: %s", strings.TrimPrefix(err.Error(), "json: "))
		return
	}
	if !d.Role.Valid() || d.Role == orchestrator.RoleAuditor {
		v.Add("decision.role", "must be admin, continuity_manager, operator or executive")
	}
	if d.OnReject != "" && !stepIDPattern.MatchString(d.OnReject) {
		v.Add("decision.on_reject", "%q is not a step id such as s12", clip(d.OnReject))
	}
	s.Decision = &d
}

func (in StepInput) applyAutomation(v *orchestrator.Validation, s *Step) {
	raw := bytes.TrimSpace(in.Automation)
	if len(raw) == 0 {
		return
	}
	if string(raw) == "null" {
		s.Automation = nil
		return
	}
	var a Automation
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		v.Add("automation", "must be null or an automation object: %s", strings.TrimPrefix(err.Error(), "json: "))
		return
	}
	a.normalize()
	a.validate(v, "automation")
	s.Automation = &a
}

// checkText rejects invalid UTF-8, control characters (line breaks are
// allowed in multiline text), blank required text and text over limit
// characters.
func checkText(s string, limit int, required, multiline bool) string {
	switch {
	case !utf8.ValidString(s):
		return "must be valid UTF-8"
	case required && s == "":
		return "is required"
	case utf8.RuneCountInString(s) > limit:
		return fmt.Sprintf("must be at most %d characters", limit)
	case strings.ContainsFunc(s, func(r rune) bool {
		return (r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0)) && !(multiline && (r == '\n' || r == '\t'))
	}):
		return "must not contain control characters"
	}
	return ""
}

// addStep appends a custom step built from in and returns its id.
func addStep(v *Version, in StepInput) (string, error) {
	var val orchestrator.Validation
	if len(v.Steps) >= maxSteps {
		return "", orchestrator.Errorf(orchestrator.EINVALID, "a runbook holds at most %d steps", maxSteps)
	}
	if in.Title == nil {
		val.Add("title", "is required")
	}
	s := Step{ID: "s" + strconv.Itoa(v.nextStep), Kind: KindCustom, DependsOn: []string{}}
	in.apply(&val, &s)
	at := len(v.Steps)
	if h := slices.IndexFunc(v.Steps, func(s Step) bool { return s.Kind == KindHandback }); h >= 0 {
		at = h
	}
	if in.After != nil {
		i := slices.IndexFunc(v.Steps, func(s Step) bool { return s.ID == *in.After })
		if i < 0 {
			val.Add("after", "%q is not a step of this runbook", clip(*in.After))
		}
		at = i + 1
	}
	if err := val.Err(); err != nil {
		return "", err
	}
	v.Steps = slices.Insert(v.Steps, at, s)
	v.nextStep++
	return s.ID, settle(v, "")
}

// updateStep changes the fields of step id that in carries.
func updateStep(v *Version, id string, in StepInput) error {
	i := slices.IndexFunc(v.Steps, func(s Step) bool { return s.ID == id })
	if i < 0 {
		return orchestrator.Errorf(orchestrator.ENOTFOUND, "step %q not found", clip(id))
	}
	var val orchestrator.Validation
	if in.After != nil {
		val.Add("after", "only places a new step; reorder steps with PUT .../steps/order")
	}
	s := v.Steps[i]
	s.DependsOn = slices.Clone(s.DependsOn)
	in.apply(&val, &s)
	if err := val.Err(); err != nil {
		return err
	}
	v.Steps[i] = s
	return settle(v, "")
}

// removeStep deletes step id; the steps that waited for it wait for what
// it waited for instead, so the order around it is kept.
func removeStep(v *Version, id string) error {
	i := slices.IndexFunc(v.Steps, func(s Step) bool { return s.ID == id })
	if i < 0 {
		return orchestrator.Errorf(orchestrator.ENOTFOUND, "step %q not found", clip(id))
	}
	gone := v.Steps[i]
	v.Steps = slices.Delete(v.Steps, i, i+1)
	for k := range v.Steps {
		s := &v.Steps[k]
		if j := slices.Index(s.DependsOn, id); j >= 0 {
			deps := slices.Delete(slices.Clone(s.DependsOn), j, j+1)
			for _, d := range gone.DependsOn {
				if !slices.Contains(deps, d) {
					deps = append(deps, d)
				}
			}
			s.DependsOn = deps
		}
	}
	return settle(v, "steps")
}

// reorderSteps puts the steps in the order given, which must list every
// step once and keep each after the steps it depends on.
func reorderSteps(v *Version, order []string) error {
	var val orchestrator.Validation
	index := make(map[string]int, len(v.Steps))
	for i, s := range v.Steps {
		index[s.ID] = i
	}
	pos := make(map[string]int, len(order))
	for i, id := range order {
		if _, ok := index[id]; !ok {
			val.Add(fmt.Sprintf("order[%d]", i), "%q is not a step of this runbook", clip(id))
		} else if _, dup := pos[id]; dup {
			val.Add(fmt.Sprintf("order[%d]", i), "step %s is listed twice", id)
		}
		pos[id] = i
	}
	if len(order) != len(v.Steps) && val.Err() == nil {
		val.Add("order", "must list all %d steps, each once", len(v.Steps))
	}
	if err := val.Err(); err != nil {
		return err
	}
	for _, s := range v.Steps {
		for _, d := range s.DependsOn {
			if pos[d] > pos[s.ID] {
				val.Add(fmt.Sprintf("order[%d]", pos[s.ID]), "step %s is placed before %s, which it depends on", s.ID, d)
			}
		}
	}
	if err := val.Err(); err != nil {
		return err
	}
	steps := make([]Step, len(order))
	for i, id := range order {
		steps[i] = v.Steps[index[id]]
	}
	v.Steps = steps
	return settle(v, "steps")
}

// settle checks the DAG and puts the steps in dependency order, keeping
// the given order wherever the dependencies allow.
func settle(v *Version, field string) error {
	sc, err := layout(v.Steps, field)
	if err != nil {
		return err
	}
	if err := checkDecisions(v.Steps, field); err != nil {
		return err
	}
	steps := make([]Step, len(v.Steps))
	for i, k := range sc.order {
		steps[i] = v.Steps[k]
	}
	v.Steps = steps
	return nil
}

// checkDecisions checks that the step a decision's rejection takes waits
// for that decision.
func checkDecisions(steps []Step, field string) error {
	var val orchestrator.Validation
	for i, s := range steps {
		if s.Decision == nil || s.Decision.OnReject == "" {
			continue
		}
		f := "decision.on_reject"
		if field != "" {
			f = fmt.Sprintf("%s[%d].decision.on_reject", field, i)
		}
		j := slices.IndexFunc(steps, func(t Step) bool { return t.ID == s.Decision.OnReject })
		if j < 0 || !slices.Contains(steps[j].DependsOn, s.ID) {
			val.Add(f, "%q must be a step that depends on the decision %s", clip(s.Decision.OnReject), s.ID)
		}
	}
	return val.Err()
}
