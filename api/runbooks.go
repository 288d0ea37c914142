package api

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/runbooks"
)

// kitTimeout bounds building the offline kit for a large organisation.
const kitTimeout = 5 * time.Minute

func (s *Server) runbookRoutes() []Route {
	rb := resource[runbooks.Runbook, runbooks.CreateInput]{
		get:    s.svc.Runbooks.Get,
		create: s.svc.Runbooks.Create,
	}
	return append(rb.routes(s, "/runbooks", "id", recordReads, recordWrites),
		// The list answers summaries, not whole runbooks.
		Route{Method: "GET", Path: "/runbooks", Roles: recordReads, handler: s.listRunbooks},
		Route{Method: "POST", Path: "/runbooks/:id/steps", Roles: recordWrites, handler: withBody(s, s.svc.Runbooks.AddStep)},
		Route{Method: "PATCH", Path: "/runbooks/:id/steps/:step", Roles: recordWrites, handler: s.updateStep},
		Route{Method: "DELETE", Path: "/runbooks/:id/steps/:step", Roles: recordWrites, handler: s.removeStep},
		Route{Method: "PUT", Path: "/runbooks/:id/order", Roles: recordWrites, handler: withBody(s, s.svc.Runbooks.ReorderSteps)},
		Route{Method: "PATCH", Path: "/runbooks/:id/sections", Roles: recordWrites, handler: withBody(s, s.svc.Runbooks.ReplaceSections)},
		Route{Method: "POST", Path: "/runbooks/:id/regenerate", Roles: recordWrites, handler: withID(s, s.svc.Runbooks.Regenerate)},
		Route{Method: "POST", Path: "/runbooks/:id/approve", Roles: recordWrites, handler: withID(s, s.svc.Runbooks.Approve)},
		Route{Method: "POST", Path: "/runbooks/:id/review", Roles: recordWrites, handler: withBody(s, s.svc.Runbooks.Review)},
		Route{Method: "POST", Path: "/runbooks/:id/retire", Roles: recordWrites, handler: withID(s, s.svc.Runbooks.Retire)},
		Route{Method: "GET", Path: "/runbooks/:id/versions", Roles: recordReads, handler: s.listRunbookVersions},
		Route{Method: "GET", Path: "/runbooks/:id/versions/:version", Roles: recordReads, handler: s.getRunbookVersion},
		Route{Method: "GET", Path: "/runbooks/:id/versions/:version/diff/:other", Roles: recordReads, handler: s.diffRunbookVersions},
		Route{Method: "GET", Path: "/runbooks/:id/export", Roles: recordReads, handler: s.exportRunbook},
		Route{Method: "GET", Path: "/exports/kit", Roles: recordReads, Timeout: kitTimeout, handler: s.exportKit},
	)
}

// withID answers POST /runbooks/:id/<action> with the runbook after it.
func withID(s *Server, fn func(ctx context.Context, id string) (runbooks.Runbook, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		respond[runbooks.Runbook](s, c, http.StatusOK)(fn(c.Request.Context(), c.Param("id")))
	}
}

// withBody decodes the request body and answers with the runbook after it.
func withBody[In any](s *Server, fn func(ctx context.Context, id string, in In) (runbooks.Runbook, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		var in In
		if err := decodeJSON(c, &in); err != nil {
			s.writeError(c, err)
			return
		}
		respond[runbooks.Runbook](s, c, http.StatusOK)(fn(c.Request.Context(), c.Param("id"), in))
	}
}

func (s *Server) updateStep(c *gin.Context) {
	var in runbooks.StepInput
	if err := decodeJSON(c, &in); err != nil {
		s.writeError(c, err)
		return
	}
	respond[runbooks.Runbook](s, c, http.StatusOK)(s.svc.Runbooks.UpdateStep(c.Request.Context(), c.Param("id"), c.Param("step"), in))
}

func (s *Server) removeStep(c *gin.Context) {
	respond[runbooks.Runbook](s, c, http.StatusOK)(s.svc.Runbooks.RemoveStep(c.Request.Context(), c.Param("id"), c.Param("step")))
}

func (s *Server) listRunbooks(c *gin.Context) {
	page, err := pageFrom(c)
	if err != nil {
		s.writeError(c, err)
		return
	}
	values := c.Request.URL.Query()
	values.Del("limit")
	values.Del("after")
	q := newQuery(values)
	f := runbooks.Filter{Service: q.str("service"), Status: q.oneOf("status", runbooks.StatusDraft, runbooks.StatusApproved, runbooks.StatusRetired)}
	fit := fitnessFilter{Verdict: q.oneOf("verdict", runbooks.Feasible, runbooks.Infeasible, runbooks.Unknown), Stale: q.boolean("stale")}
	if b := q.boolean("feasibility"); b != nil {
		fit.Feasibility = *b
	}
	fit.Feasibility = fit.Feasibility || fit.Verdict != ""
	if fit.Feasibility && page.Limit > maxFeasibilityPage {
		q.v.Add("limit", "must be at most %d when verdicts are computed (verdict= or feasibility=true)", maxFeasibilityPage)
	}
	if err := q.err(); err != nil {
		s.writeError(c, err)
		return
	}
	respond[orchestrator.List[runbookListItem]](s, c, http.StatusOK)(s.runbookPage(c.Request.Context(), f, fit, page))
}

func (s *Server) listRunbookVersions(c *gin.Context) {
	vs, err := s.svc.Runbooks.Versions(c.Request.Context(), c.Param("id"))
	respond[gin.H](s, c, http.StatusOK)(gin.H{"items": vs}, err)
}

func (s *Server) getRunbookVersion(c *gin.Context) {
	respond[runbooks.Version](s, c, http.StatusOK)(s.svc.Runbooks.GetVersion(c.Request.Context(), c.Param("id"), c.Param("version")))
}

func (s *Server) diffRunbookVersions(c *gin.Context) {
	respond[runbooks.Diff](s, c, http.StatusOK)(s.svc.Runbooks.Diff(c.Request.Context(), c.Param("id"), c.Param("version"), c.Param("other")))
}

// exportRunbook answers one runbook as a file: HTML (the default),
// Markdown or JSON, of its approved version unless ?version= names one.
func (s *Server) exportRunbook(c *gin.Context) {
	q := newQuery(c.Request.URL.Query())
	format := q.oneOf("format", runbooks.Formats...)
	version := q.str("version")
	if err := q.err(); err != nil {
		s.writeError(c, err)
		return
	}
	if format == "" {
		format = runbooks.FormatHTML
	}
	doc, err := s.svc.Runbooks.Document(c.Request.Context(), c.Param("id"), version)
	if err != nil {
		s.writeError(c, err)
		return
	}
	body, err := runbooks.Render(doc, format)
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.Header("Content-Disposition", fmt.Sprintf(`inline; filename="runbook-%d-v%d.%s"`, doc.ID, doc.Version.Number, format))
	c.Data(http.StatusOK, runbooks.ContentType(format), body)
}

// exportKit answers the offline continuity kit as a zip archive, built in
// memory first so a failure is still an error response.
func (s *Server) exportKit(c *gin.Context) {
	if err := newQuery(c.Request.URL.Query()).err(); err != nil {
		s.writeError(c, err)
		return
	}
	var buf bytes.Buffer
	zs := runbooks.NewZipSink(&buf)
	m, err := s.svc.Runbooks.WriteKit(c.Request.Context(), zs)
	if err == nil {
		err = zs.Close()
	}
	if err != nil {
		s.writeError(c, err)
		return
	}
	name := "continuity-kit-" + strings.NewReplacer(":", "", "-", "").Replace(m.CreatedAt.Format("20060102T150405Z")) + ".zip"
	c.Header("Content-Disposition", `attachment; filename="`+name+`"`)
	c.Data(http.StatusOK, "application/zip", buf.Bytes())
}
