package api

import (
	"context"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/runbooks/execution"
)

// Who does what in an execution: continuity managers (and admins) start,
// pause and abort; operators also perform steps; anyone who may be named
// as a decision's role may decide (the service checks the role named);
// everyone but executives, who read reports, reads the board.
var (
	executionStarts  = recordWrites
	executionSteps   = checkRuns
	executionDecides = []orchestrator.Role{orchestrator.RoleAdmin, orchestrator.RoleContinuityManager, orchestrator.RoleOperator, orchestrator.RoleExecutive}
)

// sseTimeout bounds one server-sent-events stream; the client reconnects
// with Last-Event-ID and misses nothing.
const sseTimeout = 10 * time.Minute

func (s *Server) executionRoutes() []Route {
	step := func(action string) gin.HandlerFunc {
		return s.executionAction(func(ctx context.Context, id int64, c *gin.Context, in execution.ActionInput) (execution.Execution, error) {
			return s.svc.Executions.StepAction(ctx, id, c.Param("step"), action, in)
		})
	}
	control := func(action string) gin.HandlerFunc {
		return s.executionAction(func(ctx context.Context, id int64, _ *gin.Context, in execution.ActionInput) (execution.Execution, error) {
			return s.svc.Executions.Control(ctx, id, action, in)
		})
	}
	resume := s.executionAction(func(ctx context.Context, id int64, c *gin.Context, in execution.ActionInput) (execution.Execution, error) {
		return s.svc.Executions.ResumeFrom(ctx, id, c.Param("step"), in)
	})
	var routes []Route
	for _, a := range []string{execution.ActComplete, execution.ActFail, execution.ActSkip, execution.ActRetry} {
		routes = append(routes, Route{Method: "POST", Path: "/executions/:id/steps/:step/" + a, Roles: executionSteps, handler: step(a)})
	}
	for _, a := range []string{execution.ActApprove, execution.ActReject} {
		routes = append(routes, Route{Method: "POST", Path: "/executions/:id/steps/:step/" + a, Roles: executionDecides, handler: step(a)})
	}
	for _, a := range []string{execution.CtlPause, execution.CtlResume, execution.CtlAbort} {
		routes = append(routes, Route{Method: "POST", Path: "/executions/:id/" + a, Roles: executionStarts, handler: control(a)})
	}
	return append(routes,
		Route{Method: "POST", Path: "/executions", Roles: executionStarts, handler: s.startExecution},
		Route{Method: "GET", Path: "/executions", Roles: recordReads, handler: s.listExecutions},
		Route{Method: "GET", Path: "/executions/:id", Roles: recordReads, handler: s.getExecution},
		Route{Method: "GET", Path: "/executions/:id/timeline", Roles: recordReads, handler: s.executionTimeline},
		Route{Method: "GET", Path: "/executions/:id/events", Roles: recordReads, Timeout: sseTimeout, handler: s.executionEvents},
		Route{Method: "POST", Path: "/executions/:id/resume-from/:step", Roles: executionStarts, handler: resume},
		Route{Method: "GET", Path: "/executions/:id/attachments/:attachment", Roles: recordReads, handler: s.executionAttachment},
	)
}

// executionAttachment answers a file attached to a step, as a download:
// plain text, never rendered.
func (s *Server) executionAttachment(c *gin.Context) {
	id, ok := s.executionID(c)
	if !ok {
		return
	}
	n, err := strconv.ParseInt(c.Param("attachment"), 10, 64)
	if err != nil || n < 1 {
		s.writeError(c, orchestrator.Errorf(orchestrator.ENOTFOUND, "attachment %q not found", c.Param("attachment")))
		return
	}
	a, err := s.svc.Executions.Attachment(c.Request.Context(), id, n)
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.Header("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": a.Name}))
	c.Header("X-Content-Type-Options", "nosniff")
	c.Data(http.StatusOK, "text/plain; charset=utf-8", []byte(a.Content))
}

// executionID reads the :id parameter, answering 404 for anything but a
// positive number.
func (s *Server) executionID(c *gin.Context) (int64, bool) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id < 1 {
		s.writeError(c, orchestrator.Errorf(orchestrator.ENOTFOUND, "execution %q not found", c.Param("id")))
		return 0, false
	}
	return id, true
}

func (s *Server) startExecution(c *gin.Context) {
	var in execution.StartInput
	if err := decodeJSON(c, &in); err != nil {
		s.writeError(c, err)
		return
	}
	ex, err := s.svc.Executions.Start(c.Request.Context(), in)
	if err == nil {
		c.Header("Location", fmt.Sprintf("/api/v1/executions/%d", ex.ID))
	}
	respond[execution.Execution](s, c, http.StatusCreated)(ex, err)
}

func (s *Server) listExecutions(c *gin.Context) {
	page, err := pageFrom(c)
	if err != nil {
		s.writeError(c, err)
		return
	}
	values := c.Request.URL.Query()
	values.Del("limit")
	values.Del("after")
	q := newQuery(values)
	f := execution.Filter{
		Status: q.oneOf("status", execution.StatusRunning, execution.StatusPaused, execution.StatusSucceeded, execution.StatusFailed, execution.StatusAborted),
		Mode:   q.oneOf("mode", execution.ModeInvocation, execution.ModeDrill),
	}
	if rb := q.str("runbook"); rb != "" {
		n, err := strconv.ParseInt(rb, 10, 64)
		if err != nil || n < 1 {
			s.writeError(c, orchestrator.Invalid("runbook", "must be a runbook id"))
			return
		}
		f.Runbook = n
	}
	if err := q.err(); err != nil {
		s.writeError(c, err)
		return
	}
	respond[orchestrator.List[execution.Execution]](s, c, http.StatusOK)(s.svc.Executions.List(c.Request.Context(), f, page))
}

func (s *Server) getExecution(c *gin.Context) {
	if id, ok := s.executionID(c); ok {
		respond[execution.Execution](s, c, http.StatusOK)(s.svc.Executions.Get(c.Request.Context(), id))
	}
}

// executionAction answers a POST that acts on execution :id with an
// ActionInput body, with the board after it.
func (s *Server) executionAction(act func(ctx context.Context, id int64, c *gin.Context, in execution.ActionInput) (execution.Execution, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		id, ok := s.executionID(c)
		if !ok {
			return
		}
		var in execution.ActionInput
		if err := decodeJSON(c, &in); err != nil {
			s.writeError(c, err)
			return
		}
		respond[execution.Execution](s, c, http.StatusOK)(act(c.Request.Context(), id, c, in))
	}
}

// executionTimeline answers a page of the timeline, oldest first, after
// the event id given as ?after= (default the start).
func (s *Server) executionTimeline(c *gin.Context) {
	id, ok := s.executionID(c)
	if !ok {
		return
	}
	after, limit, err := timelineWindow(c.Query("after"), c.Query("limit"))
	if err != nil {
		s.writeError(c, err)
		return
	}
	events, err := s.svc.Executions.Events(c.Request.Context(), id, after, limit)
	respond[gin.H](s, c, http.StatusOK)(gin.H{"items": events}, err)
}

func timelineWindow(after, limit string) (int64, int, error) {
	var a int64
	n := orchestrator.DefaultPageLimit
	var err error
	if after != "" {
		if a, err = strconv.ParseInt(after, 10, 64); err != nil || a < 0 {
			return 0, 0, orchestrator.Invalid("after", "must be an event id")
		}
	}
	if limit != "" {
		if n, err = strconv.Atoi(limit); err != nil || n < 1 || n > orchestrator.MaxPageLimit {
			return 0, 0, orchestrator.Invalid("limit", "must be from 1 to %d", orchestrator.MaxPageLimit)
		}
	}
	return a, n, nil
}

// executionEvents streams the timeline as server-sent events: every event
// after Last-Event-ID (or ?after=), then each new one as it happens, until
// the execution has ended and its last event was sent, or the client goes.
func (s *Server) executionEvents(c *gin.Context) {
	id, ok := s.executionID(c)
	if !ok {
		return
	}
	from := c.GetHeader("Last-Event-ID")
	if from == "" {
		from = c.Query("after")
	}
	after, _, err := timelineWindow(from, "")
	if err != nil {
		s.writeError(c, err)
		return
	}
	ctx := c.Request.Context()
	first, err := s.svc.Executions.Events(ctx, id, after, orchestrator.MaxPageLimit)
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.Header("Content-Type", "text/event-stream")
	c.Header("Cache-Control", "no-store")
	c.Header("X-Accel-Buffering", "no")
	c.Status(http.StatusOK)
	rc := http.NewResponseController(c.Writer)
	send := func(events []execution.Event) bool {
		for _, e := range events {
			data, _ := json.Marshal(e)
			if _, err := fmt.Fprintf(c.Writer, "id: %d\nevent: %s\ndata: %s\n\n", e.ID, e.Type, data); err != nil {
				return false
			}
			after = e.ID
		}
		return rc.Flush() == nil
	}
	if !send(first) {
		return
	}
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		events, err := s.svc.Executions.Events(ctx, id, after, orchestrator.MaxPageLimit)
		if err != nil || !send(events) {
			return
		}
		if len(events) == 0 {
			if done, err := s.svc.Executions.Ended(ctx, id); err != nil || done {
				return
			}
		}
	}
}
