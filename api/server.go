// Package api serves bcdr's REST API: the gin router, the one route table
// that also drives authorisation, handlers, the error mapper and the
// embedded OpenAPI contract.
package api

import (
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

// Services are the capability services the handlers call. The
// composition root (cmd/bcdr) builds them once over one pool and shares
// them with the scheduler, so the API and scheduled work see one graph
// cache and one clock.
type Services struct {
	Tokens    *auth.Service
	CMDB      *cmdb.Service
	Imports   importer.Registry
	Directory *directory.Service
	ITSM      *itsm.Store
	Schedules *scheduler.Service
	Notify    *notify.Service
	Impact    *impact.Service
	Runbooks  *runbooks.Service
	Backups   *backup.Service
}

// Options configure a Server.
type Options struct {
	Pool     *pgxpool.Pool
	Migrator *postgres.Migrator
	Runtime  orchestrator.Runtime
	Services Services
	// BaseURL is the externally visible root URL, used in links.
	BaseURL string
	// Registry receives the server's metrics; nil makes a private one.
	Registry *prometheus.Registry
	// AuthThrottle limits failed authentications per client address.
	AuthThrottle ThrottleOptions
	// HSTS adds Strict-Transport-Security to every response: set it when
	// the server is reached over TLS.
	HSTS bool
}

// Server holds the handlers' dependencies.
type Server struct {
	svc      Services
	pool     *pgxpool.Pool
	migrator *postgres.Migrator
	rt       orchestrator.Runtime
	logger   *slog.Logger
	baseURL  string
	registry *prometheus.Registry
	metrics  *httpMetrics
	router   *gin.Engine
	hsts     bool
	// authThrottle counts failed authentications per client address.
	authThrottle *failureThrottle
}

// NewServer builds the router over services the caller wired.
func NewServer(opts Options) *Server {
	if opts.Registry == nil {
		opts.Registry = prometheus.NewRegistry()
	}
	gin.SetMode(gin.ReleaseMode)
	s := &Server{
		svc:      opts.Services,
		pool:     opts.Pool,
		migrator: opts.Migrator,
		rt:       opts.Runtime,
		logger:   opts.Runtime.Log(),
		baseURL:  opts.BaseURL,
		registry: opts.Registry,
		hsts:     opts.HSTS,

		authThrottle: newFailureThrottle(opts.AuthThrottle),
	}
	s.metrics = newHTTPMetrics(opts.Registry, opts.Pool)
	s.router = s.buildRouter()
	return s
}

// ServeHTTP makes the Server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.router.ServeHTTP(w, r) }

func (s *Server) buildRouter() *gin.Engine {
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.ContextWithFallback = true
	if s.hsts {
		r.Use(s.strictTransport)
	}
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
