// Package api serves bcdr's REST API: the gin router, the one route table
// that also drives authorisation, handlers, the error mapper and the
// embedded OpenAPI contract.
package api

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/bcdr/bcdr/drills"
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
	"github.com/bcdr/bcdr/report"
	"github.com/bcdr/bcdr/runbooks"
	"github.com/bcdr/bcdr/runbooks/execution"
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
	// Executions runs runbooks: invocations and drills.
	Executions *execution.Service
	// Drills plans, runs and scores drills and keeps the findings.
	Drills *drills.Service
	// Report scores readiness and keeps its daily history.
	Report *report.Service
	// Reports makes every report: the executive recovery status report and
	// the others.
	Reports *report.Reports
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
	AuthThrottle auth.ThrottleOptions
	// Throttle, when set, is the throttle to share (with the web UI's
	// logins) instead of one made from AuthThrottle.
	Throttle *auth.Throttle
	// HSTS adds Strict-Transport-Security to every response: set it when
	// the server is reached over TLS.
	HSTS bool
	// TrustedProxies are the addresses and CIDRs of the load balancers in
	// front of the server. A request from one of them is attributed to the
	// client its X-Forwarded-For names (the nearest address not itself a
	// trusted proxy), for throttling and logs; from anyone else the header
	// is ignored. Empty: every request is its peer's. See
	// ParseTrustedProxies.
	TrustedProxies []netip.Prefix
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
	proxies  []netip.Prefix
	// authThrottle counts failed authentications per client address.
	authThrottle *auth.Throttle
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
		proxies:  opts.TrustedProxies,

		authThrottle: opts.Throttle,
	}
	if s.authThrottle == nil {
		s.authThrottle = auth.NewThrottle(opts.AuthThrottle)
	}
	s.metrics = newHTTPMetrics(opts.Registry, opts.Pool)
	s.router = s.buildRouter()
	return s
}

// ServeHTTP makes the Server an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.router.ServeHTTP(w, r) }

func (s *Server) buildRouter() *gin.Engine {
	r := gin.New()
	// gin trusts every proxy unless told otherwise; only the configured
	// ones are, and only through X-Forwarded-For.
	proxies := make([]string, len(s.proxies))
	for i, p := range s.proxies {
		proxies[i] = p.String()
	}
	if err := r.SetTrustedProxies(proxies); err != nil {
		panic(fmt.Sprintf("trusted proxies %v: %v", proxies, err)) // ParseTrustedProxies made them
	}
	r.RemoteIPHeaders = []string{"X-Forwarded-For"}
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
		if rt.SelfAuth {
			v1.Handle(rt.Method, rt.Path, s.limit(rt), rt.handler)
			continue
		}
		v1.Handle(rt.Method, rt.Path, s.limit(rt), s.authenticate, s.authorize(rt), rt.handler)
	}
	return r
}
