package web

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/runbooks"
)

// runbookEditPages are editing a runbook (its draft's steps and sections,
// regeneration, the annual review, retirement), comparing two versions
// and the offline kit. Who may do what is the API's (api/runbooks.go):
// records writers edit, regenerate, review and retire; records readers
// compare versions and export the kit (GET /api/v1/exports/kit is open to
// records readers, so the UI offers the kit to the same roles).
//
// The pages hold no rule of their own: every change is a runbooks.Service
// call, so an approved runbook gets a new draft on its first change
// exactly as through the API, and a refusal is the service's.
func (u *UI) runbookEditPages() []page {
	return []page{
		{"GET /runbooks/{id}/edit", orchestrator.RecordWriters, u.runbookEdit, ""},
		{"GET /runbooks/{id}/steps/new", orchestrator.RecordWriters, u.newStepPage, ""},
		{"POST /runbooks/{id}/steps", orchestrator.RecordWriters, u.addStep, ""},
		{"GET /runbooks/{id}/steps/{step}", orchestrator.RecordWriters, u.stepPage, ""},
		{"POST /runbooks/{id}/steps/{step}", orchestrator.RecordWriters, u.updateStep, ""},
		{"POST /runbooks/{id}/steps/{step}/remove", orchestrator.RecordWriters, u.removeStep, ""},
		{"POST /runbooks/{id}/steps/{step}/move", orchestrator.RecordWriters, u.moveStep, ""},
		{"POST /runbooks/{id}/sections", orchestrator.RecordWriters, u.saveSections, ""},
		{"POST /runbooks/{id}/regenerate", orchestrator.RecordWriters, u.regenerateRunbook, ""},
		{"POST /runbooks/{id}/review", orchestrator.RecordWriters, u.reviewRunbook, ""},
		{"GET /runbooks/{id}/retire", orchestrator.RecordWriters, u.retirePage, ""},
		{"POST /runbooks/{id}/retire", orchestrator.RecordWriters, u.retireRunbook, ""},
		{"GET /runbooks/{id}/diff", orchestrator.RecordReaders, u.runbookDiff, ""},
		{"GET /kit", orchestrator.RecordReaders, u.kitPage, ""},
		{"POST /kit", orchestrator.RecordReaders, u.startKit, ""},
		{"GET /kit/jobs/{job}", orchestrator.RecordReaders, u.kitJobPage, ""},
		{"GET /kit/jobs/{job}/download", orchestrator.RecordReaders, u.kitDownload, ""},
	}
}

// editMaxForm bounds an editing form: the sections may hold a few hundred
// lines.
const editMaxForm = 1 << 20

// editNotices are the "done" values the edit page announces.
var editNotices = []string{"step_added", "step_saved", "step_removed", "step_moved", "sections_saved", "regenerated", "reviewed"}

// stepKinds are the kinds of step a person chooses between: manual, an
// automated HTTP call, or a decision (runbooks.Step's Automation and
// Decision).
var stepKinds = []string{"manual", "automated", "decision"}

// automationMethods are the methods an automated step may call with.
var automationMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// rbeDeciders are the roles a decision may name (auditors write nothing).
var rbeDeciders = []orchestrator.Role{orchestrator.RoleAdmin, orchestrator.RoleContinuityManager, orchestrator.RoleOperator, orchestrator.RoleExecutive}

// reviewOutcomes are the outcomes of an annual review.
var reviewOutcomes = []string{runbooks.ReviewFit, runbooks.ReviewUpdateNeeded, runbooks.ReviewRetire}

// rbeProblem is a refused field, named in the page's words and as the
// API names it.
type rbeProblem struct {
	Field, Label, Message string
}

// problems lists the fields a refusal names.
func rbeProblems(r *http.Request, err error) []rbeProblem {
	t := words(language(r))
	var out []rbeProblem
	for _, f := range orchestrator.ErrorFields(err) {
		base, _, _ := strings.Cut(f.Field, "[")
		key := "rbe_f_" + strings.ReplaceAll(base, ".", "_")
		label := t(key)
		if label == key {
			label = f.Field
		}
		out = append(out, rbeProblem{Field: f.Field, Label: label, Message: f.Message})
	}
	return out
}

// refusalOf is what a page shows of a refusal: the message, without the
// field list when the fields are listed apart.
func rbeRefusal(err error) string {
	if len(orchestrator.ErrorFields(err)) > 0 {
		return orchestrator.ErrorMessage(err)
	}
	return err.Error()
}

// editStep is a step in the edit page's list, with whether it can move.
type editStep struct {
	runbooks.Step
	Kind           string
	First, Last    bool
	DependsOnTitle []string
}

// kindOf is the kind of step a person sees.
func kindOf(s runbooks.Step) string {
	switch {
	case s.Automation != nil:
		return "automated"
	case s.Decision != nil:
		return "decision"
	}
	return "manual"
}

// sectionsForm is the editable sections as text, a line per entry.
type sectionsForm struct {
	Criteria, Authority, CallTreeServices, CallTreeNotes, Communications, Targets, Failback, VitalRecords string
}

func sectionsFormOf(s runbooks.Sections) sectionsForm {
	j := func(l []string) string { return strings.Join(l, "\n") }
	return sectionsForm{Criteria: j(s.Invocation.Criteria), Authority: j(s.Invocation.Authority),
		CallTreeServices: j(s.CallTree.Services), CallTreeNotes: s.CallTree.Notes, Communications: j(s.Communications),
		Targets: j(s.Availability.Targets), Failback: j(s.Failback), VitalRecords: j(s.VitalRecords)}
}

// reviewForm is the annual review's form.
type reviewForm struct {
	Notes, Outcome, Actions string
}

// runbookEditView is the edit page's data.
type runbookEditView struct {
	Runbook runbooks.Runbook
	Steps   []editStep
	// NewDraft: there is no draft, so the first change makes version
	// NextVersion, a copy of the latest, as the API does.
	NewDraft    bool
	NextVersion int
	Sections    sectionsForm
	Review      reviewForm
	Outcomes    []string
	// Form names the form a refusal belongs to ("sections", "review",
	// "steps"), so the page shows it there.
	Form          string
	Notice, Error string
	Problems      []rbeProblem
}

// runbookEdit shows the draft (or the version a first change copies) for
// editing.
func (u *UI) runbookEdit(w http.ResponseWriter, r *http.Request) {
	notice := ""
	if done := r.URL.Query().Get("done"); slices.Contains(editNotices, done) {
		notice = "rbe_done_" + done
	}
	u.runbookEditPage(w, r, http.StatusOK, func(v *runbookEditView) { v.Notice = notice })
}

// runbookEditPage draws the edit page of the runbook in the path, with
// adjust applied to its data (a notice, a refusal and what was typed).
func (u *UI) runbookEditPage(w http.ResponseWriter, r *http.Request, status int, adjust func(*runbookEditView)) {
	rb, err := u.svc.Runbooks.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		u.fail(w, r, err)
		return
	}
	v := runbookEditView{Runbook: rb, NewDraft: rb.DraftVersion == nil, NextVersion: rb.Version.Number + 1,
		Sections: sectionsFormOf(rb.Version.Sections), Review: reviewForm{Outcome: runbooks.ReviewFit}, Outcomes: reviewOutcomes}
	titles := map[string]string{}
	for _, s := range rb.Version.Steps {
		titles[s.ID] = s.Title
	}
	for i, s := range rb.Version.Steps {
		es := editStep{Step: s, Kind: kindOf(s), First: i == 0, Last: i == len(rb.Version.Steps)-1}
		for _, d := range s.DependsOn {
			es.DependsOnTitle = append(es.DependsOnTitle, d+" "+titles[d])
		}
		v.Steps = append(v.Steps, es)
	}
	adjust(&v)
	u.render(w, r, status, "runbook_edit", v)
}

// parseEditForm reads a bounded form.
func rbeParseForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, editMaxForm)
	if err := r.ParseForm(); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return orchestrator.Errorf(orchestrator.ETOOLARGE, "the form is larger than %d KiB", editMaxForm>>10)
		}
		return orchestrator.Errorf(orchestrator.EINVALID, "the form could not be read: %v", err)
	}
	return nil
}

// edited answers a change: done, back to the edit page with a notice;
// refused, redraw with the status the refusal has; anything else fails.
func (u *UI) edited(w http.ResponseWriter, r *http.Request, err error, done string, redraw func(status int)) {
	if status, refused := refusal(err); refused {
		redraw(refusedStatus(w, r, status))
		return
	}
	if orchestrator.ErrorCode(err) == orchestrator.ETOOLARGE {
		redraw(refusedStatus(w, r, http.StatusRequestEntityTooLarge))
		return
	}
	if err != nil {
		u.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/runbooks/"+r.PathValue("id")+"/edit?done="+done, http.StatusSeeOther)
}

// refusedOnEdit redraws the edit page with a refusal shown at form.
func (u *UI) refusedOnEdit(w http.ResponseWriter, r *http.Request, err error, form string, keep func(*runbookEditView)) func(int) {
	return func(status int) {
		u.runbookEditPage(w, r, status, func(v *runbookEditView) {
			v.Form, v.Error, v.Problems = form, rbeRefusal(err), rbeProblems(r, err)
			if keep != nil {
				keep(v)
			}
		})
	}
}

// removeStep removes a step from the draft; the steps that waited for it
// wait for what it waited for (the service's rule).
func (u *UI) removeStep(w http.ResponseWriter, r *http.Request) {
	_, err := u.svc.Runbooks.RemoveStep(r.Context(), r.PathValue("id"), r.PathValue("step"))
	u.edited(w, r, err, "step_removed", u.refusedOnEdit(w, r, err, "steps", nil))
}

// moveStep moves a step one place up or down: the whole new order goes to
// the service, which refuses an order that puts a step before one it
// depends on.
func (u *UI) moveStep(w http.ResponseWriter, r *http.Request) {
	err := rbeParseForm(w, r)
	if err == nil {
		err = u.move(r, r.PathValue("step"), r.PostFormValue("direction"))
	}
	u.edited(w, r, err, "step_moved", u.refusedOnEdit(w, r, err, "steps", nil))
}

func (u *UI) move(r *http.Request, step, direction string) error {
	if direction != "up" && direction != "down" {
		return orchestrator.Invalid("direction", "must be up or down")
	}
	id := r.PathValue("id")
	front, err := u.svc.Runbooks.Get(r.Context(), id)
	if err != nil {
		return err
	}
	rb := front.Version
	order := make([]string, len(rb.Steps))
	for i, s := range rb.Steps {
		order[i] = s.ID
	}
	i := slices.Index(order, step)
	if i < 0 {
		return orchestrator.Errorf(orchestrator.ENOTFOUND, "step %q not found", step)
	}
	j := i - 1
	if direction == "down" {
		j = i + 1
	}
	if j < 0 || j >= len(order) {
		return orchestrator.Invalid("direction", "step %s is already %s", step, map[string]string{"up": "first", "down": "last"}[direction])
	}
	order[i], order[j] = order[j], order[i]
	_, err = u.svc.Runbooks.ReorderSteps(r.Context(), id, runbooks.OrderInput{Order: order})
	return err
}

// saveSections replaces the draft's editable sections with the form's,
// a line per entry.
func (u *UI) saveSections(w http.ResponseWriter, r *http.Request) {
	err := rbeParseForm(w, r)
	var f sectionsForm
	if err == nil {
		f = sectionsForm{Criteria: r.PostFormValue("criteria"), Authority: r.PostFormValue("authority"),
			CallTreeServices: r.PostFormValue("call_tree_services"), CallTreeNotes: r.PostFormValue("call_tree_notes"),
			Communications: r.PostFormValue("communications"), Targets: r.PostFormValue("targets"),
			Failback: r.PostFormValue("failback"), VitalRecords: r.PostFormValue("vital_records")}
		_, err = u.svc.Runbooks.ReplaceSections(r.Context(), r.PathValue("id"), f.input())
	}
	u.edited(w, r, err, "sections_saved", u.refusedOnEdit(w, r, err, "sections", func(v *runbookEditView) { v.Sections = f }))
}

// input is the form as the service's input: every part is sent, so an
// emptied box empties its section.
func (f sectionsForm) input() runbooks.SectionsInput {
	var in runbooks.SectionsInput
	criteria, authority := rbeLines(f.Criteria), rbeLines(f.Authority)
	services, notes := rbeLines(f.CallTreeServices), strings.TrimSpace(f.CallTreeNotes)
	targets := rbeLines(f.Targets)
	communications, failback, vital := rbeLines(f.Communications), rbeLines(f.Failback), rbeLines(f.VitalRecords)
	in.Invocation = &struct {
		Criteria  *[]string `json:"criteria"`
		Authority *[]string `json:"authority"`
	}{&criteria, &authority}
	in.CallTree = &struct {
		Services *[]string `json:"services"`
		Notes    *string   `json:"notes"`
	}{&services, &notes}
	in.Availability = &struct {
		Targets *[]string `json:"targets"`
	}{&targets}
	in.Communications, in.Failback, in.VitalRecords = &communications, &failback, &vital
	return in
}

// lines splits text into its non-blank lines.
func rbeLines(text string) []string {
	out := []string{}
	for _, l := range strings.Split(text, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// regenerateRunbook replaces the draft with a fresh generation from the
// CMDB and BIAs (edits to the draft are replaced, as through the API).
func (u *UI) regenerateRunbook(w http.ResponseWriter, r *http.Request) {
	_, err := u.svc.Runbooks.Regenerate(r.Context(), r.PathValue("id"))
	u.edited(w, r, err, "regenerated", u.refusedOnEdit(w, r, err, "regenerate", nil))
}

// reviewRunbook records the annual review of the version in force.
func (u *UI) reviewRunbook(w http.ResponseWriter, r *http.Request) {
	err := rbeParseForm(w, r)
	var f reviewForm
	if err == nil {
		f = reviewForm{Notes: r.PostFormValue("notes"), Outcome: r.PostFormValue("outcome"), Actions: r.PostFormValue("actions")}
		in := runbooks.ReviewInput{Notes: strings.TrimSpace(f.Notes), Outcome: f.Outcome}
		if as := rbeLines(f.Actions); len(as) > 0 {
			in.Actions = as
		}
		_, err = u.svc.Runbooks.Review(r.Context(), r.PathValue("id"), in)
	}
	u.edited(w, r, err, "reviewed", u.refusedOnEdit(w, r, err, "review", func(v *runbookEditView) { v.Review = f }))
}

// retireView is the retirement's confirmation page.
type retireView struct {
	Runbook  runbooks.Runbook
	Error    string
	Problems []rbeProblem
}

// retirePage asks for confirmation before a runbook is retired: retiring
// takes it out of force for good (its versions are kept, but it can no
// longer be edited, approved or executed, and leaves the offline kit).
func (u *UI) retirePage(w http.ResponseWriter, r *http.Request) {
	u.retireConfirm(w, r, http.StatusOK, nil)
}

func (u *UI) retireConfirm(w http.ResponseWriter, r *http.Request, status int, refused error) {
	rb, err := u.svc.Runbooks.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		u.fail(w, r, err)
		return
	}
	v := retireView{Runbook: rb}
	if refused != nil {
		v.Error, v.Problems = rbeRefusal(refused), rbeProblems(r, refused)
	}
	u.render(w, r, status, "runbook_edit_retire", v)
}

// retireRunbook retires the runbook once the confirmation is ticked and
// the runbook's id typed again; runbooks.Service.Retire takes no reason, so
// the page asks for none it could not keep.
func (u *UI) retireRunbook(w http.ResponseWriter, r *http.Request) {
	err := rbeParseForm(w, r)
	if err == nil {
		var v orchestrator.Validation
		if r.PostFormValue("confirm") != "yes" {
			v.Add("confirm", "tick the box to confirm the retirement")
		}
		if strings.TrimSpace(r.PostFormValue("confirm_id")) != r.PathValue("id") {
			v.Add("confirm_id", "type the runbook's number, %s, to confirm", r.PathValue("id"))
		}
		err = v.Err()
	}
	if err == nil {
		_, err = u.svc.Runbooks.Retire(r.Context(), r.PathValue("id"))
	}
	if status, refused := refusal(err); refused {
		u.retireConfirm(w, r, refusedStatus(w, r, status), err)
		return
	}
	if err != nil {
		u.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/runbooks/"+r.PathValue("id"), http.StatusSeeOther)
}

// stepPath is the address of a runbook's step form.
func stepPath(id int64, step string) string { return fmt.Sprintf("/runbooks/%d/steps/%s", id, step) }

// rbeStepOption is a step offered in a list (dependencies, placement).
type rbeStepOption struct {
	ID, Title string
	Selected  bool
}

// stepView is the step form's page: a new step or one to change.
type stepView struct {
	Runbook  runbooks.Runbook
	StepID   string
	Form     stepForm
	Action   string
	IsNew    bool
	NewDraft bool
	Others   []rbeStepOption
	After    []rbeStepOption
	Kinds    []string
	Methods  []string
	Deciders []orchestrator.Role
	Error    string
	Problems []rbeProblem
}

// Bad reports whether the refusal names field (or a part of it), so the
// control is marked invalid.
func (v stepView) Bad(field string) bool {
	return slices.ContainsFunc(v.Problems, func(p rbeProblem) bool {
		return p.Field == field || strings.HasPrefix(p.Field, field+"[") || strings.HasPrefix(p.Field, field+".")
	})
}

// newStepPage shows the form of a new step.
func (u *UI) newStepPage(w http.ResponseWriter, r *http.Request) {
	u.stepFormPage(w, r, http.StatusOK, "", stepForm{Kind: "manual", Mandatory: true}, nil)
}

// stepPage shows the form of one step of the front version.
func (u *UI) stepPage(w http.ResponseWriter, r *http.Request) {
	rb, err := u.svc.Runbooks.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		u.fail(w, r, err)
		return
	}
	i := slices.IndexFunc(rb.Version.Steps, func(s runbooks.Step) bool { return s.ID == r.PathValue("step") })
	if i < 0 {
		u.notFound(w, r)
		return
	}
	u.drawStepForm(w, r, http.StatusOK, rb, rb.Version.Steps[i].ID, stepFormOf(rb.Version.Steps[i]), nil)
}

// stepFormPage draws the step form of the runbook in the path.
func (u *UI) stepFormPage(w http.ResponseWriter, r *http.Request, status int, step string, f stepForm, refused error) {
	rb, err := u.svc.Runbooks.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		u.fail(w, r, err)
		return
	}
	u.drawStepForm(w, r, status, rb, step, f, refused)
}

func (u *UI) drawStepForm(w http.ResponseWriter, r *http.Request, status int, rb runbooks.Runbook, step string, f stepForm, refused error) {
	v := stepView{Runbook: rb, StepID: step, Form: f, IsNew: step == "", NewDraft: rb.DraftVersion == nil,
		Kinds: stepKinds, Methods: automationMethods, Deciders: rbeDeciders}
	v.Action = fmt.Sprintf("/runbooks/%d/steps", rb.ID)
	if step != "" {
		v.Action = stepPath(rb.ID, step)
	}
	for _, s := range rb.Version.Steps {
		if s.ID == step {
			continue
		}
		v.Others = append(v.Others, rbeStepOption{ID: s.ID, Title: s.Title, Selected: slices.Contains(f.DependsOn, s.ID)})
		v.After = append(v.After, rbeStepOption{ID: s.ID, Title: s.Title, Selected: f.After == s.ID})
	}
	if refused != nil {
		v.Error, v.Problems = rbeRefusal(refused), rbeProblems(r, refused)
	}
	u.render(w, r, status, "runbook_edit_step", v)
}

// addStep adds a step to the draft from the form.
func (u *UI) addStep(w http.ResponseWriter, r *http.Request) {
	u.saveStep(w, r, "", "step_added")
}

// updateStep changes a step of the draft from the form.
func (u *UI) updateStep(w http.ResponseWriter, r *http.Request) {
	u.saveStep(w, r, r.PathValue("step"), "step_saved")
}

// saveStep sends the form to the service: a refusal redraws the form with
// what was typed and the fields the service named, and nothing is saved.
func (u *UI) saveStep(w http.ResponseWriter, r *http.Request, step, done string) {
	ctx, id := r.Context(), r.PathValue("id")
	err := rbeParseForm(w, r)
	var f stepForm
	if err == nil {
		f = stepFormFrom(r)
		var current *runbooks.Step
		if step != "" {
			rb, gerr := u.svc.Runbooks.Get(ctx, id)
			if gerr != nil {
				u.fail(w, r, gerr)
				return
			}
			if i := slices.IndexFunc(rb.Version.Steps, func(s runbooks.Step) bool { return s.ID == step }); i >= 0 {
				current = &rb.Version.Steps[i]
			}
		}
		var in runbooks.StepInput
		if in, err = f.input(current); err == nil {
			if step == "" {
				_, err = u.svc.Runbooks.AddStep(ctx, id, in)
			} else {
				_, err = u.svc.Runbooks.UpdateStep(ctx, id, step, in)
			}
		}
	}
	u.edited(w, r, err, done, func(status int) { u.stepFormPage(w, r, status, step, f, err) })
}

// runbookEditWords are the words of runbook editing, the diff and the
// offline kit (恢复手册, 步骤, 依赖, 审批, 版本, 差异, 离线资料包).
var runbookEditWords = map[string]map[string]string{langEN: runbookEditEN, langZH: runbookEditZH}
