package runbooks

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/bcdr/bcdr/orchestrator"
)

// stepIDPattern is the shape of a step id: "s" and a number.
var stepIDPattern = regexp.MustCompile(`^s[1-9][0-9]{0,5}$`)

// Timing is when a step can start and finish if every step starts as soon
// as its dependencies are done. Wave counts the steps on the longest chain
// before it: steps in one wave can run in parallel.
type Timing struct {
	Start    orchestrator.Duration `json:"start"`
	Finish   orchestrator.Duration `json:"finish"`
	Wave     int                   `json:"wave"`
	Critical bool                  `json:"critical"`
}

// schedule is the result of laying a step DAG out in time.
type schedule struct {
	order  []int // step indices, dependencies first
	timing []Timing
	// critical is the longest path, first step first.
	critical []int
	total    orchestrator.Duration
}

// checkDAG verifies that every dependency names a step and that the steps
// form no cycle. A cycle is an EINVALID error on field naming the steps
// around it, e.g. "s3 → s5 → s3".
func checkDAG(steps []Step, field string) error {
	_, err := layout(steps, field)
	return err
}

// depField names the depends_on field of step i in errors: under field
// when it is given ("steps[3].depends_on"), plainly when it is not.
func depField(field string, i int) string {
	if field == "" {
		return "depends_on"
	}
	return fmt.Sprintf("%s[%d].depends_on", field, i)
}

// layout orders the steps topologically (Kahn, stable: among ready steps the
// one listed first goes first) and computes the earliest start and finish
// of each, the waves and the critical path.
func layout(steps []Step, field string) (schedule, error) {
	index := make(map[string]int, len(steps))
	for i, s := range steps {
		index[s.ID] = i
	}
	var v orchestrator.Validation
	waiting := make([]int, len(steps))
	unblocks := make([][]int, len(steps))
	for i, s := range steps {
		for _, d := range s.DependsOn {
			j, ok := index[d]
			switch {
			case !ok:
				v.Add(depField(field, i), "step %s depends on %q, which is not a step of this runbook", s.ID, clip(d))
				continue
			case j == i:
				v.Add(depField(field, i), "step %s cannot depend on itself", s.ID)
				continue
			}
			waiting[i]++
			unblocks[j] = append(unblocks[j], i)
		}
	}
	if err := v.Err(); err != nil {
		return schedule{}, err
	}
	sc := schedule{order: make([]int, 0, len(steps)), timing: make([]Timing, len(steps))}
	prev := make([]int, len(steps)) // the dependency that finishes last, -1 for none
	for i := range prev {
		prev[i] = -1
	}
	// ready is kept sorted so that, among the steps free to go, the one
	// listed first goes first: a list already in dependency order keeps
	// its order.
	var ready []int
	for i := range steps {
		if waiting[i] == 0 {
			ready = append(ready, i)
		}
	}
	for len(ready) > 0 {
		i := ready[0]
		ready = ready[1:]
		sc.order = append(sc.order, i)
		t := &sc.timing[i]
		t.Finish = t.Start + steps[i].Estimate
		for _, k := range unblocks[i] {
			tk := &sc.timing[k]
			if prev[k] < 0 || t.Finish > tk.Start {
				tk.Start, prev[k] = t.Finish, i
			}
			tk.Wave = max(tk.Wave, t.Wave+1)
			if waiting[k]--; waiting[k] == 0 {
				at, _ := slices.BinarySearch(ready, k)
				ready = slices.Insert(ready, at, k)
			}
		}
	}
	if len(sc.order) < len(steps) {
		return schedule{}, cycleError(steps, waiting, index, field)
	}
	sc.critical = criticalPath(sc.timing, prev)
	for _, i := range sc.critical {
		sc.timing[i].Critical = true
	}
	if n := len(sc.critical); n > 0 {
		sc.total = sc.timing[sc.critical[n-1]].Finish
	}
	return sc, nil
}

// criticalPath follows the latest-finishing dependency back from the step
// that finishes last (the first listed of equals).
func criticalPath(timing []Timing, prev []int) []int {
	last := -1
	for i, t := range timing {
		if last < 0 || t.Finish > timing[last].Finish {
			last = i
		}
	}
	var path []int
	for i := last; i >= 0; i = prev[i] {
		path = append(path, i)
	}
	for a, b := 0, len(path)-1; a < b; a, b = a+1, b-1 {
		path[a], path[b] = path[b], path[a]
	}
	return path
}

// cycleError finds one cycle among the steps Kahn's algorithm could not
// place (each still waits on another unplaced step) and names it.
func cycleError(steps []Step, waiting []int, index map[string]int, field string) error {
	start := -1
	for i := range steps {
		if waiting[i] > 0 {
			start = i
			break
		}
	}
	seen := map[int]int{}
	var path []int
	for i := start; ; {
		if at, ok := seen[i]; ok {
			path = path[at:]
			break
		}
		seen[i] = len(path)
		path = append(path, i)
		for _, d := range steps[i].DependsOn {
			if j := index[d]; waiting[j] > 0 {
				i = j
				break
			}
		}
	}
	ids := make([]string, 0, len(path)+1)
	for _, k := range path {
		ids = append(ids, steps[k].ID)
	}
	ids = append(ids, ids[0])
	return &orchestrator.Error{Code: orchestrator.EINVALID, Message: "step dependencies form a cycle",
		Fields: []orchestrator.FieldError{{Field: depField(field, path[0]),
			Message: "steps " + strings.Join(ids, " → ") + " form a cycle (each waits for the next); a step cannot wait for itself"}}}
}
