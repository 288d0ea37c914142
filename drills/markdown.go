package drills

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/bcdr/bcdr/orchestrator"
)

// Markdown writes the after-action report (演练记录) as a Markdown
// document with bilingual headings, in the order NIST SP 800-84 gives:
// scope, objectives, participants, timeline, results, observations, what
// went well and what did not, recommendations, actions, findings.
func (r AfterAction) Markdown() []byte {
	var b bytes.Buffer
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	d := r.Drill
	p("# 演练记录 After-action report: %s\n\n", md(d.Title))
	p("- Drill %d, %s, %s\n", d.ID, d.Type, d.Status)
	p("- 场景 Scenario: %s\n", md(scenarioText(d.Scenario)))
	p("- 计划 Planned: %s\n", stamp(&d.PlannedStart))
	p("- 开始 Started: %s; 完成 Completed: %s\n", stamp(d.StartedAt), stamp(d.CompletedAt))
	if d.Result != nil {
		p("- **结果 Result: %s**\n", *d.Result)
	}
	p("\n## 范围 Scope\n\n- Services: %s\n- Runbooks: %s\n", md(strings.Join(d.Services, ", ")), joinIDs(d.Runbooks))
	if len(d.Executions) > 0 {
		p("- Executions: %s\n", joinIDs(d.Executions))
	}
	list := func(title string, items []string) {
		p("\n## %s\n\n", title)
		if len(items) == 0 {
			p("None recorded.\n")
		}
		for _, it := range items {
			p("- %s\n", md(it))
		}
	}
	list("目标 Objectives", d.Objectives)
	p("\n## 参与人员 Participants\n\n")
	for _, pt := range d.Participants {
		p("- %s (%s)\n", md(pt.Name), md(pt.Role))
	}
	p("\n## 时间线 Timeline\n\n")
	for _, e := range r.Timeline {
		step := ""
		if e.Step != "" {
			step = " [" + md(e.Step) + "]"
		}
		p("- %s %s %s%s: %s\n", e.At.UTC().Format("2006-01-02 15:04"), md(e.Actor), e.Type, step, md(e.Detail))
	}
	ids := make([]string, 0, len(r.Execution))
	for id := range r.Execution {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		p("\nExecution %s:\n\n", id)
		for _, e := range r.Execution[id] {
			p("- %s %s %s %s: %s\n", e.At.UTC().Format("2006-01-02 15:04"), md(e.Actor), md(e.Step), e.Type, md(e.Detail))
		}
	}
	if o := d.Outcome; o != nil {
		p("\n## 结果 Results\n\n| Service | RTO | achieved | met | RPO | achieved | met |\n|---|---|---|---|---|---|---|\n")
		for _, so := range o.Services {
			p("| %s | %s | %s | %s | %s | %s | %s |\n", md(so.Service), durationText(so.RTO), durationText(so.RTOAchieved), met(so.RTOMet),
				durationText(so.RPO), durationText(so.RPOAchieved), met(so.RPOMet))
		}
		list("原因 Why", o.Reasons)
		if len(o.Overran) > 0 {
			p("\nSteps that overran their estimate:\n\n")
			for _, st := range o.Overran {
				p("- %s (runbook %d): %s against %s\n", md(st.Title), st.Runbook, durationText(st.Elapsed), st.Estimate)
			}
		}
	}
	list("观察 Observations", d.Report.Observations)
	list("做得好的 What went well", d.Report.WentWell)
	list("需要改进的 What did not go well", d.Report.ToImprove)
	list("建议 Recommendations", d.Report.Recommendations)
	list("行动 Actions", d.Report.Actions)
	p("\n## 服务改进 Findings\n\n")
	if len(r.Findings)+len(r.Verified) == 0 {
		p("None.\n")
	}
	for _, f := range r.Findings {
		p("- #%d %s (%s, %s, due %s): %s\n", f.ID, f.Severity, f.Status, md(f.Owner), dateText(f), md(f.Title))
	}
	for _, f := range r.Verified {
		p("- #%d verified by this drill: %s\n", f.ID, md(f.Title))
	}
	p("\n## 总结会 Hot wash\n\n")
	if len(r.Hotwash) == 0 {
		p("No answers yet.\n")
	}
	for _, h := range r.Hotwash {
		p("- %s:\n", md(h.Participant))
		for _, q := range HotwashQuestions {
			if a, ok := h.Answers[q.Key]; ok {
				p("  - %s %s\n", q.Text, md(a))
			}
		}
	}
	return b.Bytes()
}

// scenarioText says what a drill rehearses.
func scenarioText(s Scenario) string {
	if s.Ref == "" {
		return s.Text
	}
	return strings.TrimSpace(fmt.Sprintf("%s %s: %s", s.Kind, s.Ref, s.Text))
}

func stamp(t *time.Time) string {
	if t == nil {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

func met(b *bool) string {
	switch {
	case b == nil:
		return "unknown"
	case *b:
		return "yes"
	}
	return "**no**"
}

func dateText(f Finding) string {
	if f.DueDate == nil {
		return "—"
	}
	return f.DueDate.String()
}

// md escapes user text (orchestrator.MarkdownText).
func md(s string) string { return orchestrator.MarkdownText(s) }
