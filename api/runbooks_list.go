package api

import (
	"context"
	"strconv"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/runbooks"
)

// maxFeasibilityPage bounds a page of runbooks whose feasibility is
// computed: each costs a full read of the runbook (runbooks.Get).
const maxFeasibilityPage = 50

// runbookListItem is a runbook in the list with what says whether it is
// fit: its staleness (always) and its feasibility verdict (when asked for).
type runbookListItem struct {
	runbooks.Summary
	// Verdict is null unless feasibility=true or verdict= was given.
	Verdict *string  `json:"verdict"`
	Stale   bool     `json:"stale"`
	Flags   []string `json:"flags"`
}

// fitnessFilter narrows the list by staleness and verdict.
type fitnessFilter struct {
	Verdict     string
	Stale       *bool
	Feasibility bool
}

// runbookPage is one page of runbooks passing fit. Staleness is read for a
// whole page of runbooks at once (runbooks.Briefs); the verdict, only when
// asked for, one runbook at a time. Pages are filled: when the filters
// drop runbooks, further runbooks are read until the page is full or none
// remain, so a short page is the last.
func (s *Server) runbookPage(ctx context.Context, f runbooks.Filter, fit fitnessFilter, page orchestrator.Page) (orchestrator.List[runbookListItem], error) {
	out := orchestrator.List[runbookListItem]{Items: []runbookListItem{}}
	after := page.After
	for {
		l, err := s.svc.Runbooks.List(ctx, f, orchestrator.Page{Limit: page.Limit, After: after})
		if err != nil {
			return out, err
		}
		ids := make([]int64, len(l.Items))
		for i, sm := range l.Items {
			ids[i] = sm.ID
		}
		briefs, err := s.svc.Runbooks.Briefs(ctx, ids, runbooks.BriefOptions{Staleness: true, Outline: true})
		if err != nil {
			return out, err
		}
		for i, sm := range l.Items {
			it := runbookListItem{Summary: sm, Flags: []string{}}
			if b, ok := briefs[sm.ID]; ok && b.Staleness.Flags != nil {
				it.Stale, it.Flags = b.Staleness.Stale, b.Staleness.Flags
			}
			if fit.Stale != nil && it.Stale != *fit.Stale {
				continue
			}
			if fit.Feasibility {
				rb, err := s.svc.Runbooks.Get(ctx, strconv.FormatInt(sm.ID, 10))
				if err != nil {
					return out, err
				}
				v := rb.Feasibility.Verdict
				if fit.Verdict != "" && v != fit.Verdict {
					continue
				}
				it.Verdict = &v
			}
			out.Items = append(out.Items, it)
			if len(out.Items) == page.Limit {
				if i < len(l.Items)-1 || l.Next != "" {
					out.Next = orchestrator.EncodeCursor(strconv.FormatInt(sm.ID, 10))
				}
				return out, nil
			}
		}
		if l.Next == "" {
			return out, nil
		}
		if after, err = orchestrator.DecodeCursor(l.Next); err != nil {
			return out, err
		}
	}
}
