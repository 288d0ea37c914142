package api

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/impact"
)

// impactRoutes serves BIAs and their settings, the risk register,
// requirements, gaps and the dependency-graph questions. What-if is a POST
// only because its question is a document; it changes nothing, so whoever
// reads records may ask it.
func (s *Server) impactRoutes() []Route {
	risks := resource[impact.Risk, impact.RiskInput]{
		list:   s.listRisks,
		get:    s.svc.Impact.GetRisk,
		create: s.svc.Impact.CreateRisk,
		update: s.svc.Impact.ReplaceRisk,
		delete: s.svc.Impact.DeleteRisk,
	}
	rs := []Route{
		{Method: "GET", Path: "/settings/bia", Roles: recordReads, handler: s.getBIASettings},
		{Method: "PUT", Path: "/settings/bia", Roles: adminOnly, handler: s.putBIASettings},

		{Method: "GET", Path: "/services/:key/bia", Roles: recordReads, handler: s.getBIA},
		{Method: "PUT", Path: "/services/:key/bia", Roles: recordWrites, handler: s.putBIA},
		{Method: "POST", Path: "/services/:key/bia/approve", Roles: recordWrites, handler: s.approveBIA},
		{Method: "GET", Path: "/services/:key/bia/versions", Roles: recordReads, handler: s.listBIAVersions},
		{Method: "GET", Path: "/services/:key/bia/versions/:version", Roles: recordReads, handler: s.getBIAVersion},
		{Method: "GET", Path: "/services/:key/bia/loss", Roles: recordReads, handler: s.getBIALoss},
		{Method: "GET", Path: "/services/:key/dependencies", Roles: recordReads, handler: s.getDependencies},

		{Method: "GET", Path: "/cis/:key/requirements", Roles: recordReads, handler: s.getRequirements},
		{Method: "GET", Path: "/cis/:key/dependents", Roles: recordReads, handler: s.getDependents},
		{Method: "GET", Path: "/cmdb/cycles", Roles: recordReads, handler: s.getCycles},
		{Method: "GET", Path: "/gaps", Roles: recordReads, handler: s.getGaps},
		{Method: "POST", Path: "/impact/what-if", Roles: recordReads, handler: s.whatIf},
		{Method: "GET", Path: "/services/:key/resilience", Roles: recordReads, handler: s.getResilience},
		{Method: "GET", Path: "/resilience", Roles: recordReads, handler: s.getResilienceAll},
		{Method: "GET", Path: "/risks/heatmap", Roles: recordReads, handler: s.getHeatmap},
	}
	return append(rs, risks.routes(s, "/risks", "id", recordReads, recordWrites)...)
}

func (s *Server) getBIASettings(c *gin.Context) {
	respond[impact.Settings](s, c, http.StatusOK)(s.svc.Impact.Settings(c.Request.Context()))
}

func (s *Server) putBIASettings(c *gin.Context) {
	var in impact.Settings
	if err := decodeJSON(c, &in); err != nil {
		s.writeError(c, err)
		return
	}
	respond[impact.Settings](s, c, http.StatusOK)(s.svc.Impact.ReplaceSettings(c.Request.Context(), in))
}

func (s *Server) getBIA(c *gin.Context) {
	respond[impact.BIA](s, c, http.StatusOK)(s.svc.Impact.CurrentBIA(c.Request.Context(), c.Param("key")))
}

func (s *Server) putBIA(c *gin.Context) {
	var in biaRequest
	if err := decodeJSON(c, &in); err != nil {
		s.writeError(c, err)
		return
	}
	a, err := in.assessment()
	if err != nil {
		s.writeError(c, err)
		return
	}
	respond[impact.BIA](s, c, http.StatusOK)(s.svc.Impact.SaveBIA(c.Request.Context(), c.Param("key"), a))
}

// biaRequest is the body of PUT /services/{key}/bia. The PUT replaces the
// whole draft, so every field is required: one left out would otherwise
// silently wipe what the draft held. Lists may be empty.
type biaRequest struct {
	Thresholds      *[]impact.Threshold    `json:"thresholds"`
	RTO             *orchestrator.Duration `json:"rto"`
	RPO             *orchestrator.Duration `json:"rpo"`
	WRT             *orchestrator.Duration `json:"wrt"`
	MBCO            *float64               `json:"mbco"`
	CriticalPeriods *[]string              `json:"critical_periods"`
	VitalRecords    *[]string              `json:"vital_records"`
	People          *[]string              `json:"people"`
	Suppliers       *[]string              `json:"suppliers"`
}

// assessment names every missing field, or returns the draft to save.
func (r biaRequest) assessment() (impact.Assessment, error) {
	var v orchestrator.Validation
	require := func(field string, given bool, hint string) {
		if !given {
			v.Add(field, "is required: the PUT replaces the whole draft%s", hint)
		}
	}
	const noneHint = " ([] for none)"
	require("thresholds", r.Thresholds != nil, noneHint)
	require("rto", r.RTO != nil, "")
	require("rpo", r.RPO != nil, "")
	require("wrt", r.WRT != nil, "")
	require("mbco", r.MBCO != nil, "")
	require("critical_periods", r.CriticalPeriods != nil, noneHint)
	require("vital_records", r.VitalRecords != nil, noneHint)
	require("people", r.People != nil, noneHint)
	require("suppliers", r.Suppliers != nil, noneHint)
	if err := v.Err(); err != nil {
		return impact.Assessment{}, err
	}
	return impact.Assessment{Thresholds: *r.Thresholds, RTO: *r.RTO, RPO: *r.RPO, WRT: *r.WRT, MBCO: *r.MBCO,
		CriticalPeriods: *r.CriticalPeriods, VitalRecords: *r.VitalRecords, People: *r.People, Suppliers: *r.Suppliers}, nil
}

func (s *Server) approveBIA(c *gin.Context) {
	respond[impact.BIA](s, c, http.StatusOK)(s.svc.Impact.ApproveBIA(c.Request.Context(), c.Param("key")))
}

func (s *Server) listBIAVersions(c *gin.Context) {
	versions, err := s.svc.Impact.BIAVersions(c.Request.Context(), c.Param("key"))
	respond[orchestrator.List[impact.BIA]](s, c, http.StatusOK)(orchestrator.List[impact.BIA]{Items: orEmpty(versions)}, err)
}

func (s *Server) getBIAVersion(c *gin.Context) {
	respond[impact.BIA](s, c, http.StatusOK)(s.svc.Impact.BIAVersion(c.Request.Context(), c.Param("key"), c.Param("version")))
}

func (s *Server) getBIALoss(c *gin.Context) {
	q := newQuery(c.Request.URL.Query())
	after := q.duration("after")
	if _, given := c.GetQuery("after"); !given {
		q.v.Add("after", "is required: the outage duration, e.g. 6h")
	}
	version := 0
	if v := q.str("version"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			q.v.Add("version", "must be a version number (1, 2, ...)")
		}
		version = n
	}
	if err := q.err(); err != nil {
		s.writeError(c, err)
		return
	}
	respond[impact.Loss](s, c, http.StatusOK)(s.svc.Impact.LossAfter(c.Request.Context(), c.Param("key"), after, version))
}

// orEmpty makes a nil list encode as [].
func orEmpty[T any](items []T) []T {
	if items == nil {
		return []T{}
	}
	return items
}

func (s *Server) getResilience(c *gin.Context) {
	respond[impact.ServiceResilience](s, c, http.StatusOK)(s.svc.Impact.Resilience(c.Request.Context(), c.Param("key")))
}

func (s *Server) getResilienceAll(c *gin.Context) {
	respond[impact.ResilienceSummary](s, c, http.StatusOK)(s.svc.Impact.ResilienceAll(c.Request.Context()))
}
