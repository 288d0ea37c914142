package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/audit"
)

func (s *Server) listAudit(c *gin.Context) {
	page, err := pageFrom(c)
	if err != nil {
		s.writeError(c, err)
		return
	}
	f := audit.Filter{Actor: c.Query("actor"), Action: c.Query("action"), Resource: c.Query("resource"), ResourceID: c.Query("resource_id")}
	var v orchestrator.Validation
	f.Since = timeQuery(c, &v, "since")
	f.Until = timeQuery(c, &v, "until")
	if err := v.Err(); err != nil {
		s.writeError(c, err)
		return
	}
	list, err := audit.List(c.Request.Context(), s.pool, f, page)
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, list)
}

func (s *Server) verifyAudit(c *gin.Context) {
	res, err := audit.Verify(c.Request.Context(), s.pool)
	if err != nil {
		s.writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, res)
}

// timeQuery reads an optional RFC 3339 query parameter, recording a field
// error in v when it does not parse.
func timeQuery(c *gin.Context, v *orchestrator.Validation, name string) time.Time {
	s := c.Query(name)
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		v.Add(name, "must be an RFC 3339 time such as 2026-01-31T09:00:00Z")
	}
	return t
}
