package api

import (
	"context"
	"net/http"
	"net/url"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/scheduler"
)

func (s *Server) scheduleRoutes() []Route {
	schedules := resource[scheduler.Schedule, scheduleRequest]{
		list:   s.listSchedules,
		get:    getByID(s.svc.Schedules.Get),
		create: s.createSchedule,
		patch:  updateByID(s.updateSchedule),
		delete: deleteByID(s.svc.Schedules.Delete),
	}
	return append(schedules.routes(s, "/schedules", "id", recordReads, recordWrites),
		Route{Method: "GET", Path: "/schedules/:id/runs", Roles: recordReads, handler: listUnder(s, s.listScheduleRuns)},
		// Firing queues a run now; a replica's scheduler picks it up at its
		// next poll, so the answer is 202 with the pending run.
		Route{Method: "POST", Path: "/schedules/:id/run", Roles: recordWrites, handler: actOn(s, http.StatusAccepted, s.svc.Schedules.FireNow)},
	)
}

// scheduleRequest is the body of POST and PATCH. Durations are read here
// rather than by orchestrator.Duration's UnmarshalJSON so that a bad one is
// reported under its field name.
type scheduleRequest struct {
	Name          *string         `json:"name"`
	Kind          *scheduler.Kind `json:"kind"`
	Target        *string         `json:"target"`
	Cron          *string         `json:"cron"`
	Timezone      *string         `json:"timezone"`
	Enabled       *bool           `json:"enabled"`
	CatchUpWindow *string         `json:"catch_up_window"`
	Jitter        *string         `json:"jitter"`
	MaxRun        *string         `json:"max_run"`
}

func (r scheduleRequest) input() (scheduler.Input, error) {
	var v orchestrator.Validation
	duration := func(field string, s *string) *orchestrator.Duration {
		if s == nil {
			return nil
		}
		d, err := orchestrator.ParseDuration(*s)
		if err != nil {
			v.Add(field, "%s", err.Error())
			return nil
		}
		return &d
	}
	in := scheduler.Input{
		Name: r.Name, Kind: r.Kind, Target: r.Target, Cron: r.Cron, Timezone: r.Timezone, Enabled: r.Enabled,
		CatchUpWindow: duration("catch_up_window", r.CatchUpWindow),
		Jitter:        duration("jitter", r.Jitter),
		MaxRun:        duration("max_run", r.MaxRun),
	}
	return in, v.Err()
}

func (s *Server) listSchedules(ctx context.Context, values url.Values, page orchestrator.Page) (orchestrator.List[scheduler.Schedule], error) {
	q := newQuery(values)
	f := scheduler.Filter{Kind: scheduler.Kind(q.oneOf("kind", enumStrings(scheduler.Kinds)...)), Target: q.str("target"), Enabled: q.boolean("enabled")}
	if err := q.err(); err != nil {
		return orchestrator.List[scheduler.Schedule]{}, err
	}
	return s.svc.Schedules.List(ctx, f, page)
}

// enumStrings lists enum values as the strings a filter accepts.
func enumStrings[T ~string](values []T) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = string(v)
	}
	return out
}

func (s *Server) createSchedule(ctx context.Context, req scheduleRequest) (scheduler.Schedule, error) {
	in, err := req.input()
	if err != nil {
		return scheduler.Schedule{}, err
	}
	return s.svc.Schedules.Create(ctx, in)
}

// updateSchedule changes only the fields the body names.
func (s *Server) updateSchedule(ctx context.Context, id int64, req scheduleRequest) (scheduler.Schedule, error) {
	in, err := req.input()
	if err != nil {
		return scheduler.Schedule{}, err
	}
	return s.svc.Schedules.Update(ctx, id, in)
}

// listScheduleRuns pages through a schedule's run history, latest first.
func (s *Server) listScheduleRuns(ctx context.Context, id int64, values url.Values, page orchestrator.Page) (orchestrator.List[scheduler.Run], error) {
	q := newQuery(values)
	f := scheduler.RunFilter{Status: scheduler.Status(q.oneOf("status", enumStrings(scheduler.Statuses)...))}
	if err := q.err(); err != nil {
		return orchestrator.List[scheduler.Run]{}, err
	}
	return s.svc.Schedules.Runs(ctx, id, f, page)
}
