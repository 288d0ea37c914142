package api

import (
	"mime"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/report"
)

// reportTimeout is a report route's budget: a PDF starts a browser.
const reportTimeout = 90 * time.Second

// reportRoutes serve the reports, read by every role, executives included.
func (s *Server) reportRoutes() []Route {
	return []Route{
		{Method: "GET", Path: "/reports/executive", Roles: reportReads, Timeout: reportTimeout, handler: s.executiveReport},
	}
}

// executiveReport answers the executive recovery status report in JSON,
// HTML or PDF; a PDF where Chromium is missing is a 503 that says so.
func (s *Server) executiveReport(c *gin.Context) {
	q := newQuery(c.Request.URL.Query())
	// Taken as sent, untrimmed: "en\n" is not a language.
	raw := func(name string) string { q.str(name); return c.Query(name) }
	req := report.Request{Period: raw("period"), Format: raw("format"), Lang: raw("lang")}
	if err := q.err(); err != nil {
		s.writeError(c, err)
		return
	}
	if s.svc.Reports == nil {
		s.writeError(c, orchestrator.Errorf(orchestrator.EUNAVAILABLE, "the executive report is not configured on this server"))
		return
	}
	out, err := s.svc.Reports.Render(c.Request.Context(), req, nil)
	if err != nil {
		s.writeError(c, err)
		return
	}
	if req.Format == report.FormatPDF {
		c.Header("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": out.Filename}))
	}
	c.Data(http.StatusOK, out.ContentType, out.Body)
}
