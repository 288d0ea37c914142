package api

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/scheduler"
)

func (s *Server) scheduleRoutes() []Route {
	schedules := resource[scheduler.Schedule, scheduleRequest]{
		list:   s.listSchedules,
		get:    s.getSchedule,
		create: s.createSchedule,
		delete: s.deleteSchedule,
	}
	return append(schedules.routes(s, "/schedules", "id", recordReads, recordWrites),
		Route{Method: "PATCH", Path: "/schedules/:id", Roles: recordWrites, handler: s.updateSchedule},
		Route{Method: "GET", Path: "/schedules/:id/runs", Roles: recordReads, handler: s.listScheduleRuns},
		Route{Method: "POST", Path: "/schedules/:id/run", Roles: recordWrites, handler: s.fireSchedule},
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

// scheduleID reads a schedule id from the path.
func scheduleID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id < 1 {
		return 0, &orchestrator.Error{Code: orchestrator.EINVALID, Message: "invalid id",
			Fields: []orchestrator.FieldError{{Field: "id", Message: "must be a positive whole number"}}}
	}
	return id, nil
}

func (s *Server) listSchedules(ctx context.Context, values url.Values, page orchestrator.Page) (orchestrator.List[scheduler.Schedule], error) {
	q := newQuery(values)
	f := scheduler.Filter{Kind: scheduler.Kind(q.oneOf("kind", enumStrings(scheduler.Kinds)...)), Target: q.str("target"), Enabled: q.boolean("enabled")}
	if err := q.err(); err != nil {
		return orchestrator.List[scheduler.Schedule]{}, err
	}
	return s.schedules.List(ctx, f, page)
}

// enumStrings lists enum values as the strings a filter accepts.
func enumStrings[T ~string](values []T) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = string(v)
	}
	return out
}

func (s *Server) getSchedule(ctx context.Context, idText string) (scheduler.Schedule, error) {
	id, err := scheduleID(idText)
	if err != nil {
		return scheduler.Schedule{}, err
	}
	return s.schedules.Get(ctx, id)
}

func (s *Server) createSchedule(ctx context.Context, req scheduleRequest) (scheduler.Schedule, error) {
	in, err := req.input()
	if err != nil {
		return scheduler.Schedule{}, err
	}
	return s.schedules.Create(ctx, in)
}

func (s *Server) deleteSchedule(ctx context.Context, idText string) error {
	id, err := scheduleID(idText)
	if err != nil {
		return err
	}
	return s.schedules.Delete(ctx, id)
}

// updateSchedule changes only the fields the body names.
func (s *Server) updateSchedule(c *gin.Context) {
	id, err := scheduleID(c.Param("id"))
	if err != nil {
		s.writeError(c, err)
		return
	}
	var req scheduleRequest
	if err := decodeJSON(c, &req); err != nil {
		s.writeError(c, err)
		return
	}
	in, err := req.input()
	if err != nil {
		s.writeError(c, err)
		return
	}
	respond[scheduler.Schedule](s, c, http.StatusOK)(s.schedules.Update(c.Request.Context(), id, in))
}

// listScheduleRuns pages through a schedule's run history, latest first.
func (s *Server) listScheduleRuns(c *gin.Context) {
	id, err := scheduleID(c.Param("id"))
	if err != nil {
		s.writeError(c, err)
		return
	}
	page, err := pageFrom(c)
	if err != nil {
		s.writeError(c, err)
		return
	}
	values := c.Request.URL.Query()
	values.Del("limit")
	values.Del("after")
	q := newQuery(values)
	f := scheduler.RunFilter{Status: scheduler.Status(q.oneOf("status", enumStrings(scheduler.Statuses)...))}
	if err := q.err(); err != nil {
		s.writeError(c, err)
		return
	}
	respond[orchestrator.List[scheduler.Run]](s, c, http.StatusOK)(s.schedules.Runs(c.Request.Context(), id, f, page))
}

// fireSchedule queues a run now; a replica's scheduler picks it up at its
// next poll, so the answer is 202 with the pending run.
func (s *Server) fireSchedule(c *gin.Context) {
	id, err := scheduleID(c.Param("id"))
	if err != nil {
		s.writeError(c, err)
		return
	}
	respond[scheduler.Run](s, c, http.StatusAccepted)(s.schedules.FireNow(c.Request.Context(), id))
}
