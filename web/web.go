// Package web is bcdr's server-rendered UI: html/template pages with htmx
// for partial updates, embedded in the binary, in English and Simplified
// Chinese. It adds no business rule: every page calls the services the API
// calls, and the roles the API applies route by route apply page by page
// and button by button (orchestrator's role sets).
//
// A person signs in with an API token; the browser then holds a session
// cookie (HttpOnly, SameSite=Lax, Secure over TLS) whose secret only the
// auth capability can resolve. State-changing requests are refused when
// they come from another origin (http.CrossOriginProtection), and the
// content security policy allows no inline script or style.
package web

import (
	"context"
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"

	"github.com/bcdr/bcdr/drills"
	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/auth"
	"github.com/bcdr/bcdr/orchestrator/backup"
	"github.com/bcdr/bcdr/orchestrator/cmdb"
	"github.com/bcdr/bcdr/orchestrator/impact"
	"github.com/bcdr/bcdr/orchestrator/importer"
	"github.com/bcdr/bcdr/orchestrator/itsm"
	"github.com/bcdr/bcdr/orchestrator/notify"
	"github.com/bcdr/bcdr/orchestrator/scheduler"
	"github.com/bcdr/bcdr/report"
	"github.com/bcdr/bcdr/runbooks"
	"github.com/bcdr/bcdr/runbooks/execution"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Services are what the pages read and do: the services the API calls.
type Services struct {
	Tokens     *auth.Service
	CMDB       *cmdb.Service
	ITSM       *itsm.Store
	Imports    importer.Registry
	Schedules  *scheduler.Service
	Impact     *impact.Service
	Runbooks   *runbooks.Service
	Executions *execution.Service
	Drills     *drills.Service
	Report     *report.Service
	Reports    *report.Reports
	Backups    *backup.Service
	Notify     *notify.Service
	// Pool is the database: the audit log is read and verified there, and
	// imports run on it.
	Pool *pgxpool.Pool
}

// Options configure the UI.
type Options struct {
	Services Services
	Runtime  orchestrator.Runtime
	// Throttle is the failed-authentication throttle the API shares, so
	// that a client guessing tokens has one budget whichever door it uses.
	Throttle *auth.Throttle
	// SecureCookies marks the session cookie Secure: bcdr serves TLS.
	SecureCookies bool
}

// UI is the web UI's HTTP handler.
type UI struct {
	svc      Services
	rt       orchestrator.Runtime
	log      *slog.Logger
	throttle *auth.Throttle
	secure   bool
	pages    map[string]*template.Template
	mux      *http.ServeMux
	handler  http.Handler
	// closing ends the event streams when the server shuts down, so that
	// an open board does not hold the shutdown up.
	closing  context.Context
	shutdown context.CancelFunc
	// importing are the imports the UI runs in the background; kits are
	// the offline kits it makes.
	importing *importJobs
	kits      kitJobs
	// all are the signed-in pages, for the mux and the menu.
	all []page
}

// New builds the UI.
func New(opts Options) *UI {
	u := &UI{svc: opts.Services, rt: opts.Runtime, log: opts.Runtime.Log().With("component", "web"),
		throttle: opts.Throttle, secure: opts.SecureCookies, mux: http.NewServeMux(), importing: newImportJobs()}
	if u.throttle == nil {
		u.throttle = auth.NewThrottle(auth.ThrottleOptions{})
	}
	u.closing, u.shutdown = context.WithCancel(context.Background())
	u.pages = parsePages()
	static, _ := fs.Sub(staticFS, "static")
	u.mux.Handle("GET /static/", http.StripPrefix("/static/", cacheFor(http.FileServerFS(static))))
	u.mux.HandleFunc("GET /login", u.loginPage)
	u.mux.HandleFunc("POST /login", u.login)
	u.mux.HandleFunc("POST /logout", u.logout)
	u.mux.HandleFunc("POST /lang", u.setLanguage)
	u.all = u.routes()
	for _, p := range u.all {
		u.mux.Handle(p.pattern, u.signedIn(p.roles, p.handler))
	}
	u.mux.HandleFunc("/", u.notFound)
	u.handler = securityHeaders(http.NewCrossOriginProtection().Handler(u.mux))
	return u
}

// Shutdown ends the UI's event streams; the server calls it as it shuts
// down (http.Server.RegisterOnShutdown).
func (u *UI) Shutdown() { u.shutdown() }

// ServeHTTP makes the UI an http.Handler.
func (u *UI) ServeHTTP(w http.ResponseWriter, r *http.Request) { u.handler.ServeHTTP(w, r) }

// page is one signed-in page and the roles that may open it; a page with
// a menu key is in the navigation (for the roles that may open it).
type page struct {
	pattern string
	roles   []orchestrator.Role
	handler http.HandlerFunc
	menu    string
}

// routes are the signed-in pages, a group per file, in menu order.
func (u *UI) routes() []page {
	var all []page
	for _, group := range [][]page{
		u.dashboardPages(),
		u.servicePages(),
		u.biaPages(),
		u.cmdbPages(),
		u.whatifPages(),
		u.runbookPages(),
		u.runbookEditPages(),
		u.executionPages(),
		u.drillPages(),
		u.backupPages(),
		u.reportPages(),
		u.adminPages(),
		u.settingsPages(),
		u.importPages(),
	} {
		all = append(all, group...)
	}
	return all
}

// contentSecurityPolicy allows the UI's own script, style and images and
// nothing inline; a report opened from it replaces it with reportPolicy
// (a report is one self-contained file with inline CSS and no script).
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// securityHeaders sets the headers every answer carries.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		next.ServeHTTP(w, r)
	})
}

// cacheFor lets browsers keep the embedded static files for a day.
func cacheFor(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=86400")
		next.ServeHTTP(w, r)
	})
}
