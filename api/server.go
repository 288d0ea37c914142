// Package api serves bcdr's REST API: the gin router, the one route table
// that also drives authorisation, handlers, the error mapper and the
// embedded OpenAPI contract.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/auth"
	"github.com/bcdr/bcdr/orchestrator/backup"
	"github.com/bcdr/bcdr/orchestrator/cmdb"
	"github.com/bcdr/bcdr/orchestrator/directory"
	"github.com/bcdr/bcdr/orchestrator/impact"
	"github.com/bcdr/bcdr/orchestrator/importer"
	"github.com/bcdr/bcdr/orchestrator/itsm"
	"github.com/bcdr/bcdr/orchestrator/notify"
	"github.com/bcdr/bcdr/orchestrator/postgres"
	"github.com/bcdr/bcdr/orchestrator/scheduler"
	"github.com/bcdr/bcdr/runbooks"
)

// Defaults for request handling; a route may raise them.
const (
	defaultBodyLimit = 1 << 20
	defaultTimeout   = 30 * time.Second
)

// Options configure a Server.
type Options struct {
	Pool     *pgxpool.Pool
	Migrator *postgres.Migrator
	Logger   *slog.Logger
	// BaseURL is the externally visible root URL, used in links.
	BaseURL string
	// Registry receives the server's metrics; nil makes a private one.
	Registry *prometheus.Registry
}

// Server holds the handlers' dependencies.
type Server struct {
	pool     *pgxpool.Pool
	migrator *postgres.Migrator
	logger   *slog.Logger
	baseURL  string
	registry *prometheus.Registry
	metrics  *httpMetrics
	router   *gin.Engine

	// The capability services the handlers call.
	tokens    *auth.Service
	cmdb      *cmdb.Service
	imports   importer.Registry
	directory *directory.Service
	itsm      *itsm.Store
	schedules *scheduler.Service
	impact    *impact.Service
	runbooks  *runbooks.Service
	backup    *backup.Service
	notify    *notify.Service
}

// NewServer wires the services over the pool and builds the router.
func NewServer(opts Options) *Server {
	if opts.Registry == nil {
		opts.Registry = prometheus.NewRegistry()
	}
	gin.SetMode(gin.ReleaseMode)
	s := &Server{
		pool:      opts.Pool,
		migrator:  opts.Migrator,
		logger:    opts.Logger,
		baseURL:   opts.BaseURL,
		registry:  opts.Registry,
		tokens:    auth.NewService(opts.Pool),
		cmdb:      cmdb.NewService(opts.Pool),
		imports:   ImportRegistry(),
		directory: directory.NewService(opts.Pool, orchestrator.SystemClock{}),
		itsm:      itsm.NewStore(opts.Pool),
		schedules: scheduler.NewService(opts.Pool, nil),
		notify:    notify.NewService(opts.Pool, nil),
		impact:    impact.NewService(opts.Pool, impact.NewGraphCache(opts.Pool, opts.Logger), orchestrator.SystemClock{}),
	}
	s.backup = backup.NewService(opts.Pool, backup.Options{Logger: opts.Logger, RequiredRPO: s.requiredRPO})
	s.runbooks = runbooks.NewService(opts.Pool, runbooks.Options{Model: runbooks.NewPGModel(opts.Pool, s.impact.Graphs())})
	s.metrics = newHTTPMetrics(opts.Registry, opts.Pool)
	s.router = s.buildRouter()
	return s
}

// requiredRPO is the CI's rolled-down RPO requirement, nil when no service
// with an approved BIA needs the CI.
func (s *Server) requiredRPO(ctx context.Context, ciKey string) (*orchestrator.Duration, error) {
	r, err := s.impact.Requirements(ctx, ciKey)
	if orchestrator.ErrorCode(err) == orchestrator.ENOTFOUND {
		return nil, nil
	}
	return r.RPO, err
}

// Backups is the backup service the handlers use, for the scheduler's
// backup checks on this replica.
func (s *Server) Backups() *backup.Service { return s.backup }

// Runbooks is the runbook service the handlers use, for scheduled kit exports.
func (s *Server) Runbooks() *runbooks.Service { return s.runbooks }

// ServeHTTP makes the Server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.router.ServeHTTP(w, r) }

func (s *Server) buildRouter() *gin.Engine {
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.ContextWithFallback = true
	r.Use(s.requestID, s.observe, s.recoverPanic)
	r.NoRoute(func(c *gin.Context) { s.writeError(c, errNoRoute) })
	r.NoMethod(func(c *gin.Context) { s.writeError(c, errNoMethod) })

	r.GET("/healthz", s.healthz)
	r.GET("/readyz", s.readyz)
	r.GET("/metrics", s.serveMetrics)

	v1 := r.Group(apiPrefix)
	for _, rt := range s.routes() {
		v1.Handle(rt.Method, rt.Path, s.limit(rt), s.authenticate, s.authorize(rt), rt.handler)
	}
	return r
}
