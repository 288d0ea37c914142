package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/cmdb"
	"github.com/bcdr/bcdr/orchestrator/impact"
)

func (s *Server) whatIf(c *gin.Context) {
	var in impact.Scenario
	if err := decodeJSON(c, &in); err != nil {
		s.writeError(c, err)
		return
	}
	respond[impact.WhatIfAnswer](s, c, http.StatusOK)(s.svc.Impact.WhatIf(c.Request.Context(), in))
}

func (s *Server) getDependencies(c *gin.Context) {
	respond[impact.ClosureView](s, c, http.StatusOK)(s.svc.Impact.Dependencies(c.Request.Context(), c.Param("key")))
}

func (s *Server) getDependents(c *gin.Context) {
	respond[impact.ClosureView](s, c, http.StatusOK)(s.svc.Impact.Dependents(c.Request.Context(), c.Param("key")))
}

func (s *Server) getRequirements(c *gin.Context) {
	respond[impact.CIRequirements](s, c, http.StatusOK)(s.svc.Impact.Requirements(c.Request.Context(), c.Param("key")))
}

// cycleList is the body of GET /cmdb/cycles.
type cycleList struct {
	Cycles [][]string `json:"cycles"`
}

func (s *Server) getCycles(c *gin.Context) {
	cycles, err := s.svc.Impact.Cycles(c.Request.Context())
	respond[cycleList](s, c, http.StatusOK)(cycleList{Cycles: orEmpty(cycles)}, err)
}

func (s *Server) getGaps(c *gin.Context) {
	q := newQuery(c.Request.URL.Query())
	kind := q.oneOf("kind", impact.GapKinds...)
	if err := q.err(); err != nil {
		s.writeError(c, err)
		return
	}
	respond[impact.Gaps](s, c, http.StatusOK)(s.svc.Impact.Gaps(c.Request.Context(), kind))
}

// ciWithRequirements is a CI listed with ?include=requirements.
type ciWithRequirements struct {
	cmdb.CI
	Requirements impact.CIRequirements `json:"requirements"`
}

// withRequirements answers the CI list with ?include=requirements: the
// same page, each CI with its required RTO and RPO.
func (s *Server) withRequirements(list gin.HandlerFunc) gin.HandlerFunc {
	return func(c *gin.Context) {
		values := c.Request.URL.Query()
		include, given := values["include"]
		if !given {
			list(c)
			return
		}
		if len(include) != 1 || include[0] != "requirements" {
			s.writeError(c, &orchestrator.Error{Code: orchestrator.EINVALID, Message: "unknown include",
				Fields: []orchestrator.FieldError{{Field: "include", Message: "must be requirements"}}})
			return
		}
		page, err := pageFrom(c)
		if err != nil {
			s.writeError(c, err)
			return
		}
		for _, p := range []string{"include", "limit", "after"} {
			values.Del(p)
		}
		ctx := c.Request.Context()
		cis, err := s.listCIs(ctx, values, page)
		if err != nil {
			s.writeError(c, err)
			return
		}
		keys := make([]string, len(cis.Items))
		for i, ci := range cis.Items {
			keys[i] = ci.Key
		}
		reqs, err := s.svc.Impact.RequirementsOf(ctx, keys)
		if err != nil {
			s.writeError(c, err)
			return
		}
		out := orchestrator.List[ciWithRequirements]{Items: make([]ciWithRequirements, len(cis.Items)), Next: cis.Next}
		for i, ci := range cis.Items {
			out.Items[i] = ciWithRequirements{CI: ci, Requirements: reqs[ci.Key]}
		}
		c.JSON(http.StatusOK, out)
	}
}
