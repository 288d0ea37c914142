package web

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/bcdr/bcdr/orchestrator"
)

// parsePages parses every page with the layout: a page template defines
// "title" and "content".
func parsePages() map[string]*template.Template {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	out := map[string]*template.Template{}
	for _, name := range names {
		base := strings.TrimSuffix(path.Base(name), ".html")
		if base == "layout" {
			continue
		}
		out[base] = template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", name))
	}
	return out
}

// funcs format values in the pages.
var funcs = template.FuncMap{
	"dur": func(d any) string {
		switch v := d.(type) {
		case orchestrator.Duration:
			return v.String()
		case *orchestrator.Duration:
			if v != nil {
				return v.String()
			}
		}
		return "—"
	},
	"day": func(t any) string {
		switch v := t.(type) {
		case time.Time:
			return v.UTC().Format("2006-01-02")
		case *time.Time:
			if v != nil {
				return v.UTC().Format("2006-01-02")
			}
		}
		return "—"
	},
	"pct":  func(f float64) string { return fmt.Sprintf("%.0f%%", 100*f) },
	"mulf": func(a, b float64) float64 { return a * b },
	"tier": func(t *int) string {
		if t == nil {
			return "—"
		}
		return fmt.Sprint(*t)
	},
}

// view is what the layout draws around a page's data.
type view struct {
	Lang  string
	Path  string
	Actor orchestrator.Actor
	Nav   []navItem
	Data  any
	words func(string) string
}

// T is the word for key in the page's language.
func (v view) T(key string) string { return v.words(key) }

// Capped names what holds a service's status back ("rto_infeasible,
// rpo_breached") in the page's words.
func (v view) Capped(codes string) string {
	if codes == "" {
		return "—"
	}
	parts := strings.Split(codes, ",")
	for i, c := range parts {
		parts[i] = v.words("capped_" + strings.TrimSpace(c))
	}
	return strings.Join(parts, v.words("list_sep"))
}

// Shows reports whether the navigation holds the page key: the actor may
// open it, so links to it are drawn.
func (v view) Shows(key string) bool {
	return slices.ContainsFunc(v.Nav, func(n navItem) bool { return n.Key == key })
}

// navItem is a link in the navigation, shown only to roles that may open
// its page.
type navItem struct {
	Href, Key string
	Current   bool
}

// nav lists the menu pages the actor may open, in menu order.
func (u *UI) nav(r *http.Request, a orchestrator.Actor) []navItem {
	var out []navItem
	for _, p := range u.all {
		if p.menu == "" || !a.Role.Allowed(p.roles) {
			continue
		}
		_, path, _ := strings.Cut(strings.TrimSuffix(p.pattern, "{$}"), " ")
		current := r.URL.Path == path || path != "/" && strings.HasPrefix(r.URL.Path, path)
		out = append(out, navItem{Href: path, Key: p.menu, Current: current})
	}
	return out
}

// render writes page name with data in the request's language.
func (u *UI) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	lang := language(r)
	a, signedIn := orchestrator.LookupActor(r.Context())
	v := view{Lang: lang, Path: r.URL.RequestURI(), Data: data, words: words(lang)}
	if signedIn {
		v.Actor, v.Nav = a, u.nav(r, a)
	}
	var buf bytes.Buffer
	if err := u.pages[name].Execute(&buf, v); err != nil {
		u.log.Error("render page", "page", name, "err", err.Error())
		http.Error(w, "the page could not be drawn", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// errorView is what the error page shows.
type errorView struct{ Message string }

// fail answers an error: an application error's own message and status,
// anything else as an internal error, logged.
func (u *UI) fail(w http.ResponseWriter, r *http.Request, err error) {
	status := http.StatusInternalServerError
	msg := words(language(r))("internal")
	switch orchestrator.ErrorCode(err) {
	case orchestrator.ENOTFOUND:
		status, msg = http.StatusNotFound, err.Error()
	case orchestrator.EFORBIDDEN:
		status, msg = http.StatusForbidden, err.Error()
	case orchestrator.EINVALID:
		status, msg = http.StatusUnprocessableEntity, err.Error()
	case orchestrator.EUNAVAILABLE:
		status, msg = http.StatusServiceUnavailable, err.Error()
	case orchestrator.ECONFLICT:
		status, msg = http.StatusConflict, err.Error()
	default:
		u.log.Error("page failed", "path", r.URL.Path, "err", err.Error())
	}
	u.render(w, r, status, "error", errorView{Message: msg})
}

func (u *UI) notFound(w http.ResponseWriter, r *http.Request) {
	u.render(w, r, http.StatusNotFound, "error", errorView{Message: words(language(r))("not_found")})
}
