package api

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/cmdb"
)

func (s *Server) cmdbRoutes() []Route {
	cis := resource[cmdb.CI, cmdb.CIInput]{
		list:   s.listCIs,
		get:    s.svc.CMDB.GetCI,
		create: s.svc.CMDB.CreateCI,
		update: s.svc.CMDB.ReplaceCI,
		delete: s.svc.CMDB.DeleteCI,
	}
	relations := resource[cmdb.Relation, cmdb.RelationInput]{
		list:   s.listRelations,
		get:    s.svc.CMDB.GetRelation,
		create: s.svc.CMDB.CreateRelation,
		delete: s.svc.CMDB.DeleteRelation,
	}
	routes := append(cis.routes(s, "/cis", "key", recordReads, recordWrites),
		relations.routes(s, "/relations", "id", recordReads, recordWrites)...)
	// CSV exports answer the list routes when ?format=csv is given.
	for i := range routes {
		if routes[i].Method == "GET" && routes[i].Path == "/cis" {
			routes[i].handler = s.withCSVExport(s.withRequirements(routes[i].handler), s.exportCIs)
		}
		if routes[i].Method == "GET" && routes[i].Path == "/relations" {
			routes[i].handler = s.withCSVExport(routes[i].handler, s.exportRelations)
		}
	}
	return routes
}

func ciFilter(values url.Values) (cmdb.CIFilter, error) {
	q := newQuery(values)
	f := cmdb.CIFilter{
		Class: q.str("class"), Site: q.str("site"), Environment: q.str("environment"),
		Status: q.oneOf("status", cmdb.Statuses...), Source: q.str("source"), Owner: q.str("owner"),
		DataBearing: q.boolean("data_bearing"), Query: q.str("q"), UpdatedSince: q.time("updated_since"),
	}
	return f, q.err()
}

func (s *Server) listCIs(ctx context.Context, values url.Values, page orchestrator.Page) (orchestrator.List[cmdb.CI], error) {
	f, err := ciFilter(values)
	if err != nil {
		return orchestrator.List[cmdb.CI]{}, err
	}
	return s.svc.CMDB.ListCIs(ctx, f, page)
}

func relationFilter(values url.Values) (cmdb.RelationFilter, error) {
	q := newQuery(values)
	f := cmdb.RelationFilter{From: q.str("from"), To: q.str("to"), CI: q.str("ci"),
		Type: q.oneOf("type", cmdb.RelationTypes...), Group: q.str("group")}
	return f, q.err()
}

func (s *Server) listRelations(ctx context.Context, values url.Values, page orchestrator.Page) (orchestrator.List[cmdb.Relation], error) {
	f, err := relationFilter(values)
	if err != nil {
		return orchestrator.List[cmdb.Relation]{}, err
	}
	return s.svc.CMDB.ListRelations(ctx, f, page)
}

// withCSVExport answers ?format=csv with export and anything else with
// the JSON list handler.
func (s *Server) withCSVExport(list gin.HandlerFunc, export func(c *gin.Context, values url.Values, w *csv.Writer) error) gin.HandlerFunc {
	return func(c *gin.Context) {
		values := c.Request.URL.Query()
		switch values.Get("format") {
		case "", "json":
			values.Del("format")
			c.Request.URL.RawQuery = values.Encode()
			list(c)
			return
		case "csv":
		default:
			s.writeError(c, &orchestrator.Error{Code: orchestrator.EINVALID, Message: "unknown format",
				Fields: []orchestrator.FieldError{{Field: "format", Message: "must be json or csv"}}})
			return
		}
		values.Del("format")
		c.Header("Content-Type", "text/csv; charset=utf-8")
		c.Status(http.StatusOK)
		w := csv.NewWriter(c.Writer)
		err := export(c, values, w)
		if err == nil {
			w.Flush()
			err = w.Error()
		}
		switch {
		case err == nil:
		case !c.Writer.Written():
			c.Header("Content-Type", "")
			s.writeError(c, err)
		default:
			// The status line is gone; all that is left is to log and cut the body short.
			s.logger.Error("csv export failed", "route", c.FullPath(), "request_id", requestID(c), "error", err)
			panic(http.ErrAbortHandler)
		}
	}
}

var ciCSVHeader = []string{"key", "name", "class", "environment", "site", "owner", "status", "data_bearing",
	"recovery_strategy", "recovery_estimate", "attributes", "service", "source", "external_id"}

func (s *Server) exportCIs(c *gin.Context, values url.Values, w *csv.Writer) error {
	f, err := ciFilter(values)
	if err != nil {
		return err
	}
	if err := w.Write(ciCSVHeader); err != nil {
		return err
	}
	return s.svc.CMDB.EachCI(c.Request.Context(), f, func(ci cmdb.CI) error {
		attrs, _ := json.Marshal(ci.Attributes)
		service := ""
		if ci.Service != nil {
			b, _ := json.Marshal(ci.Service)
			service = string(b)
		}
		return w.Write(orchestrator.SpreadsheetSafe(ci.Key, ci.Name, ci.Class, ci.Environment, ci.Site, ci.Owner, ci.Status,
			strconv.FormatBool(ci.DataBearing), ci.RecoveryStrategy, ci.RecoveryEstimate.String(), string(attrs), service,
			ci.Source, ci.ExternalID))
	})
}

func (s *Server) exportRelations(c *gin.Context, values url.Values, w *csv.Writer) error {
	f, err := relationFilter(values)
	if err != nil {
		return err
	}
	if err := w.Write([]string{"from", "to", "type", "group", "min_up", "source", "external_id",
		"failover_estimate", "activation", "replication", "lag"}); err != nil {
		return err
	}
	return s.svc.CMDB.EachRelation(c.Request.Context(), f, func(r cmdb.Relation) error {
		return w.Write(orchestrator.SpreadsheetSafe(r.From, r.To, r.Type, r.Group, strconv.Itoa(r.MinUp), r.Source, r.ExternalID,
			optionalDuration(r.FailoverEstimate), r.Activation, r.Replication, optionalDuration(r.Lag)))
	})
}

// optionalDuration writes a duration for CSV, "" when it is not set.
func optionalDuration(d *orchestrator.Duration) string {
	if d == nil {
		return ""
	}
	return d.String()
}
