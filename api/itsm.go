package api

import (
	"context"
	"net/url"
	"strconv"

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
		get:    itsmGet(s.itsm.Incident),
		create: s.itsm.CreateIncident,
		update: itsmUpdate(s.itsm.UpdateIncident),
		delete: itsmDelete(s.itsm.DeleteIncident),
	}
	problems := resource[itsm.Problem, itsm.ProblemInput]{
		list:   s.listProblems,
		get:    itsmGet(s.itsm.Problem),
		create: s.itsm.CreateProblem,
		update: itsmUpdate(s.itsm.UpdateProblem),
		delete: itsmDelete(s.itsm.DeleteProblem),
	}
	changes := resource[itsm.Change, itsm.ChangeInput]{
		list:   s.listChanges,
		get:    itsmGet(s.itsm.Change),
		create: s.itsm.CreateChange,
		update: itsmUpdate(s.itsm.UpdateChange),
		delete: itsmDelete(s.itsm.DeleteChange),
	}
	releases := resource[itsm.Release, itsm.ReleaseInput]{
		list:   s.listReleases,
		get:    itsmGet(s.itsm.Release),
		create: s.itsm.CreateRelease,
		update: itsmUpdate(s.itsm.UpdateRelease),
		delete: itsmDelete(s.itsm.DeleteRelease),
	}
	var rs []Route
	rs = append(rs, incidents.routes(s, "/incidents", "id", recordReads, recordWrites)...)
	rs = append(rs, problems.routes(s, "/problems", "id", recordReads, recordWrites)...)
	rs = append(rs, changes.routes(s, "/changes", "id", recordReads, recordWrites)...)
	rs = append(rs, releases.routes(s, "/releases", "id", recordReads, recordWrites)...)
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
	return s.itsm.ListIncidents(ctx, f, page)
}

func (s *Server) listProblems(ctx context.Context, q url.Values, page orchestrator.Page) (orchestrator.List[itsm.Problem], error) {
	fq := newQuery(q)
	f := itsm.ProblemFilter{Status: fq.oneOf("status", itsm.ProblemStatuses...), KnownError: fq.boolean("known_error")}
	if err := fq.err(); err != nil {
		return orchestrator.List[itsm.Problem]{}, err
	}
	return s.itsm.ListProblems(ctx, f, page)
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
	return s.itsm.ListChanges(ctx, f, page)
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
	return s.itsm.ListReleases(ctx, f, page)
}

// itsmID reads a numeric record id from the path.
func itsmID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id < 1 {
		return 0, &orchestrator.Error{Code: orchestrator.EINVALID, Message: "invalid id",
			Fields: []orchestrator.FieldError{{Field: "id", Message: "must be a positive whole number"}}}
	}
	return id, nil
}

// itsmGet adapts a get-by-numeric-id method to resource.get.
func itsmGet[T any](get func(context.Context, int64) (T, error)) func(context.Context, string) (T, error) {
	return func(ctx context.Context, s string) (T, error) {
		id, err := itsmID(s)
		if err != nil {
			var zero T
			return zero, err
		}
		return get(ctx, id)
	}
}

// itsmUpdate adapts an update-by-numeric-id method to resource.update.
func itsmUpdate[T, In any](update func(context.Context, int64, In) (T, error)) func(context.Context, string, In) (T, error) {
	return func(ctx context.Context, s string, in In) (T, error) {
		id, err := itsmID(s)
		if err != nil {
			var zero T
			return zero, err
		}
		return update(ctx, id, in)
	}
}

// itsmDelete adapts a delete-by-numeric-id method to resource.delete.
func itsmDelete(del func(context.Context, int64) error) func(context.Context, string) error {
	return func(ctx context.Context, s string) error {
		id, err := itsmID(s)
		if err != nil {
			return err
		}
		return del(ctx, id)
	}
}
