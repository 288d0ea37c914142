package api

import (
	"time"

	"github.com/gin-gonic/gin"

	"github.com/bcdr/bcdr/orchestrator"
)

const apiPrefix = "/api/v1"

// Route is one API operation and the roles allowed to call it. The table
// returned by routes is the single source of both routing and RBAC.
type Route struct {
	Method string
	Path   string // gin syntax, relative to /api/v1: "/tokens/:id"
	Roles  []orchestrator.Role
	// BodyLimit and Timeout override the defaults for routes that stream.
	BodyLimit int64
	Timeout   time.Duration
	// SelfAuth marks a route whose handler authenticates the request
	// itself and takes no bearer token: the calendar feed, which calendar
	// clients open with a feed token in its URL. It has no Roles;
	// openapi.yaml marks it x-auth instead of x-roles.
	SelfAuth bool
	handler  gin.HandlerFunc
}

// Role sets used by the table (orchestrator's, shared with the web UI).
var (
	everyone     = orchestrator.Roles
	adminOnly    = orchestrator.AdminRoles
	auditReads   = orchestrator.AuditRoles
	recordReads  = orchestrator.RecordReaders
	recordWrites = orchestrator.RecordWriters
	checkRuns    = orchestrator.CheckRunners
	reportReads  = orchestrator.ReportReaders
)

// routes is the whole table: each capability contributes its own slice.
func (s *Server) routes() []Route {
	var all []Route
	for _, part := range [][]Route{
		s.systemRoutes(),
		s.directoryRoutes(),
		s.cmdbRoutes(),
		s.importRoutes(),
		s.itsmRoutes(),
		s.scheduleRoutes(),
		s.backupRoutes(),
		s.impactRoutes(),
		s.runbookRoutes(),
		s.executionRoutes(),
		s.drillRoutes(),
		s.findingRoutes(),
		s.drillProgrammeRoutes(),
		s.notifyRoutes(),
		s.readinessRoutes(),
		s.reportRoutes(),
	} {
		all = append(all, part...)
	}
	return all
}

func (s *Server) systemRoutes() []Route {
	return []Route{
		{Method: "GET", Path: "/openapi.yaml", Roles: everyone, handler: s.serveSpec},
		{Method: "GET", Path: "/whoami", Roles: everyone, handler: s.whoami},

		{Method: "GET", Path: "/tokens", Roles: adminOnly, handler: s.listTokens},
		{Method: "POST", Path: "/tokens", Roles: adminOnly, handler: s.createToken},
		{Method: "DELETE", Path: "/tokens/:id", Roles: adminOnly, handler: s.revokeToken},

		{Method: "GET", Path: "/audit", Roles: auditReads, handler: s.listAudit},
		{Method: "GET", Path: "/audit/verify", Roles: auditReads, handler: s.verifyAudit},
	}
}

// Routes returns the route table without handlers, for tests and docs.
func (s *Server) Routes() []Route {
	rs := s.routes()
	for i := range rs {
		rs[i].handler = nil
	}
	return rs
}
