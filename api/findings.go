package api

import (
	"context"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/bcdr/bcdr/drills"
	"github.com/bcdr/bcdr/orchestrator"
)

// The improvement register is read like records and kept by those who
// write them.
func (s *Server) findingRoutes() []Route {
	findings := resource[drills.Finding, drills.FindingInput]{
		list: s.listFindings,
		get: func(ctx context.Context, id string) (drills.Finding, error) {
			n, err := recordID(id)
			if err != nil {
				return drills.Finding{}, err
			}
			return s.svc.Drills.Finding(ctx, n)
		},
		create: func(ctx context.Context, in drills.FindingInput) (drills.Finding, error) {
			return s.svc.Drills.CreateFinding(ctx, in)
		},
		patch: func(ctx context.Context, id string, in drills.FindingInput) (drills.Finding, error) {
			n, err := recordID(id)
			if err != nil {
				return drills.Finding{}, err
			}
			return s.svc.Drills.UpdateFinding(ctx, n, in)
		},
	}
	return append(findings.routes(s, "/findings", "id", recordReads, recordWrites),
		Route{Method: "POST", Path: "/findings/from-gaps", Roles: recordWrites, Timeout: 2 * defaultTimeout, handler: s.findingsFromGaps})
}

func (s *Server) listFindings(ctx context.Context, values url.Values, page orchestrator.Page) (orchestrator.List[drills.Finding], error) {
	q := newQuery(values)
	f := drills.FindingFilter{
		Status:   q.str("status"),
		Source:   q.str("source"),
		Severity: q.str("severity"),
		Service:  q.str("service"),
	}
	if b := q.boolean("overdue"); b != nil {
		f.Overdue = *b
	}
	if b := q.boolean("open"); b != nil {
		f.Open = *b
	}
	f.Runbook, f.Drill = q.id("runbook"), q.id("drill")
	if err := q.err(); err != nil {
		return orchestrator.List[drills.Finding]{}, err
	}
	return s.svc.Drills.Findings(ctx, f, page)
}

func (s *Server) findingsFromGaps(c *gin.Context) {
	var in drills.FromGapsInput
	if err := decodeJSON(c, &in); err != nil {
		s.writeError(c, err)
		return
	}
	respond[drills.FromGapsResult](s, c, http.StatusOK)(s.svc.Drills.FromGaps(c.Request.Context(), in))
}
