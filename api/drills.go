package api

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/bcdr/bcdr/drills"
	"github.com/bcdr/bcdr/orchestrator"
)

// Who does what in a drill: continuity managers (and admins) plan, start,
// complete and cancel drills; an admin approves a full interruption and
// waives a retest; operators also record what they walked, confirmed,
// decided or found; everyone taking part, executives included, answers the
// hot wash; executives read after-action reports (reportReads).
var drillParticipants = []orchestrator.Role{orchestrator.RoleAdmin, orchestrator.RoleContinuityManager, orchestrator.RoleOperator, orchestrator.RoleExecutive}

func (s *Server) drillRoutes() []Route {
	return []Route{
		{Method: "GET", Path: "/drills", Roles: recordReads, handler: s.listDrills},
		{Method: "POST", Path: "/drills", Roles: recordWrites, handler: s.createDrill},
		{Method: "GET", Path: "/drills/:id", Roles: recordReads, handler: s.drill(func(c *gin.Context, id int64) (any, error) {
			return s.svc.Drills.Get(c.Request.Context(), id)
		})},
		{Method: "GET", Path: "/drills/:id/timeline", Roles: recordReads, handler: s.drill(func(c *gin.Context, id int64) (any, error) {
			events, err := s.svc.Drills.Events(c.Request.Context(), id)
			return gin.H{"items": events}, err
		})},
		{Method: "GET", Path: "/drills/:id/report", Roles: reportReads, handler: s.afterActionReport},
		{Method: "POST", Path: "/drills/:id/approve", Roles: adminOnly, handler: s.drill(func(c *gin.Context, id int64) (any, error) {
			return s.svc.Drills.Approve(c.Request.Context(), id)
		})},
		{Method: "POST", Path: "/drills/:id/start", Roles: recordWrites, handler: drillAction(s, func(c *gin.Context, id int64, in drills.StartInput) (any, error) {
			return s.svc.Drills.Start(c.Request.Context(), id, in)
		})},
		{Method: "POST", Path: "/drills/:id/complete", Roles: recordWrites, handler: drillAction(s, func(c *gin.Context, id int64, in drills.CompleteInput) (any, error) {
			return s.svc.Drills.Complete(c.Request.Context(), id, in)
		})},
		{Method: "POST", Path: "/drills/:id/cancel", Roles: recordWrites, handler: drillAction(s, func(c *gin.Context, id int64, in struct {
			Reason string `json:"reason"`
		}) (any, error) {
			return s.svc.Drills.Cancel(c.Request.Context(), id, in.Reason)
		})},
		{Method: "POST", Path: "/drills/:id/events", Roles: checkRuns, handler: drillAction(s, func(c *gin.Context, id int64, in drills.EventInput) (any, error) {
			return s.svc.Drills.Record(c.Request.Context(), id, in)
		})},
		{Method: "POST", Path: "/drills/:id/hotwash", Roles: drillParticipants, handler: drillAction(s, func(c *gin.Context, id int64, in drills.HotwashInput) (any, error) {
			return s.svc.Drills.AnswerHotwash(c.Request.Context(), id, in)
		})},
		{Method: "POST", Path: "/runbooks/:id/waive-retest", Roles: adminOnly, handler: drillAction(s, func(c *gin.Context, id int64, in drills.WaiverInput) (any, error) {
			return s.svc.Drills.Waive(c.Request.Context(), id, in)
		})},
		{Method: "GET", Path: "/executions/:id/review", Roles: recordReads, handler: s.drill(func(c *gin.Context, id int64) (any, error) {
			return s.svc.Drills.InvocationReview(c.Request.Context(), id)
		})},
		{Method: "PUT", Path: "/executions/:id/review", Roles: recordWrites, handler: drillAction(s, func(c *gin.Context, id int64, in drills.ReviewInput) (any, error) {
			return s.svc.Drills.WriteInvocationReview(c.Request.Context(), id, in)
		})},
	}
}

// drill answers a GET or body-less POST on record :id.
func (s *Server) drill(fn func(c *gin.Context, id int64) (any, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		id, err := recordID(c.Param("id"))
		if err != nil {
			s.writeError(c, err)
			return
		}
		respond[any](s, c, http.StatusOK)(fn(c, id))
	}
}

// drillAction answers a POST on record :id with a JSON body.
func drillAction[In any](s *Server, fn func(c *gin.Context, id int64, in In) (any, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		id, err := recordID(c.Param("id"))
		if err != nil {
			s.writeError(c, err)
			return
		}
		var in In
		if err := decodeJSON(c, &in); err != nil {
			s.writeError(c, err)
			return
		}
		respond[any](s, c, http.StatusOK)(fn(c, id, in))
	}
}

func (s *Server) listDrills(c *gin.Context) {
	values, page, err := listParams(c)
	if err != nil {
		s.writeError(c, err)
		return
	}
	q := newQuery(values)
	f := drills.Filter{
		Status:  q.oneOf("status", drills.StatusPlanned, drills.StatusInProgress, drills.StatusCompleted, drills.StatusCancelled),
		Type:    q.oneOf("type", drills.Types...),
		Service: q.str("service"),
		Runbook: q.id("runbook"),
	}
	if y := q.str("year"); y != "" {
		if f.Year, err = strconv.Atoi(y); err != nil || f.Year < 2000 || f.Year > 2200 {
			s.writeError(c, orchestrator.Invalid("year", "must be a year such as 2026"))
			return
		}
	}
	if err := q.err(); err != nil {
		s.writeError(c, err)
		return
	}
	respond[orchestrator.List[drills.Drill]](s, c, http.StatusOK)(s.svc.Drills.List(c.Request.Context(), f, page))
}

func (s *Server) createDrill(c *gin.Context) {
	var in drills.Input
	if err := decodeJSON(c, &in); err != nil {
		s.writeError(c, err)
		return
	}
	d, err := s.svc.Drills.Create(c.Request.Context(), in)
	if err == nil {
		c.Header("Location", "/api/v1/drills/"+strconv.FormatInt(d.ID, 10))
	}
	respond[drills.Drill](s, c, http.StatusCreated)(d, err)
}

// afterActionReport answers a drill's after-action report as JSON or, with
// ?format=markdown, as a Markdown document (演练记录).
func (s *Server) afterActionReport(c *gin.Context) {
	id, err := recordID(c.Param("id"))
	if err != nil {
		s.writeError(c, err)
		return
	}
	format := c.DefaultQuery("format", "json")
	if format != "json" && format != "markdown" {
		s.writeError(c, orchestrator.Invalid("format", "must be json or markdown"))
		return
	}
	r, err := s.svc.Drills.AfterAction(c.Request.Context(), id)
	if err != nil || format == "json" {
		respond[drills.AfterAction](s, c, http.StatusOK)(r, err)
		return
	}
	c.Data(http.StatusOK, "text/markdown; charset=utf-8", r.Markdown())
}
