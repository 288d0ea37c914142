package report

import (
	"encoding/json"
	"maps"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/drills"
	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/runbooks"
	"github.com/bcdr/bcdr/runbooks/execution"
)

// The after-action report and the invocation review have every word in
// both languages, and a title with the subject's place in it.
func TestPostRecoveryWordsInBothLanguages(t *testing.T) {
	t.Parallel()
	for name, d := range map[string]dict{"afterActionWords": afterActionWords, "invocationWords": invocationWords} {
		en := slices.Sorted(maps.Keys(d[LangEN]))
		zh := slices.Sorted(maps.Keys(d[LangZH]))
		require.Equal(t, en, zh, "%s has the same keys in English and Chinese", name)
		for _, lang := range Langs {
			for k, w := range d[lang] {
				require.NotEmpty(t, w, "%s[%s][%s]", name, lang, k)
			}
			require.Contains(t, d[lang]["title"], "%s", "%s[%s] title names the subject", name, lang)
		}
	}
}

// rawKey is a dictionary key drawn as it is: a word missing from every
// dictionary.
var rawKey = regexp.MustCompile(`>[a-z]+(_[a-z]+)+<`)

// Every part of both reports, filled in, draws no key that no dictionary
// has, in either language.
func TestPostRecoveryDrawsNoMissingWord(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 3, 1, 0, 0, 0, time.UTC)
	d := func(h float64) *orchestrator.Duration {
		v := orchestrator.Duration(time.Duration(h * float64(time.Hour)))
		return &v
	}
	yes, no := true, false
	result := drills.ResultPartial
	step := drills.StepOutcome{Runbook: 7, Execution: 9, Step: "s1", Title: "Restore the database", Status: execution.StepFailed, Estimate: *d(1), Elapsed: d(3)}
	finding := drills.Finding{ID: 3, Severity: "high", Title: "Slow restore", Owner: "ops", Status: drills.FindingOpen, Overdue: true}
	report := drills.Report{Observations: []string{"seen"}, WentWell: []string{"calls"}, ToImprove: []string{"restore"},
		Recommendations: []string{"replicate"}, Actions: []string{"buy disks"}}
	aa := drills.AfterAction{
		Drill: drills.Drill{ID: 1, Title: "Drill", Type: drills.TypeTechnical, Status: drills.StatusCompleted, Result: &result,
			Scenario: drills.Scenario{Kind: drills.ScenarioDisruption, Ref: "site:dc", Text: "site lost"}, Services: []string{"tax"},
			Runbooks: []int64{7}, Executions: []int64{9}, Participants: []drills.Participant{{Name: "wang", Role: "operator"}},
			Objectives: []string{"recover"}, Criteria: drills.Criteria{Other: []string{"calm"}}, PlannedStart: at, StartedAt: &at, CompletedAt: &at,
			Outcome: &drills.Outcome{Services: []drills.ServiceOutcome{{Service: "tax", RTO: d(4), RTOAchieved: d(10), RTOMet: &no, RPO: d(1), RPOMet: nil}},
				Overran: []drills.StepOutcome{step}, Missed: []drills.StepOutcome{step}, Reasons: []string{"tax missed its RTO"}},
			Report: report},
		Timeline:  []drills.Event{{At: at, Actor: "wang", Type: drills.EventIssue, Detail: "no key"}},
		Execution: map[string][]execution.Event{"9": {{At: at, Actor: "wang", Step: "s1", Type: "execution_aborted", Detail: "stop"}}},
		Findings:  []drills.Finding{finding},
		Verified:  []drills.Finding{{ID: 2, Title: "Old", Status: drills.FindingVerified, VerifiedAt: &at}},
		Hotwash:   []drills.Hotwash{{Participant: "wang", At: at, Answers: map[string]string{"went_well": "a", "roles_clear": "4"}}},
		Questions: drills.HotwashQuestions,
	}
	ex := execution.Execution{ID: 9, Runbook: 7, Version: 2, Title: "Runbook", Mode: execution.ModeInvocation, Status: execution.StatusAborted,
		Reason: "gave up", StartedBy: "li", StartedAt: at, FinishedAt: &at, Scenario: json.RawMessage(`{"text":"power"}`), FailurePoint: &at,
		Steps: []execution.Step{
			{ID: "s1", Position: 1, Kind: execution.KindManual, Title: "Restore", OwnerRole: "operator", Estimate: *d(1), Elapsed: d(3), Status: execution.StepSucceeded, DoneBy: "wang"},
			{ID: "s2", Position: 2, Kind: execution.KindDecision, Title: "Go", Decision: &runbooks.Decision{Role: orchestrator.RoleAdmin}, Status: execution.StepRejected, DoneBy: "zhang"},
			{ID: "s3", Position: 3, Kind: execution.KindAutomated, Title: "Call", Status: execution.StepCancelled},
		}}
	inv := InvocationReviewReport{
		InvocationReview: drills.InvocationReview{Execution: ex, Status: drills.ReviewOpen, Report: report, Findings: []drills.Finding{finding},
			Timeline: []execution.Event{{At: at, Actor: "wang", Step: "s2", Type: "step_rejected", Detail: "no"}}, UpdatedBy: "zhang", UpdatedAt: &at},
		Recovery: []InvocationRecovery{{Service: "tax", RTO: d(4), RTOAchieved: d(5), RTOMet: &no, RPO: d(1), RPOAchieved: d(0.5), RPOMet: &yes}},
		Overran:  []drills.StepOutcome{step},
	}
	names := afterActionNames{runbooks: map[int64]string{7: "Runbook"}, steps: map[int64]map[string]string{9: {"s1": "Restore"}}}
	for _, lang := range Langs {
		for name, doc := range map[string]*Document{"after-action": afterActionDocument(aa, names, lang, at), "invocation": invocationDocument(inv, lang, at)} {
			html, err := doc.HTML()
			require.NoError(t, err)
			require.Empty(t, rawKey.FindAllString(string(html), -1), "%s %s draws a key no dictionary has", name, lang)
			require.NotContains(t, string(html), "%!", "%s %s formats every value", name, lang)
		}
	}
}
