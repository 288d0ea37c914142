package runbooks

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/bcdr/bcdr/orchestrator"
)

// md escapes user text (orchestrator.MarkdownText).
func md(s string) string { return orchestrator.MarkdownText(s) }

// renderMarkdown writes a document as Markdown: the same content as the
// HTML, steps as a task list.
func renderMarkdown(doc Document) []byte {
	var b bytes.Buffer
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	v, f := doc.Version, doc.Feasibility
	p("# %s\n\n", md(doc.Title))
	p("Runbook %d, version %d (%s)", doc.ID, v.Number, v.Status)
	if a := v.Approval; a != nil {
		p(", approved by %s on %s, scope fingerprint %s", md(a.By), a.At.UTC().Format("2006-01-02"), a.Fingerprint[:min(12, len(a.Fingerprint))])
	}
	p(". Exported %s.\n\n", doc.ExportedAt.UTC().Format("2006-01-02 15:04 UTC"))
	p("**可行性 Feasibility: %s** — estimated recovery %s", f.Verdict, f.EstimatedRecovery)
	if f.RTO != nil {
		p("; %s", md(f.RTO.Message))
	}
	p(".\n\n")
	if doc.Staleness.Stale {
		p("**需要更新 Stale:** %s\n\n", strings.Join(doc.Staleness.Flags, ", "))
		if r := doc.Staleness.RetestRequired; r != nil {
			if d := r.Failed; d != nil {
				p("- drill %d on %s: %s; a passed retest is required\n", d.ID, d.At.UTC().Format("2006-01-02"), d.Result)
			}
			for _, c := range r.Changes {
				p("- %s %s “%s” on %s touched %s\n", c.Kind, md(c.ExternalID), md(c.Title), c.At.UTC().Format("2006-01-02"), md(strings.Join(c.CIs, ", ")))
			}
			p("\n")
		}
	}
	list := func(title string, items []string) {
		p("## %s\n\n", title)
		for _, it := range items {
			p("- %s\n", md(it))
		}
		p("\n")
	}
	list("启动条件 Invocation criteria", v.Sections.Invocation.Criteria)
	list("谁可以启动 Who may invoke", v.Sections.Invocation.Authority)
	p("## 呼叫树与联系人 Call tree and contacts\n\n")
	if len(doc.CallTrees) == 0 {
		p("No call tree is recorded for this runbook.\n\n")
	}
	for _, t := range doc.CallTrees {
		p("### %s (%s)\n\n| Level | Contact | Role | Phone | Email / chat |\n|---|---|---|---|---|\n", md(t.Name), md(t.Key))
		for _, l := range t.Levels {
			for _, c := range l.Contacts {
				p("| %d | %s (%s) | %s | %s | %s %s |\n", l.Level, md(c.Name), md(c.Key), md(c.Role), md(c.Phone), md(c.Email), md(c.Chat))
			}
		}
		p("\n")
	}
	list("沟通 Communications", v.Sections.Communications)
	list("可用性目标 Availability while invoked (MBCO)", v.Sections.Availability.Targets)
	p("## 恢复要求 Recovery requirements\n\n| Service | BIA version | RTO | RPO | WRT | MTPD | Recovered after |\n|---|---|---|---|---|---|---|\n")
	for _, s := range f.Services {
		p("| %s | %s | %s | %s | %s | %s | %s |\n", md(s.Service), optional(s.BIAVersion), optional(s.RTO), optional(s.RPO), optional(s.WRT), optional(s.MTPD), optional(s.RecoveredAt))
	}
	if len(f.Scenarios) > 0 {
		p("\n### 覆盖的场景 Scenarios covered\n\n| Scenario | Standbys | Achievable RTO | RTO met | Achievable RPO | RPO met |\n|---|---|---|---|---|---|\n")
		for _, sc := range f.Scenarios {
			p("| %s | %s | %s | %s | %s | %s |\n", md(sc.Name()), md(strings.Join(sc.Standbys, ", ")), sc.RTOEstimate,
				optional(sc.RTOMet), optional(sc.RPOEstimate), optional(sc.RPOMet))
		}
	}
	p("\n## 关键路径 Critical path (%s)\n\n", f.EstimatedRecovery)
	for i, c := range f.CriticalPath {
		p("%d. %s %s — %s, done by %s\n", i+1, c.Step, md(c.Title), c.Estimate, c.Finish)
	}
	p("\n## 恢复步骤 Recovery steps (checklist)\n\n")
	for _, w := range waves(doc) {
		p("### Wave %d\n\n", w.Number)
		for _, s := range w.Steps {
			mark := ""
			if s.Step.Mandatory {
				mark = " ★"
			}
			p("- [ ] **%s. %s**%s (%s, %s", s.Step.ID, md(s.Step.Title), mark, s.Step.Estimate, md(s.Step.OwnerRole))
			if s.Step.Owner != "" {
				p(": %s", md(s.Step.Owner))
			}
			p(")")
			if len(s.Step.DependsOn) > 0 {
				p(" after %s", strings.Join(s.Step.DependsOn, ", "))
			}
			p("  \n  %s\n", md(s.Step.Text))
			if a := s.Step.Automation; a != nil {
				p("  Automation: %s %s, expect %d\n", a.Method, md(a.URL), a.ExpectedStatus)
			}
		}
		p("\n")
	}
	p("## 回切 Return to normal operation (failback)\n\n")
	for i, l := range v.Sections.Failback {
		p("%d. %s\n", i+1, md(l))
	}
	p("\n")
	list("重要记录 Vital records", v.Sections.VitalRecords)
	p("## 数据恢复点 RPO status\n\n| CI | Required RPO | Status | Detail |\n|---|---|---|---|\n")
	for _, r := range f.RPO {
		p("| %s | %s | %s | %s |\n", md(r.CI), optional(r.RequiredRPO), r.Status, md(r.Message))
	}
	p("\n## 差距 Gaps\n\n")
	if len(f.Gaps) == 0 {
		p("None.\n")
	}
	for _, g := range f.Gaps {
		p("- **%s** %s\n", g.Kind, md(g.Message))
	}
	return b.Bytes()
}
