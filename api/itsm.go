package api

import (
	"context"
	"encoding/csv"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/itsm"
)

// itsmMaxSearch bounds the incident title search text.
const itsmMaxSearch = 200

// itsmRoutes serves incidents, problems, changes, releases and the figures
// derived from them.
func (s *Server) itsmRoutes() []Route {
	incidents := resource[itsm.Incident, itsm.IncidentInput]{
		list:   s.listIncidents,
		get:    getByID(s.svc.ITSM.Incident),
		create: s.svc.ITSM.CreateIncident,
		update: updateByID(s.svc.ITSM.UpdateIncident),
		delete: deleteByID(s.svc.ITSM.DeleteIncident),
	}
	problems := resource[itsm.Problem, itsm.ProblemInput]{
		list:   s.listProblems,
		get:    getByID(s.svc.ITSM.Problem),
		create: s.svc.ITSM.CreateProblem,
		update: updateByID(s.svc.ITSM.UpdateProblem),
		delete: deleteByID(s.svc.ITSM.DeleteProblem),
	}
	changes := resource[itsm.Change, itsm.ChangeInput]{
		list:   s.listChanges,
		get:    getByID(s.svc.ITSM.Change),
		create: s.svc.ITSM.CreateChange,
		update: updateByID(s.svc.ITSM.UpdateChange),
		delete: deleteByID(s.svc.ITSM.DeleteChange),
	}
	releases := resource[itsm.Release, itsm.ReleaseInput]{
		list:   s.listReleases,
		get:    getByID(s.svc.ITSM.Release),
		create: s.svc.ITSM.CreateRelease,
		update: updateByID(s.svc.ITSM.UpdateRelease),
		delete: deleteByID(s.svc.ITSM.DeleteRelease),
	}
	var rs []Route
	rs = append(rs, incidents.routes(s, "/incidents", "id", recordReads, recordWrites)...)
	rs = append(rs, problems.routes(s, "/problems", "id", recordReads, recordWrites)...)
	rs = append(rs, changes.routes(s, "/changes", "id", recordReads, recordWrites)...)
	rs = append(rs, releases.routes(s, "/releases", "id", recordReads, recordWrites)...)
	// CSV exports answer the list routes when ?format=csv is given.
	for i := range rs {
		switch {
		case rs[i].Method == "GET" && rs[i].Path == "/incidents":
			rs[i].handler = s.withCSVExport(s.listIncidentsJSON, s.exportIncidents)
		case rs[i].Method == "GET" && rs[i].Path == "/changes":
			rs[i].handler = s.withCSVExport(rs[i].handler, s.exportChanges)
		}
	}
	return append(rs,
		Route{Method: "GET", Path: "/metrics/cis/:key", Roles: recordReads, handler: s.ciFigures},
		Route{Method: "GET", Path: "/metrics/services/:key", Roles: recordReads, handler: s.serviceFigures},
		Route{Method: "GET", Path: "/metrics/services/:key/availability", Roles: recordReads, handler: s.serviceAvailability},
		Route{Method: "GET", Path: "/metrics/changes", Roles: recordReads, handler: s.changeFigures},
	)
}

func (s *Server) listIncidents(ctx context.Context, q url.Values, page orchestrator.Page) (orchestrator.List[itsm.Incident], error) {
	fq := newQuery(q)
	f := itsm.IncidentFilter{
		Priority:     fq.oneOf("priority", itsm.Priorities...),
		Major:        fq.boolean("major"),
		Cause:        fq.oneOf("cause", itsm.Causes...),
		CI:           fq.str("ci"),
		Service:      fq.str("service"),
		Status:       fq.oneOf("status", itsm.IncidentStatuses...),
		OpenedAfter:  fq.time("opened_after"),
		OpenedBefore: fq.time("opened_before"),
		Q:            fq.str("q"),
	}
	if len(f.Q) > itsmMaxSearch {
		fq.v.Add("q", "must be at most %d bytes", itsmMaxSearch)
	}
	if err := fq.err(); err != nil {
		return orchestrator.List[itsm.Incident]{}, err
	}
	return s.svc.ITSM.ListIncidents(ctx, f, page)
}

func (s *Server) listProblems(ctx context.Context, q url.Values, page orchestrator.Page) (orchestrator.List[itsm.Problem], error) {
	fq := newQuery(q)
	f := itsm.ProblemFilter{Status: fq.oneOf("status", itsm.ProblemStatuses...), KnownError: fq.boolean("known_error")}
	if err := fq.err(); err != nil {
		return orchestrator.List[itsm.Problem]{}, err
	}
	return s.svc.ITSM.ListProblems(ctx, f, page)
}

func (s *Server) listChanges(ctx context.Context, q url.Values, page orchestrator.Page) (orchestrator.List[itsm.Change], error) {
	fq := newQuery(q)
	f := itsm.ChangeFilter{
		Type:              fq.oneOf("type", itsm.ChangeTypes...),
		Status:            fq.oneOf("status", itsm.ChangeStatuses...),
		Major:             fq.boolean("major"),
		CI:                fq.str("ci"),
		ImplementedAfter:  fq.time("implemented_after"),
		ImplementedBefore: fq.time("implemented_before"),
	}
	if err := fq.err(); err != nil {
		return orchestrator.List[itsm.Change]{}, err
	}
	return s.svc.ITSM.ListChanges(ctx, f, page)
}

func (s *Server) listReleases(ctx context.Context, q url.Values, page orchestrator.Page) (orchestrator.List[itsm.Release], error) {
	fq := newQuery(q)
	f := itsm.ReleaseFilter{
		CI:             fq.str("ci"),
		Status:         fq.oneOf("status", itsm.ReleaseStatuses...),
		DeployedAfter:  fq.time("deployed_after"),
		DeployedBefore: fq.time("deployed_before"),
	}
	if err := fq.err(); err != nil {
		return orchestrator.List[itsm.Release]{}, err
	}
	return s.svc.ITSM.ListReleases(ctx, f, page)
}

// The CSV exports have the import's columns, so an exported file imports
// back unchanged.
var (
	incidentCSVHeader = []string{"source", "external_id", "title", "description", "priority", "major", "cause",
		"affected_cis", "affected_services", "opened_at", "restored_at", "closed_at", "problem_id", "continuity_invoked"}
	changeCSVHeader = []string{"source", "external_id", "title", "type", "risk", "major", "status", "affected_cis",
		"planned_start", "planned_end", "actual_start", "actual_end"}
)

func (s *Server) exportIncidents(c *gin.Context, values url.Values, w *csv.Writer) error {
	if err := w.Write(incidentCSVHeader); err != nil {
		return err
	}
	return eachListed(c.Request.Context(), values, s.listIncidents, func(i itsm.Incident) error {
		problem := ""
		if i.ProblemID != nil {
			problem = strconv.FormatInt(*i.ProblemID, 10)
		}
		return w.Write(orchestrator.SpreadsheetSafe(i.Source, i.ExternalID, i.Title, i.Description, i.Priority, strconv.FormatBool(i.Major),
			i.Cause, strings.Join(i.AffectedCIs, "; "), strings.Join(i.AffectedServices, "; "), csvTime(&i.OpenedAt),
			csvTime(i.RestoredAt), csvTime(i.ClosedAt), problem, strconv.FormatBool(i.ContinuityInvoked)))
	})
}

func (s *Server) exportChanges(c *gin.Context, values url.Values, w *csv.Writer) error {
	if err := w.Write(changeCSVHeader); err != nil {
		return err
	}
	return eachListed(c.Request.Context(), values, s.listChanges, func(ch itsm.Change) error {
		return w.Write(orchestrator.SpreadsheetSafe(ch.Source, ch.ExternalID, ch.Title, ch.Type, ch.Risk, strconv.FormatBool(ch.Major), ch.Status,
			strings.Join(ch.AffectedCIs, "; "), csvTime(ch.PlannedStart), csvTime(ch.PlannedEnd), csvTime(ch.ActualStart),
			csvTime(ch.ActualEnd)))
	})
}

// eachListed walks every page of a filtered list, largest pages first.
func eachListed[T any](ctx context.Context, values url.Values,
	list func(context.Context, url.Values, orchestrator.Page) (orchestrator.List[T], error), each func(T) error) error {
	values.Del("limit")
	values.Del("after")
	page := orchestrator.Page{Limit: orchestrator.MaxPageLimit}
	for {
		l, err := list(ctx, values, page)
		if err != nil {
			return err
		}
		for _, item := range l.Items {
			if err := each(item); err != nil {
				return err
			}
		}
		if l.Next == "" {
			return nil
		}
		if page.After, err = orchestrator.DecodeCursor(l.Next); err != nil {
			return err
		}
	}
}

// csvTime writes a time as RFC 3339 in UTC, or nothing.
func csvTime(t *time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}
