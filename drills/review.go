package drills

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/audit"
	"github.com/bcdr/bcdr/orchestrator/postgres"
	"github.com/bcdr/bcdr/runbooks/execution"
)

// maxTimeline bounds the execution timeline rows a report carries per
// execution.
const maxTimeline = 1000

// HotwashQuestions are the questions every participant answers after a
// drill (the hot wash), by key.
var HotwashQuestions = []HotwashQuestion{
	{"went_well", "What went well? 哪些做得好?"},
	{"to_improve", "What did not go well, or should change? 哪些需要改进?"},
	{"roles_clear", "Were roles and responsibilities clear (1–5)? 职责是否清晰?"},
	{"runbook_accurate", "Did the runbook match what had to be done (1–5)? 预案是否准确?"},
	{"comments", "Anything else? 其他意见"},
}

// HotwashQuestion is one question of the hot wash.
type HotwashQuestion struct {
	Key  string `json:"key"`
	Text string `json:"text"`
}

// HotwashInput is one participant's answers, by question key.
type HotwashInput struct {
	Answers map[string]string `json:"answers"`
}

// Hotwash is one participant's answers.
type Hotwash struct {
	Participant string            `json:"participant"`
	At          time.Time         `json:"at"`
	Answers     map[string]string `json:"answers"`
}

// AnswerHotwash records the caller's answers to the hot wash of a drill
// in progress or completed; answering again replaces their answers.
func (s *Service) AnswerHotwash(ctx context.Context, id int64, in HotwashInput) (Hotwash, error) {
	var v orchestrator.Validation
	if len(in.Answers) == 0 {
		v.Add("answers", "answer at least one question")
	}
	for key, a := range in.Answers {
		if !slices.ContainsFunc(HotwashQuestions, func(q HotwashQuestion) bool { return q.Key == key }) {
			v.Add("answers."+key, "is not a hot-wash question")
			continue
		}
		checkText(&v, "answers."+key, a, maxText, false)
		if key == "roles_clear" || key == "runbook_accurate" {
			if n, err := strconv.Atoi(a); err != nil || n < 1 || n > 5 {
				v.Add("answers."+key, "must be a whole number from 1 to 5")
			}
		}
	}
	if err := v.Err(); err != nil {
		return Hotwash{}, err
	}
	h := Hotwash{Participant: orchestrator.ActorFrom(ctx).Name, At: s.rt.Now(), Answers: in.Answers}
	err := postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		d, err := getDrill(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if d.Status != StatusInProgress && d.Status != StatusCompleted {
			return orchestrator.Errorf(orchestrator.ECONFLICT, "drill %d is %s: the hot wash follows a drill", id, d.Status)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM drill_events WHERE drill_id = $1 AND type = 'hotwash' AND actor = $2`, id, h.Participant); err != nil {
			return fmt.Errorf("record hot wash of drill %d: %w", id, err)
		}
		return event(ctx, tx, id, h.At, EventHotwash, "", string(marshal(h.Answers)))
	})
	return h, err
}

// AfterAction is a drill's after-action report (NIST SP 800-84; 演练记录):
// scope, objectives, participants, the timeline of the drill and of its
// executions, the results against the targets, the findings it raised and
// verified, the hot wash and the written observations, strengths,
// improvements, recommendations and actions.
type AfterAction struct {
	Drill     Drill                        `json:"drill"`
	Timeline  []Event                      `json:"timeline"`
	Execution map[string][]execution.Event `json:"execution_timelines"`
	Findings  []Finding                    `json:"findings"`
	Verified  []Finding                    `json:"verified_findings"`
	Hotwash   []Hotwash                    `json:"hotwash"`
	Questions []HotwashQuestion            `json:"hotwash_questions"`
}

// AfterAction assembles the after-action report of a drill.
func (s *Service) AfterAction(ctx context.Context, id int64) (AfterAction, error) {
	d, err := s.Get(ctx, id)
	if err != nil {
		return AfterAction{}, err
	}
	r := AfterAction{Drill: d, Timeline: []Event{}, Execution: map[string][]execution.Event{}, Hotwash: []Hotwash{}, Questions: HotwashQuestions}
	events, err := s.Events(ctx, id)
	if err != nil {
		return AfterAction{}, err
	}
	for _, e := range events {
		if e.Type != EventHotwash {
			r.Timeline = append(r.Timeline, e)
			continue
		}
		h := Hotwash{Participant: e.Actor, At: e.At}
		if err := json.Unmarshal([]byte(e.Detail), &h.Answers); err != nil {
			return AfterAction{}, fmt.Errorf("hot wash of drill %d: %w", id, err)
		}
		r.Hotwash = append(r.Hotwash, h)
	}
	for _, ex := range d.Executions {
		t, err := s.opts.Executions.Events(ctx, ex, 0, maxTimeline)
		if err != nil {
			return AfterAction{}, err
		}
		r.Execution[strconv.FormatInt(ex, 10)] = t
	}
	if r.Findings, err = s.findingsWhere(ctx, `drill_id = $1`, id); err != nil {
		return AfterAction{}, err
	}
	if r.Verified, err = s.findingsWhere(ctx, `verified_by = $1`, id); err != nil {
		return AfterAction{}, err
	}
	return r, nil
}

// findingsWhere reads the findings matching one condition on $1, by id.
func (s *Service) findingsWhere(ctx context.Context, cond string, arg any) ([]Finding, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+findingColumns+` FROM findings WHERE `+cond+` ORDER BY id`, arg)
	if err != nil {
		return nil, fmt.Errorf("read findings: %w", err)
	}
	out, err := pgx.CollectRows(rows, scanFinding(s.today()))
	if err != nil {
		return nil, fmt.Errorf("read findings: %w", err)
	}
	return out, nil
}

// Review statuses of an invocation.
const (
	ReviewOpen   = "open"
	ReviewClosed = "closed"
)

// InvocationReview is the review of a real invocation of a continuity
// plan, shaped like a drill's after-action report: what happened (the
// execution and its timeline), what it achieved, what the reviewers found
// and decided, and the findings raised from it.
type InvocationReview struct {
	Execution execution.Execution `json:"execution"`
	Timeline  []execution.Event   `json:"timeline"`
	Status    string              `json:"status"`
	Report    Report              `json:"report"`
	Findings  []Finding           `json:"findings"`
	UpdatedBy string              `json:"updated_by"`
	UpdatedAt *time.Time          `json:"updated_at"`
}

// InvocationReview returns the review of invocation ex: every invocation
// has one, open and empty until someone writes it.
func (s *Service) InvocationReview(ctx context.Context, ex int64) (InvocationReview, error) {
	e, err := s.invocation(ctx, ex)
	if err != nil {
		return InvocationReview{}, err
	}
	r := InvocationReview{Execution: e, Status: ReviewOpen, Report: Report{}}
	var report []byte
	err = s.pool.QueryRow(ctx, `SELECT report, status, updated_by, updated_at FROM invocation_reviews WHERE execution_id = $1`, ex).
		Scan(&report, &r.Status, &r.UpdatedBy, &r.UpdatedAt)
	switch {
	case err == nil:
		if err := json.Unmarshal(report, &r.Report); err != nil {
			return InvocationReview{}, fmt.Errorf("review of invocation %d: %w", ex, err)
		}
	case err != pgx.ErrNoRows:
		return InvocationReview{}, fmt.Errorf("read review of invocation %d: %w", ex, err)
	}
	if r.Timeline, err = s.opts.Executions.Events(ctx, ex, 0, maxTimeline); err != nil {
		return InvocationReview{}, err
	}
	if r.Findings, err = s.findingsWhere(ctx, `execution_id = $1`, ex); err != nil {
		return InvocationReview{}, err
	}
	return r, nil
}

// invocation returns execution ex if it is an invocation.
func (s *Service) invocation(ctx context.Context, ex int64) (execution.Execution, error) {
	e, err := s.opts.Executions.Get(ctx, ex)
	if err != nil {
		return e, err
	}
	if e.Mode != execution.ModeInvocation {
		return e, orchestrator.Errorf(orchestrator.ENOTFOUND, "execution %d is a drill, not an invocation: its review is its drill's after-action report", ex)
	}
	return e, nil
}

// ReviewInput writes an invocation's review.
type ReviewInput struct {
	Report Report `json:"report"`
	// Close closes the review; a closed review can still be reopened by
	// writing it with Close false.
	Close bool `json:"close"`
}

// WriteInvocationReview writes the review of invocation ex.
func (s *Service) WriteInvocationReview(ctx context.Context, ex int64, in ReviewInput) (InvocationReview, error) {
	if err := checkReport(in.Report); err != nil {
		return InvocationReview{}, err
	}
	e, err := s.invocation(ctx, ex)
	if err != nil {
		return InvocationReview{}, err
	}
	if in.Close && e.FinishedAt == nil {
		return InvocationReview{}, orchestrator.Errorf(orchestrator.ECONFLICT, "invocation %d is still %s: close its review once it ended", ex, e.Status)
	}
	status := ReviewOpen
	if in.Close {
		status = ReviewClosed
	}
	err = postgres.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		now := s.rt.Now()
		_, err := tx.Exec(ctx, `INSERT INTO invocation_reviews (execution_id, report, status, created_at, updated_by, updated_at)
			VALUES ($1, $2, $3, $4, $5, $4)
			ON CONFLICT (execution_id) DO UPDATE SET report = $2, status = $3, updated_by = $5, updated_at = $4`,
			ex, marshal(in.Report), status, now, orchestrator.ActorFrom(ctx).Name)
		if err != nil {
			return fmt.Errorf("write review of invocation %d: %w", ex, err)
		}
		return audit.Record(ctx, tx, audit.Change{Action: "review", Resource: "executions", ResourceID: strconv.FormatInt(ex, 10),
			Summary: "invocation review " + status})
	})
	if err != nil {
		return InvocationReview{}, err
	}
	return s.InvocationReview(ctx, ex)
}
