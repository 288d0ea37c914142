package web

import (
	"context"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bcdr/bcdr/orchestrator"
	"github.com/bcdr/bcdr/orchestrator/auth"
)

// Cookies the UI sets.
const (
	sessionCookie = "bcdr_session"
	langCookie    = "bcdr_lang"
)

// signedIn serves next to a signed-in person whose role is one of roles:
// anyone else is sent to sign in, and a role that may not open the page is
// told so (403), as the API would answer.
func (u *UI) signedIn(roles []orchestrator.Role, next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		secret := ""
		if c, err := r.Cookie(sessionCookie); err == nil {
			secret = c.Value
		}
		actor, err := u.svc.Tokens.Session(r.Context(), secret)
		if orchestrator.ErrorCode(err) == orchestrator.EUNAUTHORIZED {
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		if err != nil {
			u.fail(w, r, err)
			return
		}
		ctx := orchestrator.WithActor(r.Context(), actor)
		r = r.WithContext(ctx)
		if !actor.Role.Allowed(roles) {
			u.render(w, r, http.StatusForbidden, "error", errorView{Message: words(language(r))("forbidden")})
			return
		}
		next(w, r)
	})
}

// loginView is what the sign-in page shows.
type loginView struct {
	Next  string
	Error string
}

func (u *UI) loginPage(w http.ResponseWriter, r *http.Request) {
	u.render(w, r, http.StatusOK, "login", loginView{Next: safeNext(r.URL.Query().Get("next"))})
}

// login signs in with a token: a failure is charged to the client's
// budget in the throttle the API shares, and a client over it is refused
// before its token is looked at.
func (u *UI) login(w http.ResponseWriter, r *http.Request) {
	t := words(language(r))
	next := safeNext(r.PostFormValue("next"))
	client := auth.ThrottleKey(peerHost(r.RemoteAddr))
	if wait := u.throttle.Wait(client, u.rt.Now()); wait > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		u.render(w, r, http.StatusTooManyRequests, "login", loginView{Next: next, Error: t("throttled")})
		return
	}
	secret, actor, err := u.svc.Tokens.StartSession(r.Context(), strings.TrimSpace(r.PostFormValue("token")))
	if orchestrator.ErrorCode(err) == orchestrator.EUNAUTHORIZED {
		u.log.LogAttrs(r.Context(), slog.LevelWarn, "sign-in failed", slog.String("client", client))
		u.throttle.Fail(client, u.rt.Now())
		u.render(w, r, http.StatusUnauthorized, "login", loginView{Next: next, Error: t("bad_token")})
		return
	}
	if err != nil {
		u.fail(w, r, err)
		return
	}
	u.log.LogAttrs(r.Context(), slog.LevelInfo, "signed in", slog.String("actor", actor.Name), slog.String("role", string(actor.Role)))
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: secret, Path: "/", HttpOnly: true, Secure: u.secure,
		SameSite: http.SameSiteLaxMode, MaxAge: int(auth.SessionLifetime / time.Second)})
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (u *UI) logout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		if err := u.svc.Tokens.EndSession(r.Context(), c.Value); err != nil {
			u.fail(w, r, err)
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", HttpOnly: true, Secure: u.secure,
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// setLanguage keeps the language chosen with the switch for a year.
func (u *UI) setLanguage(w http.ResponseWriter, r *http.Request) {
	lang := r.PostFormValue("lang")
	if !slices.Contains(languages, lang) {
		lang = langEN
	}
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: lang, Path: "/", Secure: u.secure,
		SameSite: http.SameSiteLaxMode, MaxAge: 365 * 24 * 3600})
	http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
}

// safeNext is where to go after signing in: a path on this site, never
// another site ("//evil.example", "https://…").
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	return next
}

// peerHost is the TCP peer's address.
func peerHost(remoteAddr string) string {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		return remoteAddr
	}
	return host
}

// actor is the signed-in person.
func actor(ctx context.Context) orchestrator.Actor { return orchestrator.ActorFrom(ctx) }
