package api

import (
	"context"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/impact"
)

func (s *Server) listRisks(ctx context.Context, values url.Values, page orchestrator.Page) (orchestrator.List[impact.Risk], error) {
	q := newQuery(values)
	f := impact.RiskFilter{
		Threat:    q.oneOf("threat", impact.Threats...),
		Treatment: q.oneOf("treatment", impact.Treatments...),
		Owner:     q.str("owner"),
		CI:        q.str("ci"),
		Site:      q.str("site"),
		Supplier:  q.str("supplier"),
	}
	if err := q.err(); err != nil {
		return orchestrator.List[impact.Risk]{}, err
	}
	return s.svc.Impact.ListRisks(ctx, f, page)
}

func (s *Server) getHeatmap(c *gin.Context) {
	respond[impact.Heatmap](s, c, http.StatusOK)(s.svc.Impact.Heatmap(c.Request.Context()))
}
