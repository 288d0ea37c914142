package runbooks

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/bcdr/bcdr/orchestrator"
)

func step(id string, est float64, deps ...string) Step {
	if deps == nil {
		deps = []string{}
	}
	return Step{ID: id, Title: id, Estimate: hrs(est), DependsOn: deps, OwnerRole: "x"}
}

func TestLayoutCriticalPath(t *testing.T) {
	// s1 ─┬─ s2 (3h) ─┐
	//     └─ s3 (1h) ─┴─ s4 ─ s5;  s6 stands alone (4h).
	steps := []Step{step("s1", 1), step("s2", 3, "s1"), step("s3", 1, "s1"), step("s4", 0.5, "s2", "s3"), step("s5", 0.25, "s4"), step("s6", 4)}
	sc, err := layout(steps, "steps")
	require.NoError(t, err)
	require.Equal(t, hrs(4.75), sc.total, "1 + 3 + 0.5 + 0.25")
	var path []string
	for _, i := range sc.critical {
		path = append(path, steps[i].ID)
	}
	require.Equal(t, []string{"s1", "s2", "s4", "s5"}, path)
	require.Equal(t, hrs(1), sc.timing[2].Start, "s3 starts when s1 is done")
	require.Equal(t, hrs(4), sc.timing[3].Start, "s4 waits for the slower of s2 and s3")
	require.Equal(t, []int{0, 1, 1, 2, 3, 0}, []int{sc.timing[0].Wave, sc.timing[1].Wave, sc.timing[2].Wave, sc.timing[3].Wave, sc.timing[4].Wave, sc.timing[5].Wave})
	require.False(t, sc.timing[5].Critical)

	// The lone step becomes critical once it is the longest.
	steps[5].Estimate = hrs(6)
	sc, err = layout(steps, "steps")
	require.NoError(t, err)
	require.Equal(t, hrs(6), sc.total)
	require.Equal(t, []int{5}, sc.critical)
}

func TestLayoutRejectsBadGraphs(t *testing.T) {
	for name, tc := range map[string]struct {
		steps   []Step
		field   string
		message string
	}{
		"cycle": {[]Step{step("s1", 1, "s3"), step("s2", 1, "s1"), step("s3", 1, "s2"), step("s4", 1)},
			"steps[0].depends_on", "steps s1 → s3 → s2 → s1 form a cycle"},
		"two-step cycle": {[]Step{step("s1", 1), step("s2", 1, "s1", "s3"), step("s3", 1, "s2")},
			"steps[1].depends_on", "steps s2 → s3 → s2 form a cycle"},
		"self":    {[]Step{step("s1", 1, "s1")}, "steps[0].depends_on", "cannot depend on itself"},
		"unknown": {[]Step{step("s1", 1, "s9")}, "steps[0].depends_on", `depends on "s9", which is not a step`},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := layout(tc.steps, "steps")
			require.Equal(t, orchestrator.EINVALID, orchestrator.ErrorCode(err))
			f := orchestrator.ErrorFields(err)
			require.Equal(t, tc.field, f[0].Field)
			require.Contains(t, f[0].Message, tc.message)
		})
	}
}

func TestEditKeepsADAG(t *testing.T) {
	v := Version{Steps: []Step{step("s1", 1), step("s2", 1, "s1"), step("s3", 1, "s2"), {ID: "s4", Kind: KindHandback, Title: "h", DependsOn: []string{"s3"}}}, nextStep: 5}
	title, est := "Call the insurer", "30m"
	id, err := addStep(&v, StepInput{Title: &title, Estimate: &est, DependsOn: &[]string{"s1"}})
	require.NoError(t, err)
	require.Equal(t, "s5", id)
	require.Equal(t, "s5", v.Steps[3].ID, "before the hand-back by default")
	require.Equal(t, KindCustom, v.Steps[3].Kind)

	// A dependency on a later step moves the step after it.
	require.NoError(t, updateStep(&v, "s5", StepInput{DependsOn: &[]string{"s3"}}))
	require.NoError(t, settle(&v, ""))
	require.NoError(t, checkDAG(v.Steps, "steps"))

	require.NoError(t, removeStep(&v, "s2"))
	require.Equal(t, []string{"s1"}, v.Steps[1].DependsOn, "s3 now waits for what s2 waited for")
	_, err = addStep(&v, StepInput{Title: &title})
	require.NoError(t, err)
	require.Equal(t, "s6", v.Steps[len(v.Steps)-2].ID, "ids are never reused")

	err = updateStep(&v, "s1", StepInput{DependsOn: &[]string{"s4"}})
	require.Equal(t, orchestrator.EINVALID, orchestrator.ErrorCode(err))
	require.Equal(t, "depends_on", orchestrator.ErrorFields(err)[0].Field)
}
