package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/bcdr/bcdr/orchestrator/itsm"
)

// Per-CI rows of the change figures: default and maximum.
const (
	itsmDefaultTop = 20
	itsmMaxTop     = 1000
)

// itsmPeriod reads ?from= and ?to= (default: the 365 days up to now).
func itsmPeriod(q *query, now time.Time) (from, to time.Time) {
	from, to = q.time("from"), q.time("to")
	if to.IsZero() {
		to = now.UTC().Truncate(time.Second)
	}
	if from.IsZero() {
		from = to.Add(-itsm.Year)
	}
	return from, to
}

func (s *Server) ciFigures(c *gin.Context)      { s.incidentFigures(c, false) }
func (s *Server) serviceFigures(c *gin.Context) { s.incidentFigures(c, true) }

func (s *Server) incidentFigures(c *gin.Context, service bool) {
	q := newQuery(c.Request.URL.Query())
	from, to := itsmPeriod(q, s.rt.Now())
	if err := q.err(); err != nil {
		s.writeError(c, err)
		return
	}
	scope := itsm.Scope{Key: c.Param("key"), Service: service}
	respond[itsm.Stats](s, c, http.StatusOK)(itsm.IncidentStats(c.Request.Context(), s.pool, scope, from, to))
}

func (s *Server) serviceAvailability(c *gin.Context) {
	q := newQuery(c.Request.URL.Query())
	from, to := itsmPeriod(q, s.rt.Now())
	opts := itsm.AvailabilityOptions{MeasuredIn: q.oneOf("measured_in", itsm.Measured24x7, itsm.MeasuredBusinessHours)}
	if t := q.str("target"); t != "" {
		f, err := strconv.ParseFloat(t, 64)
		if err != nil {
			q.v.Add("target", "must be a percentage such as 99.9")
		}
		opts.Target = &f
	}
	if err := q.err(); err != nil {
		s.writeError(c, err)
		return
	}
	respond[itsm.Availability](s, c, http.StatusOK)(itsm.ServiceAvailability(c.Request.Context(), s.pool, c.Param("key"), from, to, opts))
}

func (s *Server) changeFigures(c *gin.Context) {
	q := newQuery(c.Request.URL.Query())
	from, to := itsmPeriod(q, s.rt.Now())
	top := itsmDefaultTop
	if t := q.str("top"); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 1 || n > itsmMaxTop {
			q.v.Add("top", "must be a whole number from 1 to %d", itsmMaxTop)
		}
		top = n
	}
	if err := q.err(); err != nil {
		s.writeError(c, err)
		return
	}
	respond[itsm.ChangeStats](s, c, http.StatusOK)(itsm.ChangeFigures(c.Request.Context(), s.pool, from, to, top))
}
