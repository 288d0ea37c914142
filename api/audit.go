package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/bcdr/bcdr/orchestrator/audit"
)

func (s *Server) listAudit(c *gin.Context) {
	page, err := pageFrom(c)
	if err != nil {
		s.writeError(c, err)
		return
	}
	q := c.Request.URL.Query()
	q.Del("limit")
	q.Del("after")
	fq := newQuery(q)
	f := audit.Filter{Actor: fq.str("actor"), Action: fq.str("action"), Resource: fq.str("resource"), ResourceID: fq.str("resource_id"),
		Since: fq.time("since"), Until: fq.time("until")}
	if err := fq.err(); err != nil {
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
