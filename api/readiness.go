package api

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/bcdr/bcdr/report"
)

// readinessRoutes serve readiness and its history, read by every role,
// executives included; nothing here changes state.
func (s *Server) readinessRoutes() []Route {
	return []Route{
		{Method: "GET", Path: "/readiness", Roles: reportReads, handler: s.getReadiness},
		{Method: "GET", Path: "/readiness/history", Roles: reportReads, handler: s.getReadinessHistory},
		{Method: "GET", Path: "/services/:key/readiness", Roles: reportReads, handler: s.getServiceReadiness},
	}
}

func (s *Server) getReadiness(c *gin.Context) {
	q := newQuery(c.Request.URL.Query())
	f := report.Filter{Status: q.oneOf("status", report.Statuses...)}
	if t := q.str("tier"); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 0 || n > 4 {
			q.v.Add("tier", "must be a tier from 0 to 4")
		} else {
			f.Tier = &n
		}
	}
	if err := q.err(); err != nil {
		s.writeError(c, err)
		return
	}
	respond[report.Organisation](s, c, http.StatusOK)(s.svc.Report.Readiness(c.Request.Context(), f))
}

func (s *Server) getServiceReadiness(c *gin.Context) {
	respond[report.ServiceReadiness](s, c, http.StatusOK)(s.svc.Report.ServiceReadiness(c.Request.Context(), c.Param("key")))
}

func (s *Server) getReadinessHistory(c *gin.Context) {
	q := newQuery(c.Request.URL.Query())
	from, to := q.time("from"), q.time("to")
	if err := q.err(); err != nil {
		s.writeError(c, err)
		return
	}
	points, err := s.svc.Report.History(c.Request.Context(), from, to)
	respond[gin.H](s, c, http.StatusOK)(gin.H{"items": points}, err)
}
